/**
 * Entry point of a browser Web Worker (bundled by the demo's build): the ShardWorker exposed with
 * comlink. The packed MNIST file is fetched from the page's origin.
 */
import * as Comlink from 'comlink';
import type { LocalRequest, ShardRequest } from './api.js';
import { registerComlinkErrors } from './comlink-errors.js';
import { ShardWorker } from './shard-worker.js';

declare const self: { location: { href: string } } & Parameters<typeof Comlink.expose>[1];

export async function fetchPacked(name: string, base = self.location.href): Promise<Uint8Array> {
  const res = await fetch(new URL(name, base));
  if (!res.ok) throw new Error(`could not fetch ${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

class BrowserWorker extends ShardWorker {
  override async compute(req: ShardRequest) {
    const r = await super.compute(req);
    return Comlink.transfer(r, [r.gradSum.buffer]);
  }
  override async trainLocal(req: LocalRequest) {
    const r = await super.trainLocal(req);
    return r.delta ? Comlink.transfer(r, [r.delta.buffer]) : r;
  }
}

const dataBase = new URL(self.location.href).searchParams.get('data') ?? '/data/';
registerComlinkErrors();
Comlink.expose(new BrowserWorker((name) => fetchPacked(name, new URL(dataBase, self.location.href).href)), self);
