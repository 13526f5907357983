/**
 * Each named loss against tfjs's own tf.losses.* on an independently built model: loss sum and
 * gradient sum over a shard are n times the mean tfjs computes; the correct count follows the loss;
 * a model whose output does not fit its loss is rejected. And the portable CNN: cnn-small's function
 * on every backend.
 */
import { type LossName, type ModelSpec, specLayout, type TaskSpec, ZOO } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { arraysDataset } from '../src/data/arrays.js';
import { ShardWorker } from '../src/shard-worker.js';

const noFiles = async (): Promise<Uint8Array> => {
  throw new Error('no packed files here');
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 40;
const F = 6;
function features(seed: number): Float32Array {
  return Float32Array.from({ length: N * F }, (_, i) => Math.sin(i * 1.7 + seed) * 2);
}

/** Data for each loss: labels for softmax, 0/1 labels or 0/1 targets for sigmoid, float targets for regression. */
function data(kind: 'labels3' | 'labels2' | 'binary2' | 'values2') {
  const x = features(1);
  if (kind === 'labels3')
    return arraysDataset({
      inputShape: [F],
      classes: 3,
      train: { x, y: Int32Array.from({ length: N }, (_, i) => (i * 7) % 3) },
      test: { x, y: new Int32Array(N) },
    });
  if (kind === 'labels2')
    return arraysDataset({
      inputShape: [F],
      classes: 2,
      train: { x, y: Int32Array.from({ length: N }, (_, i) => (i * 5) % 2) },
      test: { x, y: new Int32Array(N) },
    });
  const y = Float32Array.from({ length: N * 2 }, (_, i) => (kind === 'binary2' ? (i * 3) % 2 : Math.cos(i) * 3));
  return arraysDataset({ inputShape: [F], targets: 2, train: { x, y }, test: { x, y } });
}

/** The same MLP as the zoo's, built here with plain tfjs layers. */
function plainMlp(units: number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 5, activation: 'relu', inputShape: [F] }));
  m.add(tf.layers.dense({ units }));
  return m;
}

function tfjsLoss(loss: LossName, y: tf.Tensor, out: tf.Tensor, classes: number): tf.Scalar {
  switch (loss) {
    case 'softmax-cross-entropy':
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, classes), out) as tf.Scalar;
    case 'sigmoid-cross-entropy':
      return tf.losses.sigmoidCrossEntropy(
        y.rank === 1 ? tf.reshape(tf.cast(y, 'float32'), [-1, 1]) : y,
        out,
      ) as tf.Scalar;
    case 'mean-squared-error':
      return tf.losses.meanSquaredError(y, out) as tf.Scalar;
    case 'mean-absolute-error':
      return tf.losses.absoluteDifference(y, out) as tf.Scalar;
  }
}

const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
};

const cases: [LossName, Parameters<typeof data>[0], number][] = [
  ['softmax-cross-entropy', 'labels3', 3],
  ['sigmoid-cross-entropy', 'labels2', 1],
  ['sigmoid-cross-entropy', 'binary2', 2],
  ['mean-squared-error', 'values2', 2],
  ['mean-absolute-error', 'values2', 2],
];

