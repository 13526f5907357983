/**
 * Draw to train on the worker: a student's drawings mixed into mode local's inner steps (checked
 * against a plain loop on a quadratic whose gradient is known in closed form), the shared sums left
 * exactly the shared mini-batches', the federated evaluation per digit against a forward pass
 * written out here, and bad drawings refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GradroomError, type TaskSpec } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gather } from '../src/data/dataset.js';
import { parseMnist } from '../src/data/mnist.js';
import { LocalTrainer } from '../src/local.js';
import { OWN_SHARE, type OwnExamples } from '../src/own-data.js';
import type { ShardComputer } from '../src/shard.js';
import { ShardWorker } from '../src/shard-worker.js';

const mnistBytes = () => new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'dist', 'mnist.bin')));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** f(w) = sum_i 0.5 ||w - x_i||^2: gradient sum n w - sum x_i, known without tfjs. */
function quadratic(dim: number) {
  let w = new Float32Array(dim);
  const calls: number[] = [];
  const computer = {
    setWeights: (p: Float32Array) => {
      w = p.slice();
    },
    compute: async (ex: { x: Float32Array; y: Int32Array }) => {
      const n = ex.y.length;
      calls.push(n);
      const gradSum = new Float32Array(dim);
      let lossSum = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < dim; j++) {
          const d = w[j] - ex.x[i * dim + j];
          gradSum[j] += d;
          lossSum += 0.5 * d * d;
        }
      return { gradSum, lossSum, correct: n - 1, count: n };
    },
  };
  return { computer: computer as unknown as ShardComputer, calls };
}

const examples = (n: number, dim: number, seed: number) => {
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(seed * 7.1 + i * 1.3);
  return { x, y: new Int32Array(n) };
};
const mean = (x: Float32Array, n: number, dim: number) => {
  const m = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) m[j] += x[i * dim + j] / n;
  return m;
};

describe('LocalTrainer with own examples', () => {
  it('mixes a fixed share of each step from the drawings, and counts only the shared examples', async () => {
    const dim = 5;
    const start = Float32Array.from({ length: dim }, (_, j) => j * 0.3 - 0.5);
    const batches = [examples(8, dim, 1), examples(6, dim, 2), examples(8, dim, 3)];
    const own = examples(4, dim, 9);
    const lrs = [0.1, 0.2, 0.05];
    const { computer, calls } = quadratic(dim);
    const r = await new LocalTrainer().round(computer, start, batches, lrs, { kind: 'sgd', lr: 0.1 }, 'none', own);
    // the plain loop: w -= lr ((1 - s)(w - mean shared) + s (w - mean own))
    const w = Float64Array.from(start);
    const mo = mean(own.x, 4, dim);
    batches.forEach((b, k) => {
      const ms = mean(b.x, b.y.length, dim);
      for (let j = 0; j < dim; j++) w[j] -= lrs[k] * ((1 - OWN_SHARE) * (w[j] - ms[j]) + OWN_SHARE * (w[j] - mo[j]));
    });
    const delta = r.delta as Float32Array;
    for (let j = 0; j < dim; j++) expect(delta[j]).toBeCloseTo(start[j] - w[j], 6);
    // the ledger: the shared mini-batches' examples, once each; the drawings only as a count
    expect(r.count).toBe(22);
    expect(r.correct).toBe(7 + 5 + 7);
    expect(r.ownExamples).toBe(4);
    expect(calls).toEqual([8, 4, 6, 4, 8, 4]);
    // without drawings: plain inner SGD, and nothing reported as own
    const plain = await new LocalTrainer().round(quadratic(dim).computer, start, batches, lrs, {
      kind: 'sgd',
      lr: 0.1,
    });
    expect(plain.count).toBe(22);
    expect(plain.ownExamples).toBe(0);
    const p = Float64Array.from(start);
    batches.forEach((b, k) => {
      const ms = mean(b.x, b.y.length, dim);
      for (let j = 0; j < dim; j++) p[j] -= lrs[k] * (p[j] - ms[j]);
    });
    for (let j = 0; j < dim; j++) expect((plain.delta as Float32Array)[j]).toBeCloseTo(start[j] - p[j], 6);
  });
});

/** The student's drawings for the tests: MNIST test digits stand in for them (labels 0-9). */
function drawings(n: number, held: number): OwnExamples {
  const test = parseMnist(mnistBytes(), 'test');
  const train = gather(
    test,
    Uint32Array.from({ length: n }, (_, i) => i),
  );
  const h = gather(
    test,
    Uint32Array.from({ length: held }, (_, i) => n + i),
  );
  return { x: train.x, y: train.y as Int32Array, heldX: h.x, heldY: h.y as Int32Array };
}

const mnistTask: TaskSpec = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [16], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  layout: [],
  paramCount: 0,
};

