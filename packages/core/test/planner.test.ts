import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { iterationsPerEpoch, nextPosition, planEpoch, shuffleEpoch, splitShards } from '../src/planner.js';
import { rngFor, sfc32 } from '../src/prng.js';

describe('seeded PRNG', () => {
  it('is reproducible from its seed words and differs between streams', () => {
    const a = sfc32(42, 1, 3);
    const b = sfc32(42, 1, 3);
    const c = sfc32(42, 1, 4);
    const xa = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 50 }, () => c.next())).not.toEqual(xa);
  });
  it('is roughly uniform and normal', () => {
    const r = rngFor(7, 1);
    const n = 20000;
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < n; i++) buckets[r.int(10)]++;
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(0.06 * (n / 10));
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});

describe('epoch planning', () => {
  it('shuffles into a permutation, reproducible from (seed, epoch), different per epoch', () => {
    const n = 1000;
    const p = shuffleEpoch(3, 0, n);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(shuffleEpoch(3, 0, n)).toEqual(p);
    expect(shuffleEpoch(3, 1, n)).not.toEqual(p);
    expect(shuffleEpoch(4, 0, n)).not.toEqual(p);
  });

  it('covers every example exactly once per epoch, the last mini-batch holding the remainder', () => {
    const plan = planEpoch({ seed: 1, epoch: 2, examples: 1003, batchSize: 64 });
    expect(plan.batches).toBe(Math.ceil(1003 / 64));
    const seen = new Uint8Array(1003);
    for (let b = 0; b < plan.batches; b++) {
      const idx = plan.batch(b);
      expect(idx.length).toBe(b === plan.batches - 1 ? 1003 % 64 : 64);
      for (const i of idx) seen[i]++;
    }
    expect(seen.every((c) => c === 1)).toBe(true);
    expect(() => plan.batch(plan.batches)).toThrow(GradroomError);
  });

  it('batch GD and stochastic GD are the two ends', () => {
    expect(planEpoch({ seed: 1, epoch: 0, examples: 10, batchSize: 10 }).batches).toBe(1);
    expect(planEpoch({ seed: 1, epoch: 0, examples: 10, batchSize: 1 }).batches).toBe(10);
    expect(iterationsPerEpoch(100, 30)).toBe(4);
  });

  it('rejects bad sizes', () => {
    expect(() => planEpoch({ seed: 1, epoch: 0, examples: 0, batchSize: 4 })).toThrow(/examples/);
    expect(() => planEpoch({ seed: 1, epoch: 0, examples: 10, batchSize: 2.5 })).toThrow(/batchSize/);
  });

  it('advances positions across epoch boundaries', () => {
    let p = { epoch: 0, batch: 0, iteration: 0 };
    for (let i = 0; i < 7; i++) p = nextPosition(p, 3);
    expect(p).toEqual({ epoch: 2, batch: 1, iteration: 7 });
  });
});

describe('splitShards', () => {
  it('splits proportionally to speed and sums exactly', () => {
    expect(splitShards(100, [1, 1, 2])).toEqual([25, 25, 50]);
    const s = splitShards(97, [3.3, 1.1, 7.9]);
    expect(s.reduce((a, b) => a + b, 0)).toBe(97);
    const w = [3.3, 1.1, 7.9];
    for (const [i, x] of s.entries()) expect(Math.abs(x - (97 * w[i]) / 12.3)).toBeLessThan(1);
  });
  it('gives zero-speed workers nothing, and drops shards below minShard', () => {
    expect(splitShards(10, [0, 5])).toEqual([0, 10]);
    expect(splitShards(10, [0, 0])).toEqual([5, 5]);
    const s = splitShards(64, [100, 1], { minShard: 8 });
    expect(s).toEqual([64, 0]);
  });
  it('rejects bad input', () => {
    expect(() => splitShards(10, [])).toThrow(GradroomError);
    expect(() => splitShards(10, [Number.NaN])).toThrow(/finite/);
    expect(() => splitShards(-1, [1])).toThrow(/total/);
  });
});
