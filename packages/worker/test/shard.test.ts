/**
 * The worker's gradient of one shard against an independent computation, its bookkeeping (sums,
 * correct count), tensor hygiene over a long run, the data sets and their errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { specLayout, type TaskSpec } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MNIST_SIZES, ZOO } from '../src/catalog.js';
import { gather } from '../src/data/dataset.js';
import { parseMnist } from '../src/data/mnist.js';
import { makeSynthetic } from '../src/data/synthetic.js';
import { ShardWorker } from '../src/shard-worker.js';

const mnistBytes = () => new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'dist', 'mnist.bin')));
const synth = { kind: 'synthetic', seed: 3, examples: 200, features: 12, classes: 3, split: 'train' } as const;
const task: TaskSpec = {
  model: { kind: 'mlp', inputShape: [12], hidden: [8], classes: 3 },
  dataset: synth,
  layout: [],
  paramCount: 0,
};

async function worker(t: TaskSpec = task) {
  const w = new ShardWorker(async () => mnistBytes());
  const info = await w.init({ task: t, backends: ['cpu'] });
  return { w, info };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ShardWorker', () => {
  it('reports its backend, why faster ones were skipped, and the model layout', async () => {
    const w = new ShardWorker(async () => mnistBytes());
    const info = await w.init({ task });
    expect(info.backend).toBe('wasm'); // Node has no WebGPU adapter and no WebGL here
    expect(info.skipped.map((s) => s.backend)).toEqual(['webgpu', 'webgl']);
    expect(info.skipped[1].reason).toMatch(/OffscreenCanvas/);
    expect(info.skipped[0].reason).toMatch(/navigator\.gpu|adapter/);
    expect(info.layout).toEqual([
      { name: 'dense_0/kernel', shape: [12, 8] },
      { name: 'dense_0/bias', shape: [8] },
      { name: 'logits/kernel', shape: [8, 3] },
      { name: 'logits/bias', shape: [3] },
    ]);
    expect(info.paramCount).toBe(12 * 8 + 8 + 8 * 3 + 3);
    expect(info.layout).toEqual(specLayout(task.model));
  });

  it('returns sums: the shard gradient equals n times tfjs mean-loss gradient; loss and correct count match', async () => {
    const { w, info } = await worker();
    const weights = Float32Array.from({ length: info.paramCount }, (_, i) => Math.sin(i) * 0.3);
    await w.setWeights(7, weights);
    const indices = Uint32Array.from([3, 17, 42, 99, 150, 151, 0]);
    const r = await w.compute({ iteration: 2, version: 7, shardId: 5, indices });
    expect(r).toMatchObject({ iteration: 2, version: 7, shardId: 5, count: 7 });
    // independent: a plain tfjs model with these weights, mean softmax cross-entropy, times n
    const ds = makeSynthetic(synth);
    const ex = gather(ds, indices);
    const k1 = tf.variable(tf.tensor(weights.subarray(0, 96), [12, 8]));
    const b1 = tf.variable(tf.tensor(weights.subarray(96, 104), [8]));
    const k2 = tf.variable(tf.tensor(weights.subarray(104, 128), [8, 3]));
    const b2 = tf.variable(tf.tensor(weights.subarray(128, 131), [3]));
    const x = tf.tensor2d(ex.x, [7, 12]);
    const y = tf.oneHot(tf.tensor1d(ex.y, 'int32'), 3);
    const logits = () => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, k1), b1)), k2), b2);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, logits()) as tf.Scalar,
      [k1, b1, k2, b2],
    );
    const ref = new Float32Array(131);
    let o = 0;
    for (const v of [k1, b1, k2, b2]) {
      const g = grads[v.name].dataSync();
      for (let i = 0; i < g.length; i++) ref[o + i] = g[i] * 7;
      o += g.length;
    }
    for (let i = 0; i < 131; i++) expect(r.gradSum[i]).toBeCloseTo(ref[i], 5);
    expect(r.lossSum).toBeCloseTo(value.dataSync()[0] * 7, 4);
    const predicted = tf.argMax(logits(), 1).dataSync();
    expect(r.correct).toBe([...predicted].filter((p, i) => p === ex.y[i]).length);
  });

  it('computes the same sums from examples sent inline as from indices into the data it holds', async () => {
    const { w, info } = await worker();
    await w.setWeights(
      1,
      Float32Array.from({ length: info.paramCount }, (_, i) => Math.cos(i) * 0.2),
    );
    const indices = Uint32Array.from([5, 6, 7, 100]);
    const byIndex = await w.compute({ iteration: 0, version: 1, shardId: 0, indices });
    const inline = await w.compute({
      iteration: 0,
      version: 1,
      shardId: 1,
      indices: new Uint32Array(0),
      inline: gather(makeSynthetic(synth), indices),
    });
    expect(inline.count).toBe(4);
    expect(inline.gradSum).toEqual(byIndex.gradSum);
    expect(inline.lossSum).toBe(byIndex.lossSum);
  });

  it('disposes every tensor: the count after 500 shards equals the count after 5', async () => {
    const { w, info } = await worker();
    await w.setWeights(0, new Float32Array(info.paramCount).fill(0.01));
    const run = async (n: number) => {
      for (let s = 0; s < n; s++)
        await w.compute({ iteration: s, version: 0, shardId: s, indices: Uint32Array.from([s % 200, (s * 7) % 200]) });
      await w.evaluate({ version: 0, indices: Uint32Array.from([1, 2, 3]), split: 'test' });
      await w.setWeights(0, new Float32Array(info.paramCount).fill(0.01));
    };
    await run(5);
    const after5 = (await w.memory()).numTensors;
    await run(500);
    expect((await w.memory()).numTensors).toBe(after5);
  });

  it('refuses work against another weights version, bad indices and a task before init', async () => {
    const { w, info } = await worker();
    await w.setWeights(3, new Float32Array(info.paramCount));
    await expect(w.compute({ iteration: 0, version: 2, shardId: 0, indices: Uint32Array.from([1]) })).rejects.toThrow(
      /version 2.*holds 3/,
    );
    await expect(
      w.compute({ iteration: 0, version: 3, shardId: 0, indices: Uint32Array.from([1, 200]) }),
    ).rejects.toThrow(/index 200 is outside 0..199/);
    await expect(w.setWeights(4, new Float32Array(5))).rejects.toThrow(/expected 131/);
    const fresh = new ShardWorker(async () => mnistBytes());
    await expect(
      fresh.compute({ iteration: 0, version: 0, shardId: 0, indices: Uint32Array.from([1]) }),
    ).rejects.toThrow(/no task yet/);
  });

  it('rejects a task whose layout does not match the model it builds', async () => {
    const w = new ShardWorker(async () => mnistBytes());
    await expect(
      w.init({
        task: { ...task, layout: [{ name: 'dense_0/kernel', shape: [12, 9] }], paramCount: 108 },
        backends: ['cpu'],
      }),
    ).rejects.toThrow(/layout/);
  });

  it('builds the CNN from the zoo and computes a finite gradient on real MNIST', async () => {
    const { w, info } = await worker({
      model: ZOO['cnn-small'],
      dataset: { kind: 'mnist', split: 'train' },
      layout: [],
      paramCount: 0,
    });
    expect(info.trainSize).toBe(MNIST_SIZES.train);
    expect(info.testSize).toBe(MNIST_SIZES.test);
    await w.setWeights(
      0,
      Float32Array.from({ length: info.paramCount }, (_, i) => Math.cos(i) * 0.05),
    );
    const r = await w.compute({ iteration: 0, version: 0, shardId: 0, indices: Uint32Array.from([0, 1, 2, 3]) });
    expect(r.gradSum.length).toBe(info.paramCount);
    expect(r.gradSum.every(Number.isFinite)).toBe(true);
    expect(r.gradSum.some((g) => g !== 0)).toBe(true);
  });

  it('moves past a backend that lacks a kernel the model needs, and says why', async () => {
    const w = new ShardWorker(async () => mnistBytes());
    const info = await w.init({
      task: { model: ZOO['cnn-small'], dataset: { kind: 'mnist', split: 'train' }, layout: [], paramCount: 0 },
      backends: ['wasm', 'cpu'],
    });
    expect(info.backend).toBe('cpu');
    expect(info.layout).toEqual(specLayout(ZOO['cnn-small']));
    expect(info.skipped).toEqual([
      { backend: 'wasm', reason: expect.stringMatching(/cannot train this model: .*Conv2DBackpropFilter/) },
    ]);
  });

  it('rejects a model that does not fit the data set', async () => {
    const w = new ShardWorker(async () => mnistBytes());
    await expect(w.init({ task: { ...task, model: ZOO['mlp-small'] }, backends: ['cpu'] })).rejects.toThrow(
      /takes 784 inputs \(\[28,28,1\]\); the data set synthetic\/train has 12 features per example/,
    );
  });
});

describe('data sets', () => {
  it('MNIST: the documented 80/20 split per digit, pixels in [0,1], every digit in both splits', () => {
    const train = parseMnist(mnistBytes(), 'train');
    const test = parseMnist(mnistBytes(), 'test');
    expect(train.size).toBe(MNIST_SIZES.train);
    expect(test.size).toBe(MNIST_SIZES.test);
    expect(train.size + test.size).toBe(10000);
    for (const ds of [train, test]) {
      expect(new Set(ds.y).size).toBe(10);
      expect(Math.max(...ds.x.subarray(0, 784 * 20))).toBeLessThanOrEqual(1);
      expect(Math.min(...ds.x.subarray(0, 784 * 20))).toBeGreaterThanOrEqual(0);
    }
    expect(() => parseMnist(new Uint8Array(30), 'train')).toThrow(/not a gradroom MNIST file/);
  });

  it('synthetic data is reproducible from its seed, and different per split', () => {
    const a = makeSynthetic(synth);
    expect(makeSynthetic(synth).x).toEqual(a.x);
    expect(makeSynthetic({ ...synth, split: 'test' }).x).not.toEqual(a.x);
    expect(() => makeSynthetic({ ...synth, classes: 1 })).toThrow(/bad sizes/);
  });
});