describe('losses: sums over a shard equal n times tfjs mean loss and its gradient', () => {
  for (const [loss, kind, units] of cases) {
    it(`${loss} on ${kind}`, async () => {
      const dataset = data(kind);
      const task: TaskSpec = {
        model: { kind: 'mlp', inputShape: [F], hidden: [5], classes: units, loss },
        dataset,
        layout: [],
        paramCount: 0,
      };
      const w = new ShardWorker(noFiles);
      const info = await w.init({ task, backends: ['cpu'] });
      const weights = Float32Array.from({ length: info.paramCount }, (_, i) => Math.sin(i * 0.37) * 0.5);
      await w.setWeights(1, weights);
      const indices = Uint32Array.from([0, 3, 5, 8, 13, 21, 34, 39, 2]);
      const tensors = tf.memory().numTensors;
      const r = await w.compute({ iteration: 0, version: 1, shardId: 0, indices });
      await w.evaluate({ version: 1, indices, split: 'test' });
      expect(tf.memory().numTensors).toBe(tensors); // every tensor a loss makes is disposed
      expect(r.count).toBe(indices.length);

      // independent: plain layers, tfjs's own loss with its mean reduction, times n
      const m = plainMlp(units);
      let o = 0;
      for (const v of m.trainableWeights) {
        const size = v.shape.reduce((a: number, b) => a * (b as number), 1);
        (v.read() as tf.Variable).assign(tf.tensor(weights.subarray(o, o + size), v.shape as number[]));
        o += size;
      }
      const n = indices.length;
      const ix = Array.from(indices);
      const x = tf.tensor2d(
        ix.flatMap((i) => Array.from(dataset.train.x.subarray(i * F, (i + 1) * F))),
        [n, F],
      );
      const t =
        dataset.classes > 0
          ? tf.tensor1d(
              ix.map((i) => dataset.train.y[i]),
              'int32',
            )
          : tf.tensor2d(
              ix.flatMap((i) => [dataset.train.y[2 * i], dataset.train.y[2 * i + 1]]),
              [n, 2],
            );
      const vars = m.trainableWeights.map((v) => v.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tfjsLoss(loss, t, m.predict(x) as tf.Tensor, dataset.classes),
        vars,
      );
      const g = new Float32Array(info.paramCount);
      o = 0;
      for (const v of vars) {
        const d = grads[v.name].dataSync();
        g.set(d, o);
        o += d.length;
      }
      expect(r.lossSum / n).toBeCloseTo(value.dataSync()[0], 5);
      expect(
        rel(
          r.gradSum.map((v) => v / n),
          g,
        ),
      ).toBeLessThan(1e-5);

      // the correct count follows the loss: argmax, thresholded logits, or 0 for regression
      const out = (m.predict(x) as tf.Tensor).arraySync() as number[][];
      const want = out.filter((row, k) => {
        if (loss === 'softmax-cross-entropy') return row.indexOf(Math.max(...row)) === dataset.train.y[ix[k]];
        if (kind === 'labels2') return (row[0] > 0 ? 1 : 0) === dataset.train.y[ix[k]];
        if (kind === 'binary2') return row.every((z, j) => (z > 0 ? 1 : 0) === dataset.train.y[2 * ix[k] + j]);
        return false;
      }).length;
      expect(r.correct).toBe(want);
      if (kind === 'values2') expect(r.correct).toBe(0);

      // evaluation reports the same sums without a gradient
      const e = await w.evaluate({ version: 1, indices, split: 'train' });
      expect(e.lossSum).toBeCloseTo(r.lossSum, 4);
      expect(e.count).toBe(n);
      tf.dispose([x, t, value, ...Object.values(grads)]);
      m.dispose();
      await w.dispose();
    });
  }
});

