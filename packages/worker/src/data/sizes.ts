import type { DatasetSpec } from '@gradroom/core';
import { FASHION_MNIST_SIZES, FASHION_MNIST_SMALL_SIZES } from './fashion.js';
import { MNIST_SIZES } from './mnist.js';

/**
 * Examples in a data set's splits, known from its spec alone (no download); undefined for a URL,
 * whose sizes are in the file's header.
 */
export function datasetSizes(d: DatasetSpec): { train: number; test: number } | undefined {
  switch (d.kind) {
    case 'mnist':
      return MNIST_SIZES;
    case 'fashion-mnist':
      return FASHION_MNIST_SIZES;
    case 'fashion-mnist-small':
      return FASHION_MNIST_SMALL_SIZES;
    case 'chunked':
      return { train: d.train, test: d.test };
    case 'synthetic':
      return { train: d.examples, test: d.examples };
    case 'arrays': {
      const per = d.classes > 0 ? 1 : d.targets;
      return { train: d.train.y.length / per, test: d.test.y.length / per };
    }
    default:
      return undefined;
  }
}

/**
 * The data set a spec names: its kind, or for a chunked form the folder its manifest is served
 * from (`/data/chunks/mnist/manifest.json`: mnist), the same examples in another order.
 */
export function datasetName(d: DatasetSpec): string {
  return d.kind === 'chunked' ? (new URL(d.url, 'http://x/').pathname.split('/').at(-2) ?? '') : d.kind;
}
