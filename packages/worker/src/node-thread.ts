/**
 * Entry point of a Node worker thread: the ShardWorker exposed with comlink over parentPort.
 * Result buffers are transferred, not copied.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { LocalRequest, ShardRequest } from './api.js';
import { registerComlinkErrors } from './comlink-errors.js';
import { nodeEndpoint } from './comlink-node.js';
import { ShardWorker } from './shard-worker.js';

/** Where the packed data sets live: next to this file, in dist/. */
export async function readPackedFile(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(fileURLToPath(new URL(`./${name}`, import.meta.url))));
}

class ThreadWorker extends ShardWorker {
  override async compute(req: ShardRequest) {
    const r = await super.compute(req);
    return Comlink.transfer(r, [r.gradSum.buffer]);
  }
  override async trainLocal(req: LocalRequest) {
    const r = await super.trainLocal(req);
    return r.delta ? Comlink.transfer(r, [r.delta.buffer]) : r;
  }
}

if (parentPort) {
  registerComlinkErrors();
  Comlink.expose(new ThreadWorker(readPackedFile), nodeEndpoint(parentPort));
}
