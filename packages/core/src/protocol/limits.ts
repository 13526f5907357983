/** Size bounds of one decoded message (validate.ts and codec.ts apply them). */
/** Size bounds applied while decoding and validating one message. */
export interface CodecLimits {
  /** Encoded size of one message, checked before anything is decoded. */
  maxMessageBytes: number;
  /** Length of `weights`, `gradSum`, and `paramCount`. */
  maxParams: number;
  /** Length of `assign.indices`. */
  maxIndices: number;
  /** Any string, including free text such as error messages and leave reasons. */
  maxStringLength: number;
  /** Identifiers: token, peer name and id, backend names, error codes, tensor names. */
  maxNameLength: number;
  /** Entries of any list other than typed arrays (backends, layout, hidden layers, shapes...). */
  maxListLength: number;
  /** Nesting depth of maps and arrays (a layers topology is the deepest legitimate value). */
  maxDepth: number;
  /** Values of any kind in one message, map keys included; bounds decoding work and memory. */
  maxNodes: number;
}

/** Examples in one 'local' message's prefetch hint (one per chunk a member will need next). */
export const MAX_PREFETCH = 16;

export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = Object.freeze({
  maxMessageBytes: 64 * 1024 * 1024,
  maxParams: 16 * 1024 * 1024,
  maxIndices: 1024 * 1024,
  maxStringLength: 64 * 1024,
  maxNameLength: 256,
  maxListLength: 4096,
  maxDepth: 32,
  maxNodes: 100_000,
});

export function resolveLimits(limits?: Partial<CodecLimits>): CodecLimits {
  return limits ? { ...DEFAULT_CODEC_LIMITS, ...limits } : DEFAULT_CODEC_LIMITS;
}
