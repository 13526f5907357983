/**
 * Take the model away (issue 12): a trainer trains on a real worker thread, exports a tfjs layers
 * model, and plain tfjs loads it (over HTTP, as a page would, and from an in-memory handler). Its
 * predictions equal a forward pass computed independently, with tf ops, from the trainer's final
 * weights (relative difference <= 1e-6), for the MLP, the CNN and a custom layers topology.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGradroomError, type ModelSpec, sfc32 } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import { exportLayersModel } from '@gradroom/worker/export';
import { fileLoadHandler, loadModelDir } from '@gradroom/worker/model-files';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';

const dir = mkdtempSync(join(tmpdir(), 'gradroom-export-'));
let server: Server;
let origin = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // a plain static server over the export directory: what a page loading the model would talk to
  server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(dir)) return void res.writeHead(403).end();
    readFile(path).then(
      (b) => res.writeHead(200).end(b),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** Trains `model` a few iterations on one real worker thread; returns the trainer after its run. */
async function trained(model: ModelSpec, features: number, classes: number): Promise<Trainer> {
  const job: JobConfig = {
    model,
    dataset: { kind: 'synthetic', seed: 2, examples: 96, features, classes, split: 'train' },
    optimizer: { kind: 'adam', lr: 0.05 },
    batchSize: 32,
    epochs: 1,
    seed: 4,
    maxIterations: 3,
    evaluate: false,
  };
  const t = new Trainer(job);
  t.addWorker(spawnThreadWorker());
  await t.run();
  return t;
}

/** Independent forward pass from the flat weights, by tensor name, with plain tf ops. */
type Forward = (x: tf.Tensor, w: (name: string) => tf.Tensor) => tf.Tensor;

const dense = (x: tf.Tensor, w: (n: string) => tf.Tensor, name: string) =>
  tf.add(tf.matMul(x as tf.Tensor2D, w(`${name}/kernel`) as tf.Tensor2D), w(`${name}/bias`));

const forwards: Record<string, Forward> = {
  mlp: (x, w) => dense(tf.relu(dense(tf.reshape(x, [x.shape[0], -1]), w, 'dense_0')), w, 'logits'),
  cnn: (x, w) => {
    let h = x as tf.Tensor4D;
    for (const i of [0, 1]) {
      const conv = tf.conv2d(h, w(`conv_${i}/kernel`) as tf.Tensor4D, 1, 'valid');
      h = tf.maxPool(tf.relu(tf.add(conv, w(`conv_${i}/bias`))) as tf.Tensor4D, 2, 2, 'valid');
    }
    return dense(tf.relu(dense(tf.reshape(h, [h.shape[0], -1]), w, 'dense')), w, 'logits');
  },
  custom: (x, w) => dense(tf.sigmoid(dense(tf.tanh(dense(x, w, 'h1')), w, 'h2')), w, 'out'),
};

function reference(kind: string, t: Trainer, x: tf.Tensor): Float32Array {
  const weights = t.getWeights();
  const tensors = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const { name, shape } of t.getLayout()) {
    const size = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, tf.tensor(weights.subarray(offset, offset + size), shape));
    offset += size;
  }
  const y = tf.tidy(() => forwards[kind](x, (n) => tensors.get(n) as tf.Tensor));
  const out = y.dataSync() as Float32Array;
  y.dispose();
  for (const v of tensors.values()) v.dispose();
  return out;
}

function relativeDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

function inputs(shape: number[], seed: number): tf.Tensor {
  const rand = sfc32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rand.next()),
    shape,
  );
}

const custom = (): ModelSpec => {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ name: 'h1', units: 12, activation: 'tanh', inputShape: [10] }),
      tf.layers.dense({ name: 'h2', units: 6, activation: 'sigmoid' }),
      tf.layers.dense({ name: 'out', units: 3 }),
    ],
  });
  const topology = m.toJSON(null, false) as Record<string, unknown>;
  m.dispose();
  return { kind: 'layers', topology, classes: 3 };
};

const cases: [string, () => ModelSpec, number, number, number[]][] = [
  ['mlp', () => ({ kind: 'mlp', inputShape: [12, 12, 1], hidden: [16], classes: 4 }), 144, 4, [5, 12, 12, 1]],
  [
    'cnn',
    () => ({ kind: 'cnn', inputShape: [12, 12, 1], filters: [4, 8], dense: 16, classes: 4 }),
    144,
    4,
    [5, 12, 12, 1],
  ],
  ['custom', custom, 10, 3, [5, 10]],
];

