/**
 * Opt-in robust aggregation (TrainerOptions.aggregation, core's robustMean) in a real run: a peer
 * that answers every shard with a wrong gradient small enough to pass the GradientBound (its sign
 * flipped and 5x) drags an exact-mode run far off the serial loop's path; the coordinate-wise
 * median of the per-shard means keeps the run close to it.
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
  reference = await exactReference();
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

async function attacked(aggregation: TrainerOptions['aggregation']): Promise<{ diff: number; refused: number }> {
  const t = new Trainer(exactJob, { backends: ['wasm'], planning: 'all', aggregation });
  open.push(t);
  t.addWorker(spawnThreadWorker());
  t.addWorker(spawnThreadWorker());
  t.addWorker(flipping(spawnThreadWorker()));
  let refused = 0;
  t.on('log', (e) => {
    if (/gradient norm per example/.test(e.message)) refused++;
  });
  const r = await t.run();
  expect(r.weights.every(Number.isFinite)).toBe(true);
  return { diff: relativeDifference(r.weights, reference), refused };
}

describe('robust aggregation against a peer within the gradient bound', () => {
  it("the median of per-shard means stays near the serial loop's weights; exact mode does not", async () => {
    const exact = await attacked('sum');
    const median = await attacked('median');
    // the poisoned shards pass the bound (5x the honest norm, the bound is 50x) in both runs
    expect(exact.refused).toBe(0);
    expect(median.refused).toBe(0);
    expect(exact.diff).toBeGreaterThan(0.02);
    expect(median.diff).toBeLessThan(exact.diff / 4);
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
