import type { DatasetSpec } from '@gradroom/core';
import type { Dataset } from './dataset.js';
import { parseMnist } from './mnist.js';
import { makeSynthetic } from './synthetic.js';

/** How this environment reads the packed MNIST file: fs in Node, fetch in a browser. */
export type BytesLoader = (name: 'mnist.bin') => Promise<Uint8Array>;

const cache = new Map<string, Promise<Uint8Array>>();

export async function loadDataset(spec: DatasetSpec, load: BytesLoader): Promise<Dataset> {
  if (spec.kind === 'synthetic') return makeSynthetic(spec);
  let bytes = cache.get('mnist.bin');
  if (!bytes) {
    bytes = load('mnist.bin');
    cache.set('mnist.bin', bytes);
  }
  return parseMnist(await bytes, spec.split);
}