/** Dense 784-16-10 with relu, from the flat weights, written out: the predicted digit of each example. */
function predictByHand(w: Float32Array, x: Float32Array, n: number): number[] {
  const [k1, b1, k2, b2] = [0, 784 * 16, 784 * 16 + 16, 784 * 16 + 16 + 160];
  const out: number[] = [];
  for (let e = 0; e < n; e++) {
    const h = new Float64Array(16);
    for (let j = 0; j < 16; j++) {
      let s = w[b1 + j];
      for (let i = 0; i < 784; i++) s += x[e * 784 + i] * w[k1 + i * 16 + j];
      h[j] = Math.max(0, s);
    }
    let best = 0;
    let bestV = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < 10; c++) {
      let s = w[b2 + c];
      for (let j = 0; j < 16; j++) s += h[j] * w[k2 + j * 10 + c];
      if (s > bestV) [best, bestV] = [c, s];
    }
    out.push(best);
  }
  return out;
}

describe('ShardWorker with a student drawings', () => {
  it('evaluates weights on the held-out drawings per digit, and keeps its weights for exact shards', async () => {
    const w = new ShardWorker(async () => mnistBytes());
    const info = await w.init({ task: mnistTask, backends: ['cpu'] });
    const own = drawings(16, 40);
    await w.setOwnExamples(own);
    const weights = Float32Array.from({ length: info.paramCount }, (_, i) => Math.sin(i * 0.37) * 0.2);
    const held = new Float32Array(info.paramCount).fill(0.01);
    await w.setWeights(3, held);
    const shard = { iteration: 0, version: 3, shardId: 0, indices: Uint32Array.of(1, 2, 3) };
    const before = await w.compute(shard);
    const r = await w.classEval({ weights });
    const said = predictByHand(weights, own.heldX, 40);
    const correct = new Array(10).fill(0);
    const count = new Array(10).fill(0);
    own.heldY.forEach((d, i) => {
      count[d]++;
      if (said[i] === d) correct[d]++;
    });
    expect(r).toEqual({ correct, count });
    expect(count.reduce((a, b) => a + b, 0)).toBe(40);
    // the worker still holds version 3: an exact shard gives the same sums as before
    expect(Array.from((await w.compute(shard)).gradSum)).toEqual(Array.from(before.gradSum));
  });

  it('mixes the drawings into a local round of an MNIST run: the shared count is unchanged', async () => {
    const round = async (own?: OwnExamples) => {
      const w = new ShardWorker(async () => mnistBytes());
      const info = await w.init({ task: mnistTask, backends: ['cpu'] });
      if (own) await w.setOwnExamples(own);
      const start = Float32Array.from({ length: info.paramCount }, (_, i) => Math.cos(i * 0.11) * 0.05);
      return w.trainLocal({
        round: 0,
        version: 1,
        weights: start,
        batches: [Uint32Array.of(0, 1, 2, 3), Uint32Array.of(4, 5, 6)],
        lrs: [0.1, 0.1],
        inner: { kind: 'sgd', lr: 0.1 },
      });
    };
    const mixed = await round(drawings(12, 3));
    const plain = await round();
    expect(mixed.count).toBe(7);
    expect(plain.count).toBe(7);
    expect(mixed.ownExamples).toBe(12);
    expect(plain.ownExamples).toBe(0);
    // the shared loss of the first step is the same; the steps themselves differ
    const d1 = mixed.delta as Float32Array;
    const d2 = plain.delta as Float32Array;
    expect(d1.some((v, i) => Math.abs(v - d2[i]) > 1e-6)).toBe(true);
  });

  it('refuses bad drawings and a run that is not on digits', async () => {
    const w = new ShardWorker(async () => mnistBytes());
    const good = drawings(2, 1);
    const bad = async (own: OwnExamples, why: RegExp) => {
      const e = await w.setOwnExamples(own).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(GradroomError);
      expect((e as GradroomError).code).toBe('BAD_DATA');
      expect((e as Error).message).toMatch(why);
    };
    await bad({ ...good, y: Int32Array.of(1, 10) }, /label 10 is not a digit/);
    await bad({ ...good, x: good.x.slice(1) }, /2 labels need 1568 pixels, got 1567/);
    await bad({ ...good, heldX: good.heldX.map(() => 2) }, /held-out drawings: a pixel is 2/);
    await bad({ ...good, heldX: good.heldX.map(() => Number.NaN) }, /a pixel is NaN/);
    await bad({ ...good, y: Float32Array.of(1, 2) as unknown as Int32Array }, /Int32Array/);
    await w.init({
      task: {
        ...mnistTask,
        model: { kind: 'mlp', inputShape: [12], hidden: [4], classes: 3 },
        dataset: { kind: 'synthetic', seed: 1, examples: 50, features: 12, classes: 3, split: 'train' },
      },
      backends: ['cpu'],
    });
    await expect(w.classEval({ weights: new Float32Array(67) })).rejects.toThrow(/needs a run on MNIST/);
  });
});
