import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGradroomError } from '../src/errors.js';
import {
  learningRate,
  linearScaling,
  type ManualSchedule,
  type ScheduleConfig,
  validateSchedule,
  withManualChange,
} from '../src/schedules.js';

const at = (epoch: number, iteration = epoch * 100) => ({ epoch, iteration });

function expectBadConfig(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (e) {
    expect(isGradroomError(e, 'BAD_CONFIG'), String(e)).toBe(true);
    expect((e as Error).message).toContain(field);
    return;
  }
  throw new Error('expected BAD_CONFIG');
}

describe('lecture decays, against their formulas', () => {
  it('constant', () => {
    for (const e of [0, 1, 7, 100]) expect(learningRate({ kind: 'constant', lr: 0.3 }, at(e))).toBe(0.3);
  });

  it('inverse-time: lr0 / (1 + decayRate * epoch), epoch 0-based', () => {
    const s: ScheduleConfig = { kind: 'inverse-time', lr0: 0.2, decayRate: 1 };
    // the lecture's table, shifted to 0-based epochs: 0.2, 0.1, 0.067, 0.05, 0.04
    const expected = [0.2, 0.1, 0.2 / 3, 0.05, 0.04];
    expected.forEach((lr, e) => {
      expect(learningRate(s, at(e))).toBeCloseTo(lr, 12);
    });
  });

  it('exponential: base^epoch * lr0 (base 0.95 by default)', () => {
    const s: ScheduleConfig = { kind: 'exponential', lr0: 0.1 };
    expect(learningRate(s, at(0))).toBe(0.1);
    expect(learningRate(s, at(1))).toBeCloseTo(0.095, 14);
    expect(learningRate(s, at(10))).toBeCloseTo(0.1 * Math.exp(10 * Math.log(0.95)), 14);
    expect(learningRate({ kind: 'exponential', lr0: 1, base: 0.5 }, at(3))).toBe(0.125);
  });

  it('inverse-sqrt-epoch: k/sqrt(epoch + 1) * lr0, so epoch 0 gives k*lr0 (no division by zero)', () => {
    const s: ScheduleConfig = { kind: 'inverse-sqrt-epoch', lr0: 0.4, k: 0.5 };
    expect(learningRate(s, at(0))).toBeCloseTo(0.2, 14);
    expect(learningRate(s, at(3))).toBeCloseTo(0.1, 14); // sqrt(4) = 2
    expect(learningRate(s, at(8))).toBeCloseTo(0.2 / 3, 14);
  });

  it('inverse-sqrt-iteration: k/sqrt(iteration + 1) * lr0, depending on the iteration only', () => {
    const s: ScheduleConfig = { kind: 'inverse-sqrt-iteration', lr0: 1, k: 2 };
    expect(learningRate(s, { epoch: 0, iteration: 0 })).toBe(2);
    expect(learningRate(s, { epoch: 0, iteration: 15 })).toBe(0.5);
    expect(learningRate(s, { epoch: 9, iteration: 15 })).toBe(0.5);
    expect(learningRate(s, { epoch: 1, iteration: 99 })).toBeCloseTo(0.2, 14);
  });

  it('staircase: lr0 * factor^floor(epoch/every)', () => {
    const s: ScheduleConfig = { kind: 'staircase', lr0: 1, factor: 0.5, every: 3 };
    const got = [0, 1, 2, 3, 4, 5, 6, 8, 9].map((e) => learningRate(s, at(e)));
    expect(got).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125]);
  });

  it('itersPerEpoch turns the epoch into a fraction, so decay is smooth within an epoch', () => {
    const s: ScheduleConfig = { kind: 'inverse-time', lr0: 1, decayRate: 1, itersPerEpoch: 4 };
    expect(learningRate(s, { epoch: 0, iteration: 2 })).toBeCloseTo(1 / 1.5, 14);
    expect(learningRate(s, { epoch: 1, iteration: 4 })).toBe(0.5);
    const e: ScheduleConfig = { kind: 'exponential', lr0: 1, base: 0.25, itersPerEpoch: 2 };
    expect(learningRate(e, { epoch: 0, iteration: 1 })).toBe(0.5);
    const st: ScheduleConfig = { kind: 'staircase', lr0: 1, factor: 0.1, every: 0.5, itersPerEpoch: 10 };
    expect(learningRate(st, { epoch: 0, iteration: 4 })).toBe(1);
    expect(learningRate(st, { epoch: 0, iteration: 5 })).toBeCloseTo(0.1, 15);
  });

  it('every decay is non-increasing in the epoch (property)', () => {
    const decays: ScheduleConfig[] = [
      { kind: 'inverse-time', lr0: 0.5, decayRate: 0.3 },
      { kind: 'exponential', lr0: 0.5 },
      { kind: 'inverse-sqrt-epoch', lr0: 0.5, k: 1 },
      { kind: 'staircase', lr0: 0.5, factor: 0.7, every: 2 },
    ];
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        for (const s of decays) expect(learningRate(s, at(hi))).toBeLessThanOrEqual(learningRate(s, at(lo)));
      }),
    );
  });
});

