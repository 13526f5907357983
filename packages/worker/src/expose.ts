/**
 * The worker side of the comlink seam, shared by the Node thread and Web Worker entry points: the
 * ShardWorker exposed with comlink, its result buffers transferred (not copied), and GradroomError
 * codes kept across the trip.
 */
import * as Comlink from 'comlink';
import type { LocalRequest, ShardRequest } from './api.js';
import { registerComlinkErrors } from './comlink-errors.js';
import type { FetchDataOptions } from './data/url.js';
import { ShardWorker } from './shard-worker.js';

class TransferringWorker extends ShardWorker {
  override async compute(req: ShardRequest) {
    const r = await super.compute(req);
    return Comlink.transfer(r, [r.gradSum.buffer]);
  }
  override async trainLocal(req: LocalRequest) {
    const r = await super.trainLocal(req);
    return r.delta ? Comlink.transfer(r, [r.delta.buffer]) : r;
  }
}

/** Exposes a ShardWorker that reads packed data sets with `readPacked` on `endpoint` (and fetches by URL with `fetchOptions`). */
export function exposeWorker(
  readPacked: (name: string) => Promise<Uint8Array>,
  endpoint: Parameters<typeof Comlink.expose>[1],
  fetchOptions?: FetchDataOptions,
): void {
  registerComlinkErrors();
  Comlink.expose(new TransferringWorker(readPacked, fetchOptions), endpoint);
}
