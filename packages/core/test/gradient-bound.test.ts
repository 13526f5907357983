/** The poisoned-gradient bound: honest shards of any size pass, absurd ones are refused. */
import { describe, expect, it } from 'vitest';
import { GradientBound } from '../src/gradient-bound.js';
import { rngFor, STREAM } from '../src/prng.js';

const norm = GradientBound.normPerExample;

/** The sum over n examples whose gradients are mu + sigma * noise, in `dim` dimensions. */
function shardSum(n: number, dim: number, mu: number, sigma: number, seed: number): Float32Array {
  const rng = rngFor(seed, STREAM.data, n);
  const g = new Float32Array(dim);
  for (let j = 0; j < n; j++) for (let i = 0; i < dim; i++) g[i] += mu + sigma * rng.normal();
  return g;
}

describe('GradientBound', () => {
  it('never refuses an honest shard of 1 to 64 examples, early (signal) or late (noise) in training', () => {
    for (const [mu, sigma] of [
      [1, 0.5],
      [0.005, 0.3],
    ]) {
      const b = new GradientBound(50);
      for (let k = 0; k < 64; k++) b.record(norm(shardSum(64, 200, mu, sigma, k), 64));
      for (let k = 0; k < 300; k++) {
        const n = 1 + (k % 64);
        const g = shardSum(n, 200, mu, sigma, 1000 + k);
        expect(() => b.check(norm(g, n), `shard ${k}`)).not.toThrow();
        b.record(norm(g, n));
      }
    }
  });

  it('refuses a finite gradient 1e30 times too large, naming the worker', () => {
    const b = new GradientBound(50);
    for (let k = 0; k < 8; k++) b.record(norm(shardSum(32, 50, 0.1, 0.3, k), 32));
    const bad = shardSum(32, 50, 0.1, 0.3, 99).map((x) => x * 1e30);
    expect(() => b.check(norm(bad, 32), 'worker p3')).toThrow(
      /worker p3: gradient norm per example .* is over 50x the median/,
    );
  });

  it('sets no bound before it has seen a few shards', () => {
    const b = new GradientBound(50);
    expect(() => b.check(norm(Float32Array.of(1e30), 1), 'first')).not.toThrow();
    expect(() => new GradientBound(1)).toThrow(/must be > 1/);
  });
});
