/**
 * Seeded synthetic classification data for tests and quick runs: Gaussian blobs around class
 * centres. The same (seed, split) gives the same data in every process, so a remote worker can
 * generate its copy instead of downloading it.
 */
import { GradroomError, rngFor, STREAM } from '@gradroom/core';
import type { Dataset } from './dataset.js';

export interface SyntheticOptions {
  seed: number;
  examples: number;
  features: number;
  classes: number;
  split: 'train' | 'test';
}

export function makeSynthetic(o: SyntheticOptions): Dataset {
  if (
    !(o.examples > 0 && o.features > 0 && o.classes > 1 && o.examples <= 1e6 && o.features <= 1e5 && o.classes <= 1000)
  ) {
    throw new GradroomError('BAD_CONFIG', `synthetic data set: bad sizes ${JSON.stringify(o)}`);
  }
  const centres = rngFor(o.seed, STREAM.data, 0);
  const mu = new Float32Array(o.classes * o.features);
  for (let i = 0; i < mu.length; i++) mu[i] = centres.normal() * 1.5;
  const rng = rngFor(o.seed, STREAM.data, o.split === 'train' ? 1 : 2);
  const x = new Float32Array(o.examples * o.features);
  const y = new Uint8Array(o.examples);
  for (let i = 0; i < o.examples; i++) {
    const c = rng.int(o.classes);
    y[i] = c;
    for (let j = 0; j < o.features; j++) x[i * o.features + j] = mu[c * o.features + j] + rng.normal();
  }
  return {
    name: `synthetic/${o.split}`,
    size: o.examples,
    inputShape: [o.features],
    features: o.features,
    classes: o.classes,
    targets: 1,
    x,
    y,
  };
}