describe('a model that does not fit its loss is rejected with a clear message', () => {
  const init = (model: ModelSpec, dataset: TaskSpec['dataset']) =>
    new ShardWorker(noFiles).init({ task: { model, dataset, layout: [], paramCount: 0 }, backends: ['cpu'] });

  it('regression losses need float targets; softmax needs labels; widths must match', async () => {
    await expect(
      init({ kind: 'mlp', inputShape: [F], hidden: [], classes: 3, loss: 'mean-squared-error' }, data('labels3')),
    ).rejects.toThrow(
      'mean-squared-error needs float targets; arrays/train has class labels: use softmax-cross-entropy',
    );
    await expect(init({ kind: 'mlp', inputShape: [F], hidden: [], classes: 2 }, data('values2'))).rejects.toThrow(
      /softmax-cross-entropy needs integer class labels; arrays\/train has float targets/,
    );
    await expect(
      init({ kind: 'mlp', inputShape: [F], hidden: [], classes: 3, loss: 'mean-absolute-error' }, data('values2')),
    ).rejects.toThrow('the model predicts 3 outputs; arrays/train has 2 targets per example');
    await expect(
      init({ kind: 'mlp', inputShape: [F], hidden: [], classes: 2, loss: 'sigmoid-cross-entropy' }, data('labels2')),
    ).rejects.toThrow(/needs 2 classes and 1 output/);
  });

  it('a topology whose last layer already applies softmax is refused for cross-entropy', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 3, activation: 'softmax', inputShape: [F], name: 'probs' }));
    const topology = m.toJSON(null, false) as Record<string, unknown>;
    m.dispose();
    await expect(init({ kind: 'layers', topology, classes: 3 }, data('labels3'))).rejects.toThrow(
      "the model's last layer 'probs' applies softmax, and softmax-cross-entropy applies it again: make the last layer linear",
    );
  });

  it('sigmoid cross-entropy refuses targets outside [0, 1], naming the example', async () => {
    const y = Float32Array.from({ length: N * 2 }, (_, i) => (i === 9 ? 1.5 : 0));
    const ds = arraysDataset({
      inputShape: [F],
      targets: 2,
      train: { x: features(2), y },
      test: { x: features(2), y },
    });
    await expect(
      init({ kind: 'mlp', inputShape: [F], hidden: [], classes: 2, loss: 'sigmoid-cross-entropy' }, ds),
    ).rejects.toThrow('arrays/train: example 4 has target 1.5; sigmoid-cross-entropy needs targets in [0, 1]');
  });
});

describe('cnn-portable: cnn-small as Conv3D', () => {
  const images = () => {
    const x = Float32Array.from({ length: 12 * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000);
    const y = Int32Array.from({ length: 12 }, (_, i) => i % 10);
    return arraysDataset({ inputShape: [28, 28, 1], classes: 10, train: { x, y }, test: { x, y } });
  };

  it('has the layout core computes, and the same gradient as cnn-small for the same weights', async () => {
    const dataset = images();
    const run = async (model: ModelSpec, backends: ('cpu' | 'wasm')[]) => {
      const w = new ShardWorker(noFiles);
      const info = await w.init({ task: { model, dataset, layout: [], paramCount: 0 }, backends });
      const weights = Float32Array.from({ length: info.paramCount }, (_, i) => Math.sin(i * 0.11) * 0.2);
      await w.setWeights(0, weights);
      const r = await w.compute({
        iteration: 0,
        version: 0,
        shardId: 0,
        indices: Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
      });
      await w.dispose();
      return { info, r };
    };
    const small = await run(ZOO['cnn-small'], ['cpu']);
    const portable = await run(ZOO['cnn-portable'], ['cpu']);
    expect(portable.info.layout).toEqual(specLayout(ZOO['cnn-portable']));
    expect(portable.info.layout[0]).toEqual({ name: 'conv_0/kernel', shape: [1, 3, 3, 1, 8] });
    expect(portable.info.paramCount).toBe(small.info.paramCount);
    expect(portable.r.lossSum).toBeCloseTo(small.r.lossSum, 4);
    expect(rel(portable.r.gradSum, small.r.gradSum)).toBeLessThan(1e-5);

    // on wasm: cnn-small falls back to cpu, cnn-portable stays on wasm with the same gradient
    const smallWasm = await run(ZOO['cnn-small'], ['wasm', 'cpu']);
    expect(smallWasm.info.backend).toBe('cpu');
    expect(smallWasm.info.skipped[0].reason).toMatch(/Conv2DBackpropFilter/);
    const portableWasm = await run(ZOO['cnn-portable'], ['wasm', 'cpu']);
    expect(portableWasm.info.backend).toBe('wasm');
    expect(rel(portableWasm.r.gradSum, small.r.gradSum)).toBeLessThan(1e-4);
    await tf.setBackend('cpu');
  });
});
