/**
 * The training contract on the developer's own data and each named loss: with two Node worker
 * threads, the weights after the run equal the serial loop's (reference/serial.ts, whose loss is
 * tfjs's own tf.losses.*) on the app's arrays, on a packed file fetched by URL, for classification
 * and regression. And data that must not be trained on keeps every worker out.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatasetSpec, LossName } from '@gradroom/core';
import { arraysDataset, type Dataset, decodePacked, encodePacked, sha256Hex } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import { relativeDifference, serialTrain } from './reference/serial.js';

const N = 150;
const F = 5;
const adam = { lr: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const ITERATIONS = 12; // batch 32 over 150 examples: 5 iterations an epoch with a remainder of 22

/** Features from a fixed formula; labels or targets from a fixed function of them. */
function examples(kind: 'classes' | 'binary' | 'multilabel' | 'regression', n = N, offset = 0) {
  const x = Float32Array.from({ length: n * F }, (_, i) => Math.sin((i + offset) * 0.731) * 1.5);
  const row = (k: number) => x.subarray(k * F, (k + 1) * F);
  if (kind === 'classes')
    return { x, y: Int32Array.from({ length: n }, (_, k) => (row(k)[0] > 0.5 ? 2 : row(k)[1] > 0 ? 1 : 0)) };
  if (kind === 'binary') return { x, y: Uint8Array.from({ length: n }, (_, k) => (row(k)[0] + row(k)[2] > 0 ? 1 : 0)) };
  if (kind === 'multilabel') {
    return { x, y: Float32Array.from({ length: n * 2 }, (_, i) => (row(i >> 1)[i & 1] > 0 ? 1 : 0)) };
  }
  return { x, y: Float32Array.from({ length: n * 2 }, (_, i) => row(i >> 1)[0] * 2 - row(i >> 1)[3] + (i & 1)) };
}

function job(dataset: DatasetSpec, outputs: number, loss?: LossName): JobConfig {
  return {
    model: { kind: 'mlp', inputShape: [F], hidden: [8], classes: outputs, ...(loss ? { loss } : {}) },
    dataset,
    optimizer: { kind: 'adam', ...adam },
    batchSize: 32,
    epochs: 10,
    seed: 7,
    maxIterations: ITERATIONS,
    evaluate: false,
  };
}

const reference = (train: Dataset, outputs: number, loss?: LossName) =>
  serialTrain(
    { hidden: [8], inputFeatures: F, classes: outputs, loss, batchSize: 32, seed: 7, iterations: ITERATIONS, adam },
    train,
  );

const open: Trainer[] = [];
async function run(j: JobConfig, workers = 2) {
  const t = new Trainer(j, { backends: ['wasm'] });
  open.push(t);
  for (let i = 0; i < workers; i++) t.addWorker(spawnThreadWorker());
  return t.run();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('exact mini-batch SGD on your own data, for each loss', () => {
  const cases: [string, Parameters<typeof examples>[0], number, LossName | undefined][] = [
    ['arrays, integer labels, softmax cross-entropy', 'classes', 3, undefined],
    ['arrays, 0/1 labels, sigmoid cross-entropy', 'binary', 1, 'sigmoid-cross-entropy'],
    ['arrays, 0/1 targets (multi-label), sigmoid cross-entropy', 'multilabel', 2, 'sigmoid-cross-entropy'],
    ['arrays, regression targets, mean squared error', 'regression', 2, 'mean-squared-error'],
    ['arrays, regression targets, mean absolute error', 'regression', 2, 'mean-absolute-error'],
  ];
  for (const [name, kind, outputs, loss] of cases) {
    it(`${name}: 2 threads match the serial loop`, async () => {
      const tr = examples(kind);
      const te = examples(kind, 40, 9999);
      const classes = kind === 'classes' ? 3 : kind === 'binary' ? 2 : undefined;
      const spec = arraysDataset({
        name,
        inputShape: [F],
        train: tr,
        test: te,
        ...(classes ? { classes } : { targets: 2 }),
      });
      const want = await reference(
        {
          name,
          size: N,
          inputShape: [F],
          features: F,
          classes: classes ?? 0,
          targets: classes ? 1 : 2,
          x: tr.x,
          y: tr.y,
        },
        outputs,
        loss,
      );
      const result = await run(job(spec, outputs, loss));
      expect(result.position.iteration).toBe(ITERATIONS);
      expect(relativeDifference(result.weights, want)).toBeLessThanOrEqual(1e-5);
      // and the run really moved: the serial loop's first step alone is far from the end
      const one = await serialTrain(
        { hidden: [8], inputFeatures: F, classes: outputs, loss, batchSize: 32, seed: 7, iterations: 1, adam },
        {
          name,
          size: N,
          inputShape: [F],
          features: F,
          classes: classes ?? 0,
          targets: classes ? 1 : 2,
          x: tr.x,
          y: tr.y,
        },
      );
      expect(relativeDifference(one, want)).toBeGreaterThan(1e-3);
    });
  }
});

describe('data by URL in a run', () => {
  const bytes = encodePacked({
    inputShape: [F],
    classes: 0,
    targets: 2,
    train: examples('regression'),
    test: examples('regression', 40, 5),
  });
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/r.bin') res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r.bin`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('a packed regression file fetched by URL: 2 threads match the serial loop on the decoded file', async () => {
    const spec: DatasetSpec = { kind: 'url', url, sha256: await sha256Hex(bytes), split: 'train' };
    const want = await reference(decodePacked(bytes, 'train'), 2, 'mean-squared-error');
    const result = await run(job(spec, 2, 'mean-squared-error'));
    expect(relativeDifference(result.weights, want)).toBeLessThanOrEqual(1e-5);
  });

  it('a wrong hash keeps every worker out, with the reason', async () => {
    const spec: DatasetSpec = { kind: 'url', url, sha256: '0'.repeat(64), split: 'train' };
    const t = new Trainer(job(spec, 2, 'mean-squared-error'), { backends: ['wasm'] });
    open.push(t);
    await expect(t.addWorker(spawnThreadWorker())).rejects.toThrow(
      /has SHA-256 [0-9a-f]{64}, the task says 0{64}: refusing to train on it/,
    );
    expect(t.pool.members.size).toBe(0);
  });
});
