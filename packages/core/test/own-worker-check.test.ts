/** OwnWorkerCheck's rule: whether the run's own workers pay is measured, not assumed. */
import { describe, expect, it } from 'vitest';
import { OwnWorkerCheck } from '../src/own-worker-check.js';

/** Runs `n` iterations: each asks the check, then reports `ms(leftOut)` for 64 examples. */
function drive(c: OwnWorkerCheck, n: number, ms: (out: boolean) => number, others = 1): boolean[] {
  const plans: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const out = c.leaveOut(others);
    plans.push(out);
    c.observe(!out, ms(out), 64);
  }
  return plans;
}

describe('OwnWorkerCheck', () => {
  it('leaves the own workers out when the room was faster without them, and says by how much', () => {
    const c = new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 10 });
    // with them 640 ms a mini-batch, without 320: the first 3 with, 3 tried without, then without
    const plans = drive(c, 12, (out) => (out ? 320 : 640), 1);
    expect(plans).toEqual([false, false, false, true, true, true, true, true, true, true, true, true]);
    expect(c.choice).toEqual({ leaveOut: true, withMsPerExample: 10, withoutMsPerExample: 5 });
  });

  it('keeps them when they pay, and tries again after a wait that doubles up to maxWait', () => {
    const c = new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 4, maxWait: 16 });
    const plans = drive(c, 80, (out) => (out ? 900 : 300), 1);
    expect(c.choice?.leaveOut).toBe(false);
    // the tries: 3 iterations without them each, after waits of 4, 8, 16, 16 iterations with them
    const runs: [boolean, number][] = [];
    for (const p of plans) {
      if (runs.at(-1)?.[0] === p) runs[runs.length - 1][1]++;
      else runs.push([p, 1]);
    }
    expect(runs.slice(0, 9)).toEqual([
      [false, 3],
      [true, 3],
      [false, 4],
      [true, 3],
      [false, 8],
      [true, 3],
      [false, 16],
      [true, 3],
      [false, 16],
    ]);
  });

  it('takes them back when their CPU frees up', () => {
    const c = new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 5 });
    let busy = true;
    drive(c, 10, (out) => (out ? 320 : busy ? 640 : 200), 1);
    expect(c.choice?.leaveOut).toBe(true);
    busy = false;
    // after the wait (5 iterations from the switch) they are measured again, faster now: back in,
    // and the next try without them waits 5 iterations more
    const plans = drive(c, 9, (out) => (out ? 320 : busy ? 640 : 200), 1);
    expect(plans).toEqual([true, false, false, false, false, false, false, false, false]);
    expect(c.choice).toEqual({ leaveOut: false, withMsPerExample: 200 / 64, withoutMsPerExample: 5 });
  });

  it('never tries without them where the model says the others alone would be slower, or where there are none', () => {
    const c = new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 2 });
    // measured 5 ms an example with them; the others alone priced at 8 (over 1.5 x 5): no try, ever
    expect(drive(c, 30, () => 320, 8).every((p) => !p)).toBe(true);
    const none = new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 2 });
    for (let i = 0; i < 30; i++) {
      expect(none.leaveOut(undefined)).toBe(false);
      none.observe(true, 320, 64);
    }
    expect(none.choice).toBeUndefined();
  });

  it('a difference within the margin keeps the current plan; bad samples are ignored', () => {
    const c = new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 10 });
    drive(c, 6, (out) => (out ? 310 : 320), 1); // 3 % faster without: within 5 %
    expect(c.choice?.leaveOut).toBe(false);
    c.observe(true, Number.NaN, 64);
    c.observe(true, 10, 0);
    expect(c.choice?.leaveOut).toBe(false);
  });

  it('refuses bad options', () => {
    expect(() => new OwnWorkerCheck({ minSamples: 0 })).toThrow(/minSamples/);
    expect(() => new OwnWorkerCheck({ margin: -1 })).toThrow(/margin/);
    expect(() => new OwnWorkerCheck({ minSamples: 3, window: 5, firstWait: 1.5 })).toThrow(/firstWait/);
    expect(() => new OwnWorkerCheck({ minSamples: 5, window: 4 })).toThrow(/window/);
  });
});
