import { type DatasetSpec, GradroomError } from '@gradroom/core';
import { datasetFromArrays } from './arrays.js';
import { loadChunked } from './chunked.js';
import { type Dataset, validateDataset } from './dataset.js';
import { decodePacked } from './format.js';
import { parseMnist } from './mnist.js';
import { makeSynthetic } from './synthetic.js';
import { type FetchDataOptions, fetchVerified } from './url.js';

/** How this environment reads a packed built-in file (mnist.bin, fashion-mnist.bin, fashion-mnist-small.bin): fs in Node, fetch in a browser. */
export type BytesLoader = (name: string) => Promise<Uint8Array>;

// one read per file and process; a failed read is forgotten so a retry reads again
const cache = new Map<string, Promise<Uint8Array>>();
function once(key: string, read: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let p = cache.get(key);
  if (!p) {
    p = read();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

const chunkedSets = new Map<string, Promise<Dataset>>();

/** A worker holds image files as their bytes (Dataset.pixels): a quarter of the memory, no decoding pass. */
const BYTES = { keepBytes: true };

/** Loads and validates one split of a data set. */
export async function loadDataset(
  spec: DatasetSpec,
  load: BytesLoader,
  fetchOptions?: FetchDataOptions,
): Promise<Dataset> {
  switch (spec.kind) {
    case 'synthetic':
      return makeSynthetic(spec);
    case 'mnist':
      return validateDataset(parseMnist(await once('mnist.bin', () => load('mnist.bin')), spec.split));
    case 'fashion-mnist':
      return validateDataset(
        decodePacked(
          await once('fashion-mnist.bin', () => load('fashion-mnist.bin')),
          spec.split,
          'fashion-mnist',
          BYTES,
        ),
      );
    case 'fashion-mnist-small':
      return validateDataset(
        decodePacked(
          await once('fashion-mnist-small.bin', () => load('fashion-mnist-small.bin')),
          spec.split,
          'fashion-mnist-small',
          BYTES,
        ),
      );
    case 'url': {
      const bytes = await once(`${spec.url}#${spec.sha256}`, () => fetchVerified(spec.url, spec.sha256, fetchOptions));
      return validateDataset(decodePacked(bytes, spec.split, spec.url.split('/').pop() || spec.url, BYTES));
    }
    case 'chunked': {
      // lazy (chunks arrive as tasks need them): one per split, spec and process
      const key = `chunked:${spec.split}:${spec.url}#${spec.sha256}`;
      let ds = chunkedSets.get(key);
      if (!ds) {
        ds = loadChunked(spec, fetchOptions);
        chunkedSets.set(key, ds);
        ds.catch(() => chunkedSets.delete(key));
      }
      return ds;
    }
    case 'arrays':
      return datasetFromArrays(spec, spec.split);
    default:
      throw new GradroomError('BAD_CONFIG', `unknown data set kind ${(spec as { kind: string }).kind}`);
  }
}
