/**
 * Progress in the job's own terms (issue 21): a regression reports its loss as MSE, never an
 * accuracy of 0; a split that was not scored is null; run() returns the epochs' history; and
 * validationSplit holds out the training set's last examples, which are never trained on. Scores
 * are checked against tfjs computing them from the trainer's final weights.
 */
import { isGradroomError, type ModelSpec, sfc32 } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import { modelWithWeights } from '@gradroom/worker/export';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochReport, IterationReport } from '../src/events.js';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';

beforeAll(() => tf.setBackend('cpu'));

const F = 3;
/** y = a linear rule of x plus noise (regression), or its sign (classification). */
function data(n: number, seed: number, classes: boolean) {
  const rng = sfc32(seed);
  const x = new Float32Array(n * F);
  const y = classes ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < F; j++) {
      x[i * F + j] = rng.normal();
      t += x[i * F + j] * (j + 1) * 0.5;
    }
    y[i] = classes ? (t > 0 ? 1 : 0) : t + rng.normal() * 0.1;
  }
  return { x, y };
}

const reg: ModelSpec = { kind: 'mlp', inputShape: [F], hidden: [8], classes: 1, loss: 'mean-squared-error' };
const cls: ModelSpec = { kind: 'mlp', inputShape: [F], hidden: [8], classes: 2 };

function job(model: ModelSpec, over: Partial<JobConfig> = {}): JobConfig {
  const classes = model === cls;
  return {
    model,
    dataset: arraysDataset({
      name: 'rule',
      inputShape: [F],
      ...(classes ? { classes: 2 } : { targets: 1 }),
      train: data(200, 1, classes),
      test: data(100, 2, classes),
    }),
    optimizer: { kind: 'adam', lr: 0.02 },
    batchSize: 20,
    epochs: 2,
    seed: 5,
    ...over,
  };
}

async function run(j: JobConfig) {
  const t = new Trainer(j);
  const iterations: IterationReport[] = [];
  const epochs: EpochReport[] = [];
  t.on('iteration', (e) => iterations.push(e));
  t.on('epoch', (e) => epochs.push(e));
  t.addWorker(spawnThreadWorker());
  const result = await t.run();
  return { t, result, iterations, epochs };
}

/** MSE or (loss, accuracy) of the trained weights on some rows, by tfjs. */
async function scoreByTfjs(
  j: JobConfig,
  weights: Float32Array,
  layout: { name: string; shape: number[] }[],
  x: Float32Array,
  y: Float32Array | Int32Array,
) {
  const model = await modelWithWeights(j.model, layout, weights);
  try {
    return tf.tidy(() => {
      const out = model.predict(tf.tensor2d(x, [y.length, F])) as tf.Tensor2D;
      if (j.model.loss === 'mean-squared-error') {
        return {
          loss: tf.losses.meanSquaredError(tf.tensor2d(y as Float32Array, [y.length, 1]), out).dataSync()[0],
          accuracy: Number.NaN,
        };
      }
      const labels = tf.tensor1d(y as Int32Array, 'int32');
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 2), out).dataSync()[0];
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(out, 1), labels), 'float32')).dataSync()[0];
      return { loss, accuracy };
    });
  } finally {
    model.dispose();
  }
}

describe('progress in the job’s terms', () => {
  it('a regression reports MSE, never accuracy 0; its test MSE is what tfjs computes from the weights', async () => {
    const j = job(reg);
    const { t, result, iterations, epochs } = await run(j);
    await t.close();
    expect(iterations.length).toBe(20);
    for (const e of iterations) {
      expect(e.metric).toBe('mse');
      expect(e.metricValue).toBe(e.loss);
      expect(e.accuracy).toBeNaN(); // the legacy field: no accuracy for a regression
    }
    expect(result.metric).toBe('mse');
    expect(result.history.map((h) => h.epoch)).toEqual([0, 1]);
    expect(epochs.map((e) => e.test)).toEqual(result.history.map((h) => h.test));
    const last = result.history[1];
    expect(last.validation).toBeNull();
    expect(last.test?.metric).toBe(last.test?.loss);
    expect(last.train.metric).toBe(last.train.loss);
    expect(result.history[1].train.loss).toBeLessThan(result.history[0].train.loss);
    const test = (j.dataset as Extract<JobConfig['dataset'], { kind: 'arrays' }>).test;
    const want = await scoreByTfjs(j, result.weights, result.layout, test.x, test.y as Float32Array);
    expect(Math.abs((result.test?.loss ?? Number.NaN) - want.loss)).toBeLessThan(1e-5 * (1 + want.loss));
  }, 60_000);

  it('evaluate: false leaves the test fields null; trainer.evaluate() still scores on demand', async () => {
    const j = job(cls, { evaluate: false });
    const { t, result, epochs } = await run(j);
    try {
      expect(epochs.length).toBe(2);
      for (const e of epochs) {
        expect(e.test).toBeNull();
        expect(e.validation).toBeNull();
      }
      expect(result.test).toBeNull();
      expect(result.history.every((h) => h.test === null)).toBe(true);
      const score = await t.evaluate();
      const test = (j.dataset as Extract<JobConfig['dataset'], { kind: 'arrays' }>).test;
      const want = await scoreByTfjs(j, result.weights, result.layout, test.x, test.y as Int32Array);
      expect(score?.metric).toBeCloseTo(want.accuracy, 6);
      expect(Math.abs((score?.loss ?? Number.NaN) - want.loss)).toBeLessThan(1e-5 * (1 + want.loss));
    } finally {
      await t.close();
    }
  }, 60_000);

  it('validationSplit holds out the last quarter: never trained on, scored each epoch as tfjs scores it', async () => {
    const j = job(cls, { validationSplit: 0.25 });
    const { t, result, iterations } = await run(j);
    await t.close();
    const epoch0 = iterations.filter((e) => e.epoch === 0);
    expect(epoch0.reduce((n, e) => n + e.examples, 0)).toBe(150);
    expect(epoch0.length).toBe(8); // 150 examples in batches of 20
    for (const h of result.history) expect(h.validation).not.toBeNull();
    const train = (j.dataset as Extract<JobConfig['dataset'], { kind: 'arrays' }>).train;
    const want = await scoreByTfjs(
      j,
      result.weights,
      result.layout,
      train.x.subarray(150 * F),
      (train.y as Int32Array).subarray(150),
    );
    const v = result.history[1].validation;
    expect(v?.metric).toBeCloseTo(want.accuracy, 6);
    expect(Math.abs((v?.loss ?? Number.NaN) - want.loss)).toBeLessThan(1e-5 * (1 + want.loss));
  }, 60_000);

  it('refuses a validationSplit outside (0, 1) at new Trainer', () => {
    for (const v of [0, 1, 1.5, -0.1, Number.NaN]) {
      let err: unknown;
      try {
        new Trainer(job(cls, { validationSplit: v }));
      } catch (e) {
        err = e;
      }
      expect(isGradroomError(err, 'BAD_CONFIG')).toBe(true);
    }
  });
});
