/**
 * The job the exactness tests share (Node threads, Chromium Web Workers, rooms): 300 synthetic
 * examples, batch 64, so 5 iterations an epoch with a remainder batch of 44; 20 iterations cross 3
 * epoch boundaries, where the inverse-time decay changes the rate.
 */
import { makeSynthetic } from '@gradroom/worker';
import type { JobConfig } from '../src/job.js';
import type { Trainer } from '../src/trainer.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { serialTrain } from './reference/serial.js';

export const exactData = {
  kind: 'synthetic',
  seed: 5,
  examples: 300,
  features: 20,
  classes: 4,
  split: 'train',
} as const;
export const exactAdam = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
export const exactJob: JobConfig = {
  model: { kind: 'mlp', inputShape: [20], hidden: [16], classes: 4 },
  dataset: exactData,
  optimizer: { kind: 'adam', ...exactAdam },
  schedule: { kind: 'inverse-time', lr0: 0.01, decayRate: 0.5 },
  batchSize: 64,
  epochs: 10,
  seed: 11,
  maxIterations: 20,
  evaluate: false,
};

/** exactJob with plain SGD and a decaying rate: inner steps that mode local's anchors can equal exactly. */
export const sgdJob: JobConfig = {
  ...exactJob,
  optimizer: { kind: 'sgd', lr: 0.05 },
  schedule: { kind: 'inverse-time', lr0: 0.05, decayRate: 0.5 },
};

/** The serial loop's weights after `iterations` of exactJob (optionally with a rate of its own). */
export function exactReference(iterations = 20, lrAt?: (epoch: number, it: number) => number): Promise<Float32Array> {
  return serialTrain(
    {
      hidden: [16],
      inputFeatures: 20,
      classes: 4,
      batchSize: 64,
      seed: 11,
      iterations,
      adam: exactAdam,
      schedule: exactJob.schedule,
      lrAt,
    },
    makeSynthetic(exactData),
  );
}

/**
 * Overlap: tells a local request started early, for a round not open yet, from its round's own.
 * A round opens when the one before closes (its 'iteration' event, emitted before the next round
 * sends anything), so a request for a round past the open one was sent ahead.
 */
export function earlyRounds(t: Trainer): (round: number) => boolean {
  let open = 0;
  t.on('iteration', (e) => {
    open = e.iteration;
  });
  return (round) => round > open;
}

/**
 * Overlap tests: `h` answers each local group only once `back()` (the other members' groups come
 * back) has grown by `n` since this one was sent, and 20 ms more, so their early groups of the next
 * round have started: the round closes, and its catch-up goes out, while those train. Bounded: it
 * waits 20 s at most.
 */
export function holdingRoundOpen(h: WorkerHandle, back: () => number, n: number): WorkerHandle {
  const train = h.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  return {
    ...h,
    trainLocal: async (req) => {
      const before = back();
      const r = await train(req);
      const end = Date.now() + 20_000;
      while (back() < before + n && Date.now() < end) await new Promise((ok) => setTimeout(ok, 5));
      await new Promise((ok) => setTimeout(ok, 20));
      return r;
    },
  };
}
