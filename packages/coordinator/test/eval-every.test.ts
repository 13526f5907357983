/**
 * TrainerOptions.evalEvery: the test split is scored every N iterations ('evaluation' events), in
 * Node worker threads, and the weights are the same as without it (evaluation only reads them).
 */
import { GradroomError } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvaluationEvent } from '../src/events.js';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import { exactJob, exactReference } from './fixtures.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

// 300 examples, batch 64: 5 iterations an epoch; 20 iterations cross 3 epoch boundaries
const job: JobConfig = { ...exactJob, evaluate: true };

async function train(j: JobConfig, evalEvery?: number) {
  const t = new Trainer(j, { backends: ['wasm'], ...(evalEvery ? { evalEvery } : {}) });
  open.push(t);
  for (let i = 0; i < 2; i++) t.addWorker(spawnThreadWorker());
  const evaluations: EvaluationEvent[] = [];
  const epochs: { iteration: number; testAccuracy: number; testLoss: number }[] = [];
  let examples = 0;
  const seen: number[] = [];
  const ends: number[] = [];
  t.on('iteration', (e) => {
    examples += e.examples;
    seen.push(examples);
    ends.push(e.iteration);
  });
  t.on('evaluation', (e) => evaluations.push(e));
  t.on('epoch', (e) => epochs.push(e));
  const result = await t.run();
  return { result, evaluations, epochs, seen, ends };
}

describe('evalEvery', () => {
  it('exact mode: an evaluation at each multiple of N, the same weights as without it', async () => {
    const plain = await train(job);
    const every3 = await train(job, 3);
    expect(plain.evaluations).toEqual([]);
    expect(every3.evaluations.map((e) => e.iteration)).toEqual([3, 6, 9, 12, 15, 18]);
    // the shard split follows measured speeds, so sums may round differently: the contract's 1e-5
    expect(relativeDifference(every3.result.weights, plain.result.weights)).toBeLessThanOrEqual(1e-5);
    expect(relativeDifference(every3.result.weights, await exactReference())).toBeLessThanOrEqual(1e-5);
    expect(every3.result.testAccuracy).toBeCloseTo(plain.result.testAccuracy, 3);
    for (const e of every3.evaluations) {
      expect(e.examples).toBe(every3.seen[e.iteration - 1]);
      expect(e.epoch).toBe(Math.floor(e.iteration / 5));
      expect(e.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(e.testAccuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(e.testLoss)).toBe(true);
      expect(e.evalMs).toBeGreaterThan(0);
    }
    // accuracy moves as training goes on: the evaluations read the current weights, not a stale copy
    expect(new Set(every3.evaluations.map((e) => e.testLoss)).size).toBe(every3.evaluations.length);
  });

  it("at an epoch's end it is the epoch's own evaluation (same figures, scored once)", async () => {
    const r = await train(job, 5);
    expect(r.evaluations.map((e) => e.iteration)).toEqual([5, 10, 15, 20]);
    for (const e of r.epochs) {
      const ev = r.evaluations.find((x) => x.iteration === e.iteration);
      expect(ev?.testAccuracy).toBe(e.testAccuracy);
      expect(ev?.testLoss).toBe(e.testLoss);
    }
  });

  it('mode local: a round that steps over a multiple of N evaluates once, weights unchanged', async () => {
    const local: JobConfig = { ...job, mode: { kind: 'local', steps: 2 } };
    const plain = await train(local);
    const every3 = await train(local, 3);
    // rounds end where the iteration events say (a round stops at an epoch's end): each round that
    // reaches or steps over a multiple of 3 is followed by one evaluation
    const crossing = every3.ends.filter((it, i) => Math.floor(it / 3) > Math.floor((every3.ends[i - 1] ?? 0) / 3));
    expect(crossing.some((it) => it % 3 !== 0)).toBe(true); // some round stepped over a multiple
    expect(every3.evaluations.map((e) => e.iteration)).toEqual(crossing);
    expect(relativeDifference(every3.result.weights, plain.result.weights)).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a bad N with a typed error', () => {
    for (const n of [0, -1, 2.5, Number.NaN]) {
      let err: unknown;
      try {
        new Trainer(job, { evalEvery: n });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GradroomError);
      expect((err as GradroomError).code).toBe('BAD_CONFIG');
    }
  });
});
