/** Every error gradroom raises on bad input carries a stable machine-readable code. */
export type ErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_LENGTH'
  | 'NON_FINITE'
  | 'BAD_MESSAGE'
  | 'TOO_LARGE'
  | 'BAD_FRAME'
  | 'BAD_STATE'
  | 'STALE'
  | 'UNAUTHORIZED'
  /** A data set is malformed: wrong sizes, a bad label, a NaN feature, a hash that does not match. */
  | 'BAD_DATA'
  /** The run cannot go on: the loss or the weights became NaN or infinite. */
  | 'DIVERGED';

export class GradroomError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'GradroomError';
    this.code = code;
  }
}

export function isGradroomError(e: unknown, code?: ErrorCode): e is GradroomError {
  return e instanceof GradroomError && (code === undefined || e.code === code);
}
