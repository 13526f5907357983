import { describe, expect, it } from 'vitest';
import { epochRounds, medianSpeed, roundShape, SLOW_SHARE, stepsForSpeed } from '../src/local-rounds.js';

/** The rounds of a whole epoch, by roundShape, as the runner takes them one after another. */
function walk(epochBatches: number, workers: number, steps: number) {
  const out: { batches: number; steps: number }[] = [];
  for (let left = epochBatches; left > 0 && out.length < 1000; ) {
    const r = roundShape(left, workers, steps);
    out.push(r);
    left -= r.batches;
  }
  return out;
}

describe('local rounds: the shape of an epoch', () => {
  it('full rounds give H to each member; the last, shorter round is spread over every member', () => {
    expect(walk(15, 3, 2)).toEqual([
      { batches: 6, steps: 2 },
      { batches: 6, steps: 2 },
      { batches: 3, steps: 1 },
    ]);
    // MNIST's 125 mini-batches with 7 members at H = 32: one round of 18 steps each (17 for one)
    expect(walk(125, 7, 32)).toEqual([{ batches: 125, steps: 18 }]);
    expect(walk(125, 7, 16)).toEqual([
      { batches: 112, steps: 16 },
      { batches: 13, steps: 2 },
    ]);
    // one member: H at a time, then what is left
    expect(walk(10, 1, 4)).toEqual([
      { batches: 4, steps: 4 },
      { batches: 4, steps: 4 },
      { batches: 2, steps: 2 },
    ]);
  });

  it('epochRounds counts the same rounds as walking the epoch, for every shape', () => {
    for (let e = 1; e <= 60; e++)
      for (let w = 1; w <= 9; w++)
        for (const h of [1, 2, 3, 8, 32]) {
          const rounds = walk(e, w, h);
          const { full, last } = epochRounds(e, w, h);
          expect(rounds.filter((r) => r.steps === h && r.batches === w * h).length).toBe(full);
          expect(rounds.length).toBe(full + (last.batches > 0 ? 1 : 0));
          if (last.batches > 0) expect(rounds.at(-1)).toEqual(last);
          expect(rounds.reduce((a, r) => a + r.batches, 0)).toBe(e);
          // no member runs more than H, and a round's groups never outnumber its members
          for (const r of rounds) {
            expect(r.steps).toBeLessThanOrEqual(h);
            expect(Math.ceil(r.batches / r.steps)).toBeLessThanOrEqual(w);
          }
        }
  });

  it('refuses a bad H; nothing left is an empty round', () => {
    expect(() => roundShape(10, 2, 0)).toThrow(/steps must be a positive integer/);
    expect(() => roundShape(10, 2, 1.5)).toThrow(/steps must be a positive integer/);
    expect(roundShape(0, 3, 4).batches).toBe(0);
  });
});

describe('steps by speed', () => {
  it('the median is the upper middle of the measured speeds, 0 with fewer than two measured', () => {
    expect(medianSpeed([300, 100, 200])).toBe(200);
    expect(medianSpeed([100, 200])).toBe(200);
    expect(medianSpeed([0, 500, -1, Number.NaN, 100])).toBe(500);
    expect(medianSpeed([400])).toBe(0);
    expect(medianSpeed([])).toBe(0);
  });

  it('a member clearly slower than the median runs H times its share of it (at least 1); the others run H', () => {
    // the classroom testbed's host thread against its volunteers (round 12): 781 against 1,082 ex/s
    expect(stepsForSpeed(8, 781, 1082)).toBe(6);
    expect(stepsForSpeed(8, 500, 1000)).toBe(4);
    expect(stepsForSpeed(8, 10, 1000)).toBe(1);
    // about as fast as the median: H (noise moves nothing), and faster: still H, never more
    expect(stepsForSpeed(8, SLOW_SHARE * 1000, 1000)).toBe(8);
    expect(stepsForSpeed(8, 950, 1000)).toBe(8);
    expect(stepsForSpeed(8, 5000, 1000)).toBe(8);
    // unmeasured, or nothing to compare with: H
    expect(stepsForSpeed(8, 0, 1000)).toBe(8);
    expect(stepsForSpeed(8, 500, 0)).toBe(8);
    expect(stepsForSpeed(1, 10, 1000)).toBe(1);
  });
});
