/**
 * The size buckets a webgpu worker computes shards in (shardRows): never fewer rows than examples,
 * few distinct buckets (each compiles its programs once), little padding where shards are large.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shardRows } from '../src/shard.js';

describe('shardRows', () => {
  it('is a power of two up to 64, then the next multiple of 64', () => {
    expect([1, 2, 3, 5, 33, 64, 65, 100, 128, 129, 2047, 2048].map(shardRows)).toEqual([
      1, 2, 4, 8, 64, 64, 128, 128, 128, 192, 2048, 2048,
    ]);
  });

  it('holds every shard, pads at most 63 rows past 64, and sizes up to 2048 fall in 38 buckets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (n) => {
        const r = shardRows(n);
        expect(r).toBeGreaterThanOrEqual(n);
        if (n > 64) expect(r - n).toBeLessThan(64);
        else expect(r).toBeLessThan(2 * n);
      }),
    );
    const buckets = new Set(Array.from({ length: 2048 }, (_, i) => shardRows(i + 1)));
    // 1, 2, 4, ..., 64 and 128, 192, ..., 2048
    expect(buckets.size).toBe(7 + 31);
  });
});
