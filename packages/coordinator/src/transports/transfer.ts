import * as Comlink from 'comlink';

/** Moves a request's weights (a copy made for this call) to the worker instead of cloning them. */
export function withTransfer<R extends { weights?: Float32Array }>(req: R): R {
  return req.weights ? Comlink.transfer(req, [req.weights.buffer]) : req;
}
