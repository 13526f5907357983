/**
 * What a coordinator may know about workers without loading tfjs: the model zoo, backend names and
 * data-set sizes. (Importing tfjs in a process costs time and prints a banner on stdout.)
 */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
/** Fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function isBackendName(x: string): x is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(x);
}

/** Parses 'webgpu,wasm' into a checked list. */
export function parseBackendList(s: string): BackendName[] {
  const list = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const b of list)
    if (!isBackendName(b)) throw new Error(`unknown backend "${b}" (use ${BACKEND_ORDER.join(', ')})`);
  return list as BackendName[];
}

// The built-in models live in @gradroom/core (zoo.ts), their one definition; re-exported for old imports.
export { ZOO, type ZooName } from '@gradroom/core';
export { FASHION_MNIST_CLASSES, FASHION_MNIST_SIZES, FASHION_MNIST_SMALL_SIZES } from './data/fashion.js';
export { MNIST_SIZES } from './data/mnist.js';
export { datasetName, datasetSizes } from './data/sizes.js';