describe('manual decay', () => {
  const base: ManualSchedule = { kind: 'manual', lr: 0.1, changes: [] };

  it('the rate is the last change at or before the position', () => {
    let s = withManualChange(base, { epoch: 2, iteration: 250 }, 0.05);
    s = withManualChange(s, { epoch: 5, iteration: 600 }, 0.01);
    expect(learningRate(s, { epoch: 0, iteration: 0 })).toBe(0.1);
    expect(learningRate(s, { epoch: 2, iteration: 249 })).toBe(0.1);
    expect(learningRate(s, { epoch: 2, iteration: 250 })).toBe(0.05);
    expect(learningRate(s, { epoch: 4, iteration: 599 })).toBe(0.05);
    expect(learningRate(s, { epoch: 5, iteration: 600 })).toBe(0.01);
    expect(learningRate(s, { epoch: 50, iteration: 6000 })).toBe(0.01);
  });

  it('withManualChange is immutable and keeps changes in order; a later change at the same spot wins', () => {
    const a = withManualChange(base, { epoch: 3, iteration: 300 }, 0.05);
    const b = withManualChange(a, { epoch: 1, iteration: 100 }, 0.08); // recorded late, placed early
    const c = withManualChange(b, { epoch: 3, iteration: 300 }, 0.02);
    expect(base.changes).toEqual([]);
    expect(a.changes).toHaveLength(1);
    expect(b.changes.map((x) => x.lr)).toEqual([0.08, 0.05]);
    expect(c.changes.map((x) => x.lr)).toEqual([0.08, 0.05, 0.02]);
    expect(learningRate(c, { epoch: 2, iteration: 200 })).toBe(0.08);
    expect(learningRate(c, { epoch: 3, iteration: 300 })).toBe(0.02);
    // the config stays plain data
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });

  it('rejects bad changes and non-manual schedules', () => {
    expectBadConfig(() => withManualChange(base, { epoch: -1, iteration: 0 }, 0.1), 'epoch');
    expectBadConfig(() => withManualChange(base, { epoch: 0, iteration: 0 }, Number.NaN), 'lr');
    expectBadConfig(
      () => withManualChange({ kind: 'constant', lr: 1 } as unknown as ManualSchedule, at(0), 0.1),
      "'manual'",
    );
    expectBadConfig(
      () => learningRate({ ...base, changes: [{ epoch: 0, iteration: 0, lr: -1 }] }, at(0)),
      'changes[0].lr',
    );
  });
});

describe('piecewise (Keras PiecewiseConstantDecay)', () => {
  const s: ScheduleConfig = { kind: 'piecewise', boundaries: [100, 300], values: [1, 0.5, 0.1] };
  it('a boundary iteration still gets the earlier value', () => {
    const rate = (iteration: number) => learningRate(s, { epoch: 0, iteration });
    expect([0, 99, 100, 101, 299, 300, 301, 10_000].map(rate)).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.1, 0.1]);
  });
  it('validates shapes', () => {
    expectBadConfig(() => validateSchedule({ kind: 'piecewise', boundaries: [1, 2], values: [1, 2] }), 'values');
    expectBadConfig(() => validateSchedule({ kind: 'piecewise', boundaries: [5, 2], values: [1, 2, 3] }), 'increasing');
    expectBadConfig(() => validateSchedule({ kind: 'piecewise', boundaries: [1], values: [1, -2] }), 'values[1]');
  });
});

