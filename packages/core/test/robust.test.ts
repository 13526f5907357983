import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { rngFor } from '../src/prng.js';
import { robustMean, type ShardGradient, trimCount } from '../src/robust.js';

/** A shard whose MEAN is `means` (gradSum = means x count). */
const shard = (means: number[], count: number): ShardGradient => ({
  gradSum: Float32Array.from(means, (m) => m * count),
  count,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradroomError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('trimCount', () => {
  it('drops nothing below 3 shards, at least one from 3 on, a quarter of many, always leaving one', () => {
    expect([1, 2, 3, 4, 5, 7, 8, 12, 20].map((k) => trimCount(k))).toEqual([0, 0, 1, 1, 1, 1, 2, 3, 5]);
    expect(trimCount(5, 0)).toBe(0);
    expect(trimCount(10, 0.49)).toBe(4);
    expect(trimCount(3, 0.4)).toBe(1);
    expect(codeOf(() => trimCount(4, 0.5))).toBe('BAD_CONFIG');
    expect(codeOf(() => trimCount(4, -0.1))).toBe('BAD_CONFIG');
    expect(codeOf(() => trimCount(0))).toBe('BAD_CONFIG');
  });
});

describe('robustMean (hand-computed references)', () => {
  // means: [1, 2, -3], [3, 3, 3], [10, 0, 2] from shards of 2, 1 and 4 examples
  const three = [shard([1, 2, -3], 2), shard([3, 3, 3], 1), shard([10, 0, 2], 4)];

  it('median of per-shard means, whatever the shard sizes', () => {
    expect(Array.from(robustMean(three, 'median'))).toEqual([3, 2, 2]);
  });

  it('trimmed mean of 3 shards drops the largest and smallest: the median', () => {
    expect(Array.from(robustMean(three, 'trimmed-mean'))).toEqual([3, 2, 2]);
  });

  it('an even count: the median is the mean of the two middle values', () => {
    const four = [shard([1, 2], 3), shard([3, -1], 5), shard([100, 0], 2), shard([5, 4], 7)];
    // coordinate 0 sorted: 1 3 5 100 -> (3+5)/2; coordinate 1: -1 0 2 4 -> (0+2)/2
    expect(Array.from(robustMean(four, 'median'))).toEqual([4, 1]);
    expect(Array.from(robustMean(four, 'trimmed-mean'))).toEqual([4, 1]);
  });

  it('trimmed mean and median differ where the kept values are not symmetric', () => {
    const five = [1, 2, 6, 7, 100].map((m) => shard([m], 4));
    expect(robustMean(five, 'median')[0]).toBe(6);
    expect(robustMean(five, 'trimmed-mean')[0]).toBeCloseTo((2 + 6 + 7) / 3, 6);
    // 8 shards: 2 dropped at each end
    const eight = [-50, 1, 2, 3, 5, 8, 13, 1000].map((m) => shard([m], 1));
    expect(robustMean(eight, 'trimmed-mean')[0]).toBe((2 + 3 + 5 + 8) / 4);
    expect(robustMean(eight, 'median')[0]).toBe(4);
    expect(robustMean(eight, 'trimmed-mean', undefined, { trim: 0 })[0]).toBe(
      (-50 + 1 + 2 + 3 + 5 + 8 + 13 + 1000) / 8,
    );
  });

  it('one or two shards: the (unweighted) mean of their means', () => {
    expect(Array.from(robustMean([shard([2, -4], 8)], 'median'))).toEqual([2, -4]);
    const two = [shard([2, -4], 8), shard([4, 0], 2)];
    expect(Array.from(robustMean(two, 'median'))).toEqual([3, -2]);
    expect(Array.from(robustMean(two, 'trimmed-mean'))).toEqual([3, -2]);
  });

  it('writes into the given buffer', () => {
    const out = new Float32Array(3);
    expect(robustMean(three, 'median', out)).toBe(out);
    expect(Array.from(out)).toEqual([3, 2, 2]);
  });

  it('a minority of hostile shards stays inside the honest range, coordinate by coordinate', () => {
    const r = rngFor(7, 1);
    const P = 64;
    for (let trial = 0; trial < 50; trial++) {
      const honest = Array.from({ length: 5 }, () =>
        shard(
          Array.from({ length: P }, () => r.next() - 0.5),
          1 + Math.floor(r.next() * 32),
        ),
      );
      const hostile = Array.from({ length: 2 }, () =>
        shard(
          Array.from({ length: P }, () => (r.next() < 0.5 ? -1e6 : 1e6)),
          1,
        ),
      );
      for (const mode of ['median', 'trimmed-mean'] as const) {
        // the median of 7 holds against 2 hostile shards; a trimmed mean of 6 drops 1 per side: 1 hostile
        const shards = mode === 'median' ? [...honest, ...hostile] : [...honest, hostile[0]];
        const out = robustMean(shards, mode);
        for (let i = 0; i < P; i++) {
          const means = honest.map((s) => s.gradSum[i] / s.count);
          expect(out[i]).toBeGreaterThanOrEqual(Math.min(...means) - 1e-6);
          expect(out[i]).toBeLessThanOrEqual(Math.max(...means) + 1e-6);
        }
      }
    }
  });

  it('refuses what it cannot aggregate, with a typed error', () => {
    expect(codeOf(() => robustMean([], 'median'))).toBe('BAD_STATE');
    expect(codeOf(() => robustMean(three, 'mean' as never))).toBe('BAD_CONFIG');
    expect(codeOf(() => robustMean(three, 'sum'))).toBe('BAD_CONFIG');
    expect(codeOf(() => robustMean([shard([1, 2], 1), shard([1], 1)], 'median'))).toBe('BAD_LENGTH');
    expect(codeOf(() => robustMean([{ gradSum: new Float32Array(2), count: 0 }], 'median'))).toBe('BAD_MESSAGE');
    expect(codeOf(() => robustMean([{ gradSum: new Float32Array(2), count: 1.5 }], 'median'))).toBe('BAD_MESSAGE');
    expect(codeOf(() => robustMean(three, 'median', new Float32Array(2)))).toBe('BAD_LENGTH');
    expect(codeOf(() => robustMean(three, 'trimmed-mean', undefined, { trim: 0.6 }))).toBe('BAD_CONFIG');
  });
});
