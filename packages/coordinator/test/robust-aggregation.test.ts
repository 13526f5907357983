/**
 * Opt-in robust aggregation (TrainerOptions.aggregation, core's robustMean) in a real run: a peer
 * that answers every shard with a wrong gradient small enough to pass the GradientBound (its sign
 * flipped and 5x) turns an exact-mode run into gradient ascent (3/4 g - 5/4 g = -g/2 with four equal
 * shards); with the coordinate-wise median of the per-shard means the same run still learns.
 */
import { GradroomError } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Trainer, type TrainerOptions } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { exactJob, exactReference } from './fixtures.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
let reference: Float32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = await exactReference(ITERATIONS);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** A real thread presented as a peer whose every gradient is -5 times the honest one. */
function flipping(inner: WorkerHandle): WorkerHandle {
  return {
    ...inner,
    kind: 'peer',
    compute: async (req) => {
      const r = await inner.compute(req);
      return { ...r, gradSum: r.gradSum.map((x) => -5 * x) };
    },
  };
}

interface Attacked {
  diff: number;
  refused: number;
  /** Mean training loss of the first and of the last 5 iterations. */
  first: number;
  last: number;
}

const ITERATIONS = 40;

async function attacked(aggregation: TrainerOptions['aggregation']): Promise<Attacked> {
  const t = new Trainer(
    { ...exactJob, maxIterations: ITERATIONS },
    { backends: ['wasm'], planning: 'all', aggregation },
  );
  open.push(t);
  for (let i = 0; i < 3; i++) t.addWorker(spawnThreadWorker());
  t.addWorker(flipping(spawnThreadWorker()));
  let refused = 0;
  t.on('log', (e) => {
    if (/gradient norm per example/.test(e.message)) refused++;
  });
  const losses: number[] = [];
  t.on('iteration', (e) => losses.push(e.loss));
  const r = await t.run();
  expect(r.weights.every(Number.isFinite)).toBe(true);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    diff: relativeDifference(r.weights, reference),
    refused,
    first: mean(losses.slice(0, 5)),
    last: mean(losses.slice(-5)),
  };
}

describe('robust aggregation against a peer within the gradient bound', () => {
  it('exact mode stops learning; the median of per-shard means still learns, nearer the serial weights', async () => {
    const exact = await attacked('sum');
    const median = await attacked('median');
    // the poisoned shards pass the bound (5x the honest norm, the bound is 50x) in both runs
    expect(exact.refused).toBe(0);
    expect(median.refused).toBe(0);
    // exact mode does not learn (an honest run is far below 1 by now); the median run does
    expect(exact.last).toBeGreaterThan(1);
    expect(median.last).toBeLessThan(0.5 * median.first);
    expect(exact.last).toBeGreaterThan(5 * median.last);
    expect(median.diff).toBeLessThan(exact.diff);
  });

  it('an unknown mode fails the run with BAD_CONFIG', async () => {
    const t = new Trainer({ ...exactJob, maxIterations: 2 }, { backends: ['wasm'], aggregation: 'mean' as never });
    open.push(t);
    t.addWorker(spawnThreadWorker());
    const err = await t.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GradroomError);
    expect((err as GradroomError).code).toBe('BAD_CONFIG');
    expect((err as Error).message).toMatch(/'median' or 'trimmed-mean', got mean/);
  });
});