describe('cosine-restarts (Keras CosineDecayRestarts)', () => {
  /** Keras's formula, transcribed (keras/src/optimizers/schedules/learning_rate_schedule.py). */
  function keras(lr0: number, firstDecaySteps: number, tMul: number, mMul: number, alpha: number, step: number) {
    let completedFraction = step / firstDecaySteps;
    let iRestart: number;
    if (tMul === 1) {
      iRestart = Math.floor(completedFraction);
      completedFraction -= iRestart;
    } else {
      iRestart = Math.floor(Math.log(1 - completedFraction * (1 - tMul)) / Math.log(tMul));
      const sumR = (1 - tMul ** iRestart) / (1 - tMul);
      completedFraction = (completedFraction - sumR) / tMul ** iRestart;
    }
    const mFac = mMul ** iRestart;
    const cosineDecayed = 0.5 * mFac * (1 + Math.cos(Math.PI * completedFraction));
    return lr0 * ((1 - alpha) * cosineDecayed + alpha);
  }

  it('matches the Keras formula (tMul 2, mMul 0.8, alpha 0.1) at every iteration of four periods', () => {
    const s: ScheduleConfig = { kind: 'cosine-restarts', lr0: 0.5, firstPeriod: 10, tMul: 2, mMul: 0.8, alpha: 0.1 };
    for (let it = 0; it < 150; it++) {
      expect(learningRate(s, { epoch: 0, iteration: it }), `iteration ${it}`).toBeCloseTo(
        keras(0.5, 10, 2, 0.8, 0.1, it),
        12,
      );
    }
  });

  it('restarts exactly at period boundaries: 0, 10, 30, 70 for firstPeriod 10 and tMul 2', () => {
    const s: ScheduleConfig = { kind: 'cosine-restarts', lr0: 1, firstPeriod: 10, mMul: 0.5 };
    const rate = (iteration: number) => learningRate(s, { epoch: 0, iteration });
    expect(rate(0)).toBe(1);
    expect(rate(10)).toBe(0.5);
    expect(rate(30)).toBe(0.25);
    expect(rate(70)).toBe(0.125);
    // just before a restart the rate is near the floor (alpha 0), halfway it is half the peak
    expect(rate(9)).toBeCloseTo(0.5 * (1 + Math.cos((Math.PI * 9) / 10)), 14);
    expect(rate(20)).toBeCloseTo(0.25, 14);
    expect(rate(29)).toBeLessThan(0.01);
  });

  it('tMul 3 boundaries: 4, 16, 52, 160 for firstPeriod 4', () => {
    const s: ScheduleConfig = { kind: 'cosine-restarts', lr0: 1, firstPeriod: 4, tMul: 3 };
    for (const b of [4, 16, 52, 160]) {
      expect(learningRate(s, { epoch: 0, iteration: b }), `restart at ${b}`).toBe(1);
      expect(learningRate(s, { epoch: 0, iteration: b - 1 })).toBeLessThan(0.2);
    }
  });

  it("restarts on a boundary where Keras's log formula rounds down (tMul 9, firstPeriod 1, iteration 7381)", () => {
    // periods 1, 9, 81, 729, 6561: the sixth starts at 7381, but log(1 + 7381*8)/log(9) = 4.999999999999999
    expect(keras(1, 1, 9, 1, 0, 7381)).toBeLessThan(1e-12); // Keras: the bottom of the old period
    const s: ScheduleConfig = { kind: 'cosine-restarts', lr0: 1, firstPeriod: 1, tMul: 9, mMul: 0.5 };
    expect(learningRate(s, { epoch: 0, iteration: 7381 })).toBe(0.5 ** 5);
    expect(learningRate(s, { epoch: 0, iteration: 7380 })).toBeCloseTo(keras(1, 1, 9, 0.5, 0, 7380), 14);
  });

  it('tMul 1 is periodic', () => {
    const s: ScheduleConfig = { kind: 'cosine-restarts', lr0: 2, firstPeriod: 8, tMul: 1, alpha: 0.25 };
    for (let it = 0; it < 8; it++) {
      const r = learningRate(s, { epoch: 0, iteration: it });
      expect(learningRate(s, { epoch: 0, iteration: it + 80 })).toBeCloseTo(r, 14);
      expect(r).toBeCloseTo(keras(2, 8, 1, 1, 0.25, it), 14);
    }
  });

  it('validates', () => {
    expectBadConfig(() => validateSchedule({ kind: 'cosine-restarts', lr0: 1, firstPeriod: 0 }), 'firstPeriod');
    expectBadConfig(() => validateSchedule({ kind: 'cosine-restarts', lr0: 1, firstPeriod: 5, tMul: 0.5 }), 'tMul');
    expectBadConfig(() => validateSchedule({ kind: 'cosine-restarts', lr0: 1, firstPeriod: 5, alpha: 2 }), 'alpha');
  });
});

