// The "one iteration" page's run (src/lesson/iteration-sim.ts) against a plain serial loop written here:
// same shuffle, same mini-batches (remainder included), gradient of the mean loss, one SGD step. The
// split into shards must not change the weights beyond float32 rounding: the training contract.
import { planEpoch } from '@gradroom/core';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, epochBatches, IterationLesson, lessonData, shardSums } from '../src/lesson/iteration-sim.js';

describe('the one-iteration lesson', () => {
  it.each([4, 6, 8, 16])(
    'mini-batch %i: ten iterations equal the serial loop, across epoch boundaries',
    (batchSize) => {
      const lesson = new IterationLesson({ seed: 7, batchSize, lr: 0.1 });
      const data = lessonData(7);
      let w = 0;
      let b = 0;
      let epoch = 0;
      let batch = 0;
      for (let it = 0; it < 10; it++) {
        const plan = planEpoch({ seed: 7, epoch, examples: EXAMPLES, batchSize });
        const idx = Array.from(plan.batch(batch));
        let gw = 0;
        let gb = 0;
        for (const i of idx) {
          const r = w * data[i].x + b - data[i].y;
          gw += r * data[i].x;
          gb += r;
        }
        w = Math.fround(w - Math.fround(0.1 * Math.fround(gw / idx.length)));
        b = Math.fround(b - Math.fround(0.1 * Math.fround(gb / idx.length)));
        const t = lesson.next();
        expect(t.position).toEqual({ epoch, batch, iteration: it });
        expect(t.indices).toEqual(idx);
        expect(t.version).toBe(it);
        expect(t.count).toBe(idx.length);
        expect(t.results.flatMap((r) => r.indices)).toEqual(idx);
        expect(t.results.every((r) => r.version === it)).toBe(true);
        expect(t.after[0]).toBeCloseTo(w, 5);
        expect(t.after[1]).toBeCloseTo(b, 5);
        batch++;
        if (batch === plan.batches) {
          batch = 0;
          epoch++;
        }
      }
    },
  );

  it('the workers’ sums add up to the sums over the whole mini-batch, and their shards follow their speeds', () => {
    const lesson = new IterationLesson({ seed: 3, batchSize: 8, lr: 0.1 });
    lesson.next();
    const t = lesson.next();
    const whole = shardSums(lesson.data, t.indices, t.before[0], t.before[1]);
    expect(t.gradSum[0]).toBeCloseTo(whole.gradSum[0], 10);
    expect(t.gradSum[1]).toBeCloseTo(whole.gradSum[1], 10);
    expect(t.lossSum).toBeCloseTo(whole.lossSum, 10);
    expect(t.shardSizes).toEqual([4, 3, 1]);
    expect(t.mean[0]).toBeCloseTo(whole.gradSum[0] / 8, 10);
  });

  it('the epoch view: every example once per epoch, the last mini-batch holds the remainder, the order changes per epoch', () => {
    for (const size of [4, 6, 8, 16]) {
      const bs = epochBatches(7, 0, size);
      expect(bs.flat().sort((a, c) => a - c)).toEqual(Array.from({ length: EXAMPLES }, (_, i) => i));
      expect(bs.at(-1)?.length).toBe(EXAMPLES % size || size);
      expect(bs.length).toBe(Math.ceil(EXAMPLES / size));
    }
    expect(epochBatches(7, 1, 8).flat()).not.toEqual(epochBatches(7, 0, 8).flat());
    expect(() => new IterationLesson({ seed: 7, batchSize: 0, lr: 0.1 }).next()).toThrow(
      /batchSize must be a positive integer/,
    );
  });
});
