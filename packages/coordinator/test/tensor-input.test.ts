/**
 * tf.Tensors and tf.data as a job's data (issue 21 item 8), on tfjs's real cpu backend: tensors are
 * read once at `new Trainer` into an arrays data set, so a run from tensors is the run from the same
 * numbers as arrays; `fromTfDataset` reads batches (bounded, disposing each) into the same; every bad
 * input is a typed error at construction.
 */
import { type ErrorCode, isGradroomError, type ModelSpec, sfc32 } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRoomDataset } from '../src/room/host.js';
import { fromTfDataset } from '../src/tf-dataset.js';
import { type JobInput, Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';

beforeAll(() => tf.setBackend('cpu'));

function blobs(n: number, seed: number) {
  const rng = sfc32(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (i * 7) % 3;
    x[2 * i] = Math.cos((2 * Math.PI * y[i]) / 3) * 2 + rng.normal() * 0.3;
    x[2 * i + 1] = Math.sin((2 * Math.PI * y[i]) / 3) * 2 + rng.normal() * 0.3;
  }
  return { x, y };
}
const train = blobs(120, 1);
const test = blobs(60, 2);
const mlp: ModelSpec = { kind: 'mlp', inputShape: [2], hidden: [8], classes: 3 };

const job = (dataset: JobInput['dataset'], over: Partial<JobInput> = {}): JobInput => ({
  model: mlp,
  dataset,
  optimizer: { kind: 'adam', lr: 0.05 },
  batchSize: 16,
  epochs: 2,
  seed: 4,
  ...over,
});

const oneHot = (y: Int32Array) => tf.oneHot(tf.tensor1d(y, 'int32'), 3).toFloat();
const tensors = (s: { x: Float32Array; y: Int32Array }) => ({
  xs: tf.tensor2d(s.x, [s.x.length / 2, 2]),
  ys: oneHot(s.y),
});

async function train1(t: Trainer) {
  t.addWorker(spawnThreadWorker());
  try {
    return await t.run();
  } finally {
    await t.close();
  }
}

function refusal(f: () => unknown, code: ErrorCode): string {
  try {
    f();
  } catch (e) {
    expect(isGradroomError(e, code), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('nothing was thrown');
}

async function refusalAsync(f: () => Promise<unknown>, code: ErrorCode): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(isGradroomError(e, code), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('nothing was thrown');
}

describe('tf.Tensors as the data set', () => {
  it('a run from tensors (one-hot ys) gives the weights of the run from the same numbers as arrays', async () => {
    const tr = tensors(train);
    const te = tensors(test);
    const fromTensors = new Trainer(job({ kind: 'tensors', ...tr, test: te }));
    // read at new Trainer: the app may dispose its tensors at once
    tf.dispose([tr.xs, tr.ys, te.xs, te.ys]);
    expect(fromTensors.job.dataset.kind).toBe('arrays');
    // only this process holds them: a room refuses, as for arrays
    expect(refusal(() => checkRoomDataset(fromTensors), 'BAD_CONFIG')).toMatch(/tensors and tf\.data become one/);
    const a = await train1(fromTensors);
    const arrays = arraysDataset({ name: 'blobs', inputShape: [2], classes: 3, train, test });
    const b = await train1(new Trainer(job(arrays)));
    expect(a.position.iteration).toBe(16); // 2 epochs of 8 mini-batches
    expect(a.weights.length).toBe(b.weights.length);
    let worst = 0;
    for (let i = 0; i < a.weights.length; i++) worst = Math.max(worst, Math.abs(a.weights[i] - b.weights[i]));
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(a.test?.metric).toBe(b.test?.metric);
  });

  it('class indices ([n] int32) and regression targets ([n, 1]) convert as the model needs', () => {
    const labels = new Trainer(
      job({
        kind: 'tensors',
        xs: tf.tensor2d(train.x, [120, 2]),
        ys: tf.tensor1d(train.y, 'int32'),
        test: { xs: tf.tensor2d(test.x, [60, 2]), ys: tf.tensor2d(test.y, [60, 1], 'int32') },
      }),
    );
    const d = labels.job.dataset as Extract<typeof labels.job.dataset, { kind: 'arrays' }>;
    expect([...d.train.y]).toEqual([...train.y]);
    expect([...d.test.y]).toEqual([...test.y]);
    expect(d.classes).toBe(3);
    const targets = Float32Array.from(train.y, (v) => v * 0.5 + 1);
    const reg = new Trainer(
      job(
        {
          kind: 'tensors',
          xs: tf.tensor2d(train.x, [120, 2]),
          ys: tf.tensor2d(targets, [120, 1]),
          test: { xs: tf.tensor2d(test.x, [60, 2]), ys: tf.tensor1d(Float32Array.from(test.y)) },
        },
        { model: { ...mlp, classes: 1, loss: 'mean-squared-error' } },
      ),
    );
    const r = reg.job.dataset as typeof d;
    expect(r.classes).toBe(0);
    expect(r.targets).toBe(1);
    expect([...r.train.y]).toEqual([...targets]);
    expect([...r.train.x]).toEqual([...train.x]);
  });

  it('every bad input is a typed error at new Trainer', () => {
    const good = () => tensors(train);
    const t = (over: Record<string, unknown>, model?: JobInput['model']) =>
      new Trainer(
        job(
          { kind: 'tensors', ...good(), test: tensors(test), ...over } as JobInput['dataset'],
          model ? { model } : {},
        ),
      );
    expect(refusal(() => t({ xs: tf.tensor1d(train.x) }), 'BAD_DATA')).toMatch(
      /dataset\.xs has shape \[240\]: it needs \[examples, \.\.\.features\]/,
    );
    expect(refusal(() => t({ xs: tf.tensor2d([['a', 'b']]) }), 'BAD_DATA')).toMatch(/dataset\.xs has dtype string/);
    expect(refusal(() => t({ ys: oneHot(train.y.subarray(0, 119)) }), 'BAD_DATA')).toMatch(
      /dataset\.ys has 119 examples; the features have 120/,
    );
    const nan = train.x.slice();
    nan[2 * 7 + 1] = Number.NaN;
    expect(refusal(() => t({ xs: tf.tensor2d(nan, [120, 2]) }), 'BAD_DATA')).toMatch(
      /example 7 has a non-finite feature \(NaN\) at position 1/,
    );
    const gone = tf.tensor2d(train.x, [120, 2]);
    gone.dispose();
    expect(refusal(() => t({ xs: gone }), 'BAD_DATA')).toMatch(/dataset\.xs is disposed/);
    const twoHot = oneHot(train.y).arraySync() as number[][];
    twoHot[5][0] = 1;
    twoHot[5][1] = 1;
    expect(refusal(() => t({ ys: tf.tensor2d(twoHot) }), 'BAD_DATA')).toMatch(/example 5 is not a one-hot row/);
    expect(
      refusal(() => t({ ys: tf.tensor1d(Float32Array.from(train.y, (v, i) => (i === 9 ? 1.5 : v))) }), 'BAD_DATA'),
    ).toMatch(/example 9 has label 1\.5/);
    expect(refusal(() => t({ ys: tf.tensor2d(train.y, [60, 2]) }), 'BAD_DATA')).toMatch(/dataset\.ys has 60 examples/);
    expect(refusal(() => t({ test: undefined }), 'BAD_CONFIG')).toMatch(/dataset\.test is missing/);
    expect(refusal(() => t({ xs: [[1, 2]] }), 'BAD_CONFIG')).toMatch(/dataset\.xs must be a tf\.Tensor/);
    expect(refusal(() => t({ test: { xs: tf.tensor3d(test.x, [60, 2, 1]), ys: oneHot(test.y) } }), 'BAD_DATA')).toMatch(
      /dataset\.test\.xs has examples of shape \[2,1\]/,
    );
    // the model against the data, as for arrays
    expect(refusal(() => t({}, { ...mlp, inputShape: [3] }), 'BAD_CONFIG')).toMatch(/takes 3 inputs/);
    expect(refusal(() => t({}, { ...mlp, classes: 2, loss: 'mean-squared-error' }), 'BAD_DATA')).toMatch(
      /model predicts 2 targets per example/,
    );
  });
});

describe('fromTfDataset', () => {
  const rows = (s: { x: Float32Array; y: Int32Array }) =>
    Array.from(s.y, (y, i) => ({ xs: [s.x[2 * i], s.x[2 * i + 1]], ys: y }));

  it('reads fitDataset-style batches into the arrays (same numbers), disposes them, and the run trains', async () => {
    const before = tf.memory().numTensors;
    const dataset = await fromTfDataset(tf.data.array(rows(train)).batch(32), {
      classes: 3,
      test: tf.data.array(rows(test)).batch(7),
    });
    expect(tf.memory().numTensors).toBe(before); // every element's tensors disposed
    expect([...dataset.train.x]).toEqual([...train.x]);
    expect([...dataset.train.y]).toEqual([...train.y]);
    expect([...dataset.test.y]).toEqual([...test.y]);
    const r = await train1(new Trainer(job(dataset, { epochs: 3 })));
    expect(r.test?.metric).toBeGreaterThan(0.9); // three separated blobs: chance is 1/3
  });

  it('one-hot ys, elements of one example (batched: false), test as tensors', async () => {
    const ds = tf.data
      .zip({ xs: tf.data.array(rows(train).map((r) => r.xs)), ys: tf.data.array(rows(train).map((r) => r.ys)) })
      .map((e) => {
        const { xs, ys } = e as { xs: number[]; ys: number };
        return { xs: tf.tensor1d(xs), ys: tf.oneHot(ys, 3) };
      });
    const d = await fromTfDataset(ds, { classes: 3, batched: false, test: tensors(test) });
    expect([...d.train.y]).toEqual([...train.y]);
    expect(d.inputShape).toEqual([2]);
  });

  it('maxExamples takes the first examples, cutting a batch; without it an endless data set is refused', async () => {
    const d = await fromTfDataset(tf.data.array(rows(train)).batch(32), {
      classes: 3,
      maxExamples: 50,
      test: tensors(test),
    });
    expect([...d.train.y]).toEqual([...train.y.subarray(0, 50)]);
    // 100 M examples: as good as endless for the bound
    const endless = tf.data.generator(function* () {
      for (let i = 0; i < 1000; i++) yield { xs: tf.zeros([100_000, 2]), ys: tf.zeros([100_000], 'int32') };
    });
    expect(await refusalAsync(() => fromTfDataset(endless, { classes: 3, test: tensors(test) }), 'BAD_DATA')).toMatch(
      /holds more than 1000000 examples: give maxExamples/,
    );
  });

  it('refuses elements that are not { xs, ys }, single examples read as batches, and missing options', async () => {
    const test2 = tensors(test);
    expect(
      await refusalAsync(() => fromTfDataset(tf.data.array([1, 2, 3]), { classes: 3, test: test2 }), 'BAD_DATA'),
    ).toMatch(/element 0 is not \{ xs, ys \}/);
    expect(
      await refusalAsync(() => fromTfDataset(tf.data.array(rows(train)), { classes: 3, test: test2 }), 'BAD_DATA'),
    ).toMatch(/element 0 is not \{ xs, ys \}/); // unbatched rows of numbers: no tensors
    const single = tf.data.array(rows(train)).map((r) => {
      const { xs, ys } = r as { xs: number[]; ys: number };
      return { xs: tf.tensor1d(xs), ys: tf.scalar(ys) };
    });
    expect(await refusalAsync(() => fromTfDataset(single, { classes: 3, test: test2 }), 'BAD_DATA')).toMatch(
      /give batched: false/,
    );
    const batches = tf.data.array(rows(train)).batch(32);
    expect(await refusalAsync(() => fromTfDataset(batches, { test: test2 } as never), 'BAD_CONFIG')).toMatch(
      /classes .* or targets/,
    );
    expect(await refusalAsync(() => fromTfDataset(batches, { classes: 3 } as never), 'BAD_CONFIG')).toMatch(
      /give test/,
    );
    expect(await refusalAsync(() => fromTfDataset({} as never, { classes: 3, test: test2 }), 'BAD_CONFIG')).toMatch(
      /must be a tf\.data\.Dataset/,
    );
  });
});
