/**
 * Entry point of a browser Web Worker (bundled by the demo's build): the ShardWorker exposed with
 * comlink. The packed MNIST file is fetched from the page's origin.
 */
import type * as Comlink from 'comlink';
import { exposeWorker } from './expose.js';

declare const self: { location: { href: string } } & Parameters<typeof Comlink.expose>[1];

export async function fetchPacked(name: string, base = self.location.href): Promise<Uint8Array> {
  const res = await fetch(new URL(name, base));
  if (!res.ok) throw new Error(`could not fetch ${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const dataBase = new URL(self.location.href).searchParams.get('data') ?? '/data/';
exposeWorker((name) => fetchPacked(name, new URL(dataBase, self.location.href).href), self);