describe('Trainer.exportModel', () => {
  for (const [kind, spec, features, classes, xShape] of cases) {
    it(`${kind}: tf.loadLayersModel over HTTP predicts what the trainer's final weights predict`, async () => {
      const t = await trained(spec(), features, classes);
      try {
        const before = tf.memory().numTensors;
        await t.exportModel(join(dir, kind));
        expect(tf.memory().numTensors).toBe(before); // the export disposes what it builds
        const x = inputs(xShape, 7);
        const want = reference(kind, t, x);
        // by default a classifier's export outputs probabilities: the softmax of the forward pass
        const logits = tf.tensor2d(want, [xShape[0], classes]);
        const probabilities = tf.softmax(logits);
        const wantProbs = probabilities.dataSync() as Float32Array;
        tf.dispose([logits, probabilities]);

        const model = await tf.loadLayersModel(`${origin}/${kind}/model.json`);
        const y = model.predict(x) as tf.Tensor;
        const got = y.dataSync() as Float32Array;
        expect(relativeDifference(got, wantProbs)).toBeLessThanOrEqual(1e-6);
        for (let r = 0; r < xShape[0]; r++) {
          const sum = got.subarray(r * classes, (r + 1) * classes).reduce((a, b) => a + b, 0);
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-5); // rows of model.predict sum to 1
        }
        y.dispose();
        model.dispose();
        const json = JSON.parse(await readFile(join(dir, kind, 'model.json'), 'utf8'));
        expect(json.userDefinedMetadata.gradroom.outputs).toBe('probabilities');

        // the same files through the Node handler gradroom's CLI uses, with the layout and weights back
        const loaded = await loadModelDir(join(dir, kind));
        expect(loaded.layout).toEqual(t.getLayout());
        expect(Array.from(loaded.weights)).toEqual(Array.from(t.getWeights()));
        expect(loaded.spec).toEqual(t.job.model);
        loaded.model.dispose();

        // an IOHandler and the exporter passed in, as a page does (tf.io.browserDownloads), with
        // outputs: 'logits': the raw scores of the forward pass
        let artifacts: tf.io.ModelArtifacts | undefined;
        await t.exportModel(
          tf.io.withSaveHandler(async (a) => {
            artifacts = a;
            return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
          }),
          { exporter: exportLayersModel, outputs: 'logits' },
        );
        const meta = (artifacts as tf.io.ModelArtifacts).userDefinedMetadata as { gradroom: { outputs: string } };
        expect(meta.gradroom.outputs).toBe('logits');
        const fromMemory = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
        const z = fromMemory.predict(x) as tf.Tensor;
        expect(relativeDifference(z.dataSync() as Float32Array, want)).toBeLessThanOrEqual(1e-6);
        z.dispose();
        fromMemory.dispose();
        x.dispose();
      } finally {
        await t.close();
      }
    });
  }

  it('refuses to export before there are weights, and refuses NaN weights', async () => {
    const t = new Trainer({
      model: { kind: 'mlp', inputShape: [4], hidden: [3], classes: 2 },
      dataset: { kind: 'synthetic', seed: 1, examples: 10, features: 4, classes: 2, split: 'train' },
      optimizer: { kind: 'sgd', lr: 0.1 },
      batchSize: 5,
      epochs: 1,
      seed: 1,
    });
    await expect(t.exportModel(join(dir, 'none'))).rejects.toThrow(/no weights to export yet/);
    const spec: ModelSpec = { kind: 'mlp', inputShape: [4], hidden: [3], classes: 2 };
    const w = new Float32Array(4 * 3 + 3 + 3 * 2 + 2);
    w[5] = Number.NaN;
    const err = await exportLayersModel(spec, t.getLayout(), w, join(dir, 'nan')).catch((e: unknown) => e);
    expect(isGradroomError(err, 'NON_FINITE')).toBe(true);
    // a layout that is not the model's is refused, naming both
    const wrong = [{ name: 'dense_0/kernel', shape: [4, 4] }];
    await expect(exportLayersModel(spec, wrong, new Float32Array(16), join(dir, 'wrong'))).rejects.toThrow(
      /the weights do not fit the model: they hold dense_0\/kernel \[4,4\]; the model has dense_0\/kernel \[4,3\]/,
    );
    await expect(fileLoadHandler(join(dir, 'missing')).load?.()).rejects.toThrow(/cannot read the model at/);
  });

  it('sigmoid cross-entropy exports sigmoid probabilities, a regression its predictions; bad outputs are refused', async () => {
    const spec: ModelSpec = { kind: 'mlp', inputShape: [6], hidden: [5], classes: 1, loss: 'sigmoid-cross-entropy' };
    const t = await trained(spec, 6, 2);
    try {
      const x = inputs([4, 6], 3);
      await t.exportModel(join(dir, 'sigmoid'));
      await t.exportModel(join(dir, 'sigmoid-logits'), { outputs: 'logits' });
      const probs = await tf.loadLayersModel(fileLoadHandler(join(dir, 'sigmoid')));
      const raw = await tf.loadLayersModel(fileLoadHandler(join(dir, 'sigmoid-logits')));
      const p = (probs.predict(x) as tf.Tensor).dataSync() as Float32Array;
      const z = (raw.predict(x) as tf.Tensor).dataSync() as Float32Array;
      expect(
        relativeDifference(
          p,
          Float32Array.from(z, (v) => 1 / (1 + Math.exp(-v))),
        ),
      ).toBeLessThanOrEqual(1e-6);
      probs.dispose();
      raw.dispose();
      x.dispose();
      await expect(t.exportModel(join(dir, 'bad'), { outputs: 'odds' as 'logits' })).rejects.toThrow(
        /outputs must be 'probabilities' or 'logits'/,
      );
    } finally {
      await t.close();
    }
    const reg = new Trainer({
      model: { kind: 'mlp', inputShape: [4], hidden: [3], classes: 1, loss: 'mean-squared-error' },
      dataset: arraysDataset({
        inputShape: [4],
        targets: 1,
        train: { x: new Float32Array(40).fill(0.5), y: new Float32Array(10).fill(1) },
        test: { x: new Float32Array(8).fill(0.5), y: new Float32Array(2).fill(1) },
      }),
      optimizer: { kind: 'sgd', lr: 0.1 },
      batchSize: 5,
      epochs: 1,
      seed: 1,
    });
    reg.addWorker(spawnThreadWorker());
    await reg.run();
    await reg.exportModel(join(dir, 'regression'));
    await reg.close();
    const json = JSON.parse(await readFile(join(dir, 'regression', 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.gradroom.outputs).toBe('predictions');
  });
});
