import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregator, type ShardSums } from '../src/aggregate.js';
import { GradroomError } from '../src/errors.js';
import { rngFor } from '../src/prng.js';

const P = 257;

function shard(shardId: number, count: number, seed = shardId): ShardSums {
  const r = rngFor(seed, 99);
  const gradSum = Float32Array.from({ length: P }, () => (r.next() - 0.5) * count * 10);
  return { shardId, gradSum, lossSum: r.next() * count, correct: Math.floor(count / 2), count };
}

/** The independent reference: float64 sums in the given order, divided by the batch size. */
function reference(shards: ShardSums[], batchSize: number): Float32Array {
  const sum = new Float64Array(P);
  for (const s of shards) for (let i = 0; i < P; i++) sum[i] += s.gradSum[i];
  return Float32Array.from(sum, (x) => x / batchSize);
}

function snapshot(a: Aggregator) {
  return { count: a.count, lossSum: a.lossSum, correct: a.correct, shards: a.shards };
}

function errorOf(fn: () => unknown): GradroomError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradroomError) return e;
    throw e;
  }
  throw new Error('nothing thrown');
}

describe('Aggregator', () => {
  it('gives sum / batchSize and totals of loss, correct and count', () => {
    const shards = [shard(0, 10), shard(1, 7), shard(2, 15)];
    const a = new Aggregator(P);
    for (const s of shards) a.add(s);
    expect(a.count).toBe(32);
    expect(a.correct).toBe(5 + 3 + 7);
    expect(a.lossSum).toBeCloseTo(
      shards.reduce((t, s) => t + s.lossSum, 0),
      12,
    );
    expect(a.shards).toBe(3);
    expect(a.has(1)).toBe(true);
    expect(a.has(3)).toBe(false);
    const mean = a.mean(32);
    expect(mean).toBeInstanceOf(Float32Array);
    expect(mean).toEqual(reference(shards, 32));
  });

  it('gives the same mean, within 1e-6 relative, in any order of arrival', () => {
    const shards = Array.from({ length: 12 }, (_, i) => shard(i, 1 + (i % 5) * 3));
    const batch = shards.reduce((t, s) => t + s.count, 0);
    const ref = reference(shards, batch);
    fc.assert(
      fc.property(fc.shuffledSubarray(shards, { minLength: shards.length }), (order) => {
        const a = new Aggregator(P);
        for (const s of order) a.add(s);
        const m = a.mean(batch);
        for (let i = 0; i < P; i++)
          expect(Math.abs(m[i] - ref[i])).toBeLessThanOrEqual(1e-6 * Math.abs(ref[i]) + 1e-30);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects unusable shards, naming them, and leaves its state unchanged', () => {
    const nanAt17 = shard(3, 4);
    nanAt17.gradSum[17] = Number.NaN;
    const infAt0 = shard(3, 4);
    infAt0.gradSum[0] = Number.NEGATIVE_INFINITY;
    const cases: [ShardSums, string, string][] = [
      [
        { ...shard(3, 4), gradSum: new Float32Array(P - 1) },
        'BAD_LENGTH',
        `shard 3: gradient has ${P - 1} values, expected ${P}`,
      ],
      [
        { ...shard(3, 4), gradSum: new Float32Array(P + 1) },
        'BAD_LENGTH',
        `shard 3: gradient has ${P + 1} values, expected ${P}`,
      ],
      [nanAt17, 'NON_FINITE', 'shard 3: gradient holds NaN at index 17'],
      [infAt0, 'NON_FINITE', 'shard 3: gradient holds -Infinity at index 0'],
      [{ ...shard(3, 4), lossSum: Number.POSITIVE_INFINITY }, 'NON_FINITE', 'shard 3: lossSum is Infinity'],
      [{ ...shard(3, 4), lossSum: Number.NaN }, 'NON_FINITE', 'shard 3: lossSum is NaN'],
      [{ ...shard(3, 4), count: 0 }, 'BAD_MESSAGE', 'shard 3: count must be a positive integer, got 0'],
      [{ ...shard(3, 4), count: -2 }, 'BAD_MESSAGE', 'shard 3: count must be a positive integer, got -2'],
      [{ ...shard(3, 4), count: 2.5 }, 'BAD_MESSAGE', 'shard 3: count must be a positive integer, got 2.5'],
      [{ ...shard(3, 4), correct: 5 }, 'BAD_MESSAGE', 'shard 3: correct must be an integer in [0, 4], got 5'],
      [{ ...shard(3, 4), correct: -1 }, 'BAD_MESSAGE', 'shard 3: correct must be an integer in [0, 4], got -1'],
      [{ ...shard(3, 4), shardId: -1 }, 'BAD_MESSAGE', 'shard -1: shardId must be a non-negative integer'],
      [
        { ...shard(3, 4), gradSum: new Float64Array(P) as unknown as Float32Array },
        'BAD_MESSAGE',
        'shard 3: gradient must be a Float32Array',
      ],
      [shard(1, 4), 'BAD_STATE', 'shard 1: already added'],
    ];
    const a = new Aggregator(P);
    const good = [shard(0, 5), shard(1, 6)];
    for (const s of good) a.add(s);
    const before = snapshot(a);
    for (const [bad, code, message] of cases) {
      const e = errorOf(() => a.add(bad));
      expect([e.code, e.message]).toEqual([code, message]);
      expect(snapshot(a)).toEqual(before);
      expect(a.has(3)).toBe(false);
    }
    // The sums were not touched either: the mean is that of the good shards alone.
    expect(a.mean(11)).toEqual(reference(good, 11));
  });

  it('never applies a shard twice, even with different content', () => {
    const a = new Aggregator(P);
    a.add(shard(7, 3, 1));
    expect(errorOf(() => a.add(shard(7, 3, 2))).code).toBe('BAD_STATE');
    expect(a.mean(3)).toEqual(reference([shard(7, 3, 1)], 3));
  });

  it('mean() requires the planned batch size to match the examples counted', () => {
    const a = new Aggregator(P);
    expect(errorOf(() => a.mean(4)).code).toBe('BAD_STATE');
    a.add(shard(0, 4));
    expect(errorOf(() => a.mean(5)).message).toBe('aggregator: 4 examples counted over 1 shards, expected batch of 5');
    expect(errorOf(() => a.mean(0)).code).toBe('BAD_CONFIG');
    expect(a.mean(4)).toEqual(reference([shard(0, 4)], 4));
  });

  it('reset() starts a fresh iteration', () => {
    const a = new Aggregator(P);
    a.add(shard(0, 4));
    a.reset();
    expect(snapshot(a)).toEqual({ count: 0, lossSum: 0, correct: 0, shards: 0 });
    expect(a.has(0)).toBe(false);
    a.add(shard(0, 2, 5));
    expect(a.mean(2)).toEqual(reference([shard(0, 2, 5)], 2));
  });

  it('refuses a bad parameter count', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) expect(errorOf(() => new Aggregator(n)).code).toBe('BAD_CONFIG');
  });

  it('property: interleaved bad shards never change the mean of the good ones', () => {
    const bad = fc.constantFrom<(s: ShardSums) => ShardSums>(
      (s) => ({ ...s, gradSum: s.gradSum.subarray(1) }),
      (s) => {
        const g = s.gradSum.slice();
        g[s.shardId % P] = Number.POSITIVE_INFINITY;
        return { ...s, gradSum: g };
      },
      (s) => ({ ...s, lossSum: Number.NaN }),
      (s) => ({ ...s, count: 0 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.option(bad, { nil: undefined })), {
          minLength: 1,
          maxLength: 10,
        }),
        (plan) => {
          const a = new Aggregator(P);
          const accepted: ShardSums[] = [];
          plan.forEach(([count, corrupt], id) => {
            const s = shard(id, count);
            if (corrupt) {
              expect(() => a.add(corrupt(s))).toThrow(GradroomError);
            } else {
              a.add(s);
              accepted.push(s);
            }
          });
          const batch = accepted.reduce((t, s) => t + s.count, 0);
          if (batch > 0) expect(a.mean(batch)).toEqual(reference(accepted, batch));
          expect(a.shards).toBe(accepted.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
