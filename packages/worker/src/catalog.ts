/**
 * What a coordinator may know about workers without loading tfjs: the model zoo, backend names and
 * data-set sizes. (Importing tfjs in a process costs time and prints a banner on stdout.)
 */
import type { ModelSpec } from '@gradroom/core';

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

/** The built-in models for 28x28 grey images (MNIST). */
export const ZOO = {
  'mlp-small': { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  'mlp-wide': { kind: 'mlp', inputShape: [28, 28, 1], hidden: [256, 128], classes: 10 },
  'cnn-small': { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 64, classes: 10 },
} as const satisfies Record<string, ModelSpec>;
export type ZooName = keyof typeof ZOO;

export { MNIST_SIZES } from './data/mnist.js';