describe('warmup and linear scaling', () => {
  it('warmup multiplies the inner rate by min(1, (iteration+1)/warmupIterations)', () => {
    const inner: ScheduleConfig = { kind: 'exponential', lr0: 0.8, base: 0.5 };
    const s: ScheduleConfig = { kind: 'warmup', warmupIterations: 4, inner };
    expect(learningRate(s, { epoch: 0, iteration: 0 })).toBe(0.2);
    expect(learningRate(s, { epoch: 0, iteration: 1 })).toBe(0.4);
    expect(learningRate(s, { epoch: 0, iteration: 3 })).toBe(0.8);
    expect(learningRate(s, { epoch: 1, iteration: 4 })).toBe(0.4); // warm, inner has decayed one epoch
    expect(learningRate({ kind: 'warmup', warmupIterations: 0, inner }, { epoch: 0, iteration: 0 })).toBe(0.8);
    expectBadConfig(
      () => learningRate({ kind: 'warmup', warmupIterations: 4, inner: { kind: 'constant', lr: -1 } }, at(0)),
      'schedule.inner.lr',
    );
  });

  it('linearScaling(baseLr, baseBatch, batch) = baseLr * batch / baseBatch (Goyal et al.)', () => {
    expect(linearScaling(0.1, 256, 8192)).toBeCloseTo(3.2, 14);
    expect(linearScaling(0.1, 256, 64)).toBeCloseTo(0.025, 14);
    expectBadConfig(() => linearScaling(0.1, 0, 64), 'baseBatch');
    expectBadConfig(() => linearScaling(0.1, 256, -1), 'batch');
  });
});

describe('schedule validation', () => {
  const bad: Array<[string, unknown, string]> = [
    ['unknown kind', { kind: 'one-cycle', lr: 1 }, 'one-cycle'],
    ['constant lr NaN', { kind: 'constant', lr: Number.NaN }, 'schedule.lr'],
    ['negative lr0', { kind: 'inverse-time', lr0: -1, decayRate: 1 }, 'lr0'],
    ['missing decayRate', { kind: 'inverse-time', lr0: 1 }, 'decayRate'],
    ['base > 1', { kind: 'exponential', lr0: 1, base: 1.5 }, 'base'],
    ['itersPerEpoch 0', { kind: 'exponential', lr0: 1, itersPerEpoch: 0 }, 'itersPerEpoch'],
    ['staircase every 0', { kind: 'staircase', lr0: 1, factor: 0.5, every: 0 }, 'every'],
    ['manual changes not an array', { kind: 'manual', lr: 1, changes: {} }, 'changes'],
    ['not an object', 42, 'schedule'],
  ];
  it.each(bad)('BAD_CONFIG: %s', (_name, schedule, field) => {
    expectBadConfig(() => learningRate(schedule as ScheduleConfig, at(0)), field);
  });

  it('BAD_CONFIG for a bad position', () => {
    const s: ScheduleConfig = { kind: 'constant', lr: 1 };
    expectBadConfig(() => learningRate(s, { epoch: -1, iteration: 0 }), 'position.epoch');
    expectBadConfig(() => learningRate(s, { epoch: 0, iteration: Number.NaN }), 'position.iteration');
  });
});

describe('manual changes on top of a schedule', () => {
  it("follows the base schedule until the first change, then the change's rate", () => {
    const s = {
      kind: 'manual' as const,
      lr: 1,
      base: { kind: 'inverse-time' as const, lr0: 0.1, decayRate: 1 },
      changes: [{ epoch: 2, iteration: 10, lr: 0.5 }],
    };
    expect(learningRate(s, { epoch: 1, iteration: 5 })).toBeCloseTo(0.05, 12);
    expect(learningRate(s, { epoch: 2, iteration: 9 })).toBeCloseTo(0.1 / 3, 12);
    expect(learningRate(s, { epoch: 2, iteration: 10 })).toBe(0.5);
    expect(() => learningRate({ ...s, base: { kind: 'constant', lr: -1 } }, { epoch: 0, iteration: 0 })).toThrow(
      /schedule\.base/,
    );
  });
});
