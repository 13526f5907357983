/**
 * BatchNormalization in a custom layers model (issue 21): the topology starts from its own
 * initializers (gamma 1, moving variance 1), the moving statistics follow the mini-batch exactly
 * (checked against tfjs's own update on the same mini-batch), and the trained model scores as the
 * same model trained by tfjs `model.fit`, in the trainer's evaluation and through the export.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGradroomError, ParamLayout, planEpoch, sfc32 } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import { fileLoadHandler } from '@gradroom/worker/model-files';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';

const dir = mkdtempSync(join(tmpdir(), 'gradroom-bn-'));
beforeAll(() => tf.setBackend('cpu'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two interleaved spirals, one per class, with a little noise, drawn from a seed. */
function spirals(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = sfc32(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const t = 0.25 + rng.next() * 2.75; // radius and angle grow together: 1.5 turns a spiral
    const a = t * Math.PI + c * Math.PI;
    x[2 * i] = t * Math.cos(a) + rng.normal() * 0.08;
    x[2 * i + 1] = t * Math.sin(a) + rng.normal() * 0.08;
    y[i] = c;
  }
  return { x, y };
}

const train = spirals(800, 1);
const test = spirals(400, 2);

/** Dense-BN-Dense-Dense, outputs logits. */
function bnModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, activation: 'relu', inputShape: [2], name: 'h1' }),
      tf.layers.batchNormalization({ name: 'bn' }),
      tf.layers.dense({ units: 32, activation: 'relu', name: 'h2' }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
}

const topology = () => {
  const m = bnModel();
  const t = m.toJSON(undefined, false) as Record<string, unknown>;
  m.dispose();
  return t;
};

const job = (over: Partial<JobConfig> = {}): JobConfig => ({
  model: { kind: 'layers', topology: topology(), classes: 2 },
  dataset: arraysDataset({ name: 'spirals', inputShape: [2], classes: 2, train, test }),
  optimizer: { kind: 'adam', lr: 0.01 },
  batchSize: 32,
  epochs: 30,
  seed: 3,
  ...over,
});

function accuracy(model: tf.LayersModel): number {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(test.x, [test.y.length, 2])) as tf.Tensor;
    const hit = tf.equal(tf.argMax(out, 1), tf.tensor1d(test.y, 'int32'));
    return tf.mean(tf.cast(hit, 'float32')).dataSync()[0];
  });
}

/** The trainer's starting weights: a run stopped before its first iteration. */
async function startWeights(over: Partial<JobConfig> = {}): Promise<{ weights: Float32Array; layout: ParamLayout }> {
  const t = new Trainer(job({ evaluate: false, ...over }));
  t.addWorker(spawnThreadWorker());
  const p = t.run();
  t.stop();
  const r = await p;
  await t.close();
  expect(r.position.iteration).toBe(0);
  return { weights: r.weights, layout: new ParamLayout(r.layout) };
}

/** Sets a tfjs model's weights from the trainer's flat buffer, by tensor name. */
function setFlat(model: tf.LayersModel, layout: ParamLayout, flat: Float32Array): void {
  const byName = new Map(layout.entries.map((e) => [e.name, e]));
  for (const w of model.weights) {
    const e = byName.get(w.originalName);
    if (!e) throw new Error(`no ${w.originalName} in the layout`);
    w.write(tf.tensor(flat.subarray(e.offset, e.offset + e.size), e.shape));
  }
}

describe('BatchNormalization in a layers topology', () => {
  it('starts from the topology initializers, seeded: gamma and moving variance 1, the same for the same seed', async () => {
    const runs = [await startWeights(), await startWeights()];
    const layout = runs[0].layout;
    const get = (name: string) => {
      const e = layout.entries.find((x) => x.name === name);
      if (!e) throw new Error(`no ${name}`);
      return runs[0].weights.subarray(e.offset, e.offset + e.size);
    };
    expect([...get('bn/gamma')].every((v) => v === 1)).toBe(true);
    expect([...get('bn/moving_variance')].every((v) => v === 1)).toBe(true);
    expect([...get('bn/moving_mean')].every((v) => v === 0)).toBe(true);
    // tfjs's default kernel initializer: glorotNormal, a normal truncated at 2 sd of sqrt(2 / (2 + 32))
    const k = get('h1/kernel');
    const sd = Math.sqrt(2 / 34);
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(2 * sd + 1e-6);
    const std = Math.sqrt(k.reduce((a, v) => a + v * v, 0) / k.length);
    expect(std).toBeGreaterThan(0.6 * sd);
    expect(Array.from(runs[1].weights)).toEqual(Array.from(runs[0].weights));
  }, 60_000);

  it('moves the moving statistics as tfjs does on the whole mini-batch, split over 2 threads', async () => {
    // planning 'all': both threads take a shard of the mini-batch
    const t = new Trainer(job({ maxIterations: 1, evaluate: false, optimizer: { kind: 'sgd', lr: 0.1 } }), {
      planning: 'all',
    });
    t.addWorker(spawnThreadWorker());
    t.addWorker(spawnThreadWorker());
    const start = (await startWeights()).weights;
    let shards = 0;
    t.on('iteration', (e) => {
      shards = e.workers.filter((w) => w.share > 0).length;
    });
    const r = await t.run();
    await t.close();
    expect(shards).toBe(2);
    const layout = new ParamLayout(r.layout);
    // tfjs's own training pass on the same mini-batch from the same start
    const model = bnModel();
    setFlat(model, layout, start);
    const idx = planEpoch({ seed: 3, epoch: 0, examples: 800, batchSize: 32 }).batch(0);
    const xb = tf.tensor2d(Float32Array.from([...idx].flatMap((i) => [train.x[2 * i], train.x[2 * i + 1]])), [32, 2]);
    tf.tidy(() => {
      model.apply(xb, { training: true }); // updates the moving statistics, as fit does
    });
    for (const name of ['bn/moving_mean', 'bn/moving_variance']) {
      const e = layout.entries.find((x) => x.name === name);
      if (!e) throw new Error(`no ${name}`);
      const ours = r.weights.subarray(e.offset, e.offset + e.size);
      const theirs = model.weights
        .find((w) => w.originalName === name)
        ?.read()
        .dataSync() as Float32Array;
      // the statistics moved: they are no longer the initial 0 and 1
      expect(ours.some((v, i) => v !== start[e.offset + i])).toBe(true);
      for (let i = 0; i < e.size; i++)
        expect(Math.abs(ours[i] - theirs[i])).toBeLessThan(1e-5 * (1 + Math.abs(theirs[i])));
    }
    model.dispose();
    xb.dispose();
  }, 60_000);

  it('trains on 2 threads to within 1 point of tfjs model.fit, in evaluation and through the export', async () => {
    // each mini-batch one shard (minShard = the batch), on either thread: BatchNorm normalizes over
    // the whole mini-batch as tfjs does, whatever the timing (a batch split by measured speed gives
    // per-shard statistics that change with the split; the test above covers the split)
    const t = new Trainer(job(), { minShard: 32 });
    t.addWorker(spawnThreadWorker());
    t.addWorker(spawnThreadWorker());
    const r = await t.run();
    const out = join(dir, 'bn-model');
    await t.exportModel(out);
    await t.close();

    const loaded = await tf.loadLayersModel(fileLoadHandler(out));
    const exported = accuracy(loaded);
    loaded.dispose();

    // the reference: the same topology, fit by tfjs with the same optimizer, batch size and epochs.
    // tfjs draws its initial weights and its shuffle unseeded, so one fit's accuracy on these 400 test
    // points varies by several points from fit to fit: the reference is the median of three fits
    const fits: number[] = [];
    for (let k = 0; k < 3; k++) {
      const ref = bnModel();
      ref.compile({
        optimizer: tf.train.adam(0.01),
        loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
      });
      const xs = tf.tensor2d(train.x, [800, 2]);
      const ys = tf.oneHot(tf.tensor1d(train.y, 'int32'), 2);
      await ref.fit(xs, ys, { batchSize: 32, epochs: 30, shuffle: true, verbose: 0 });
      fits.push(accuracy(ref));
      tf.dispose([xs, ys]);
      ref.dispose();
    }
    const reference = fits.sort((a, b) => a - b)[1];

    expect(reference).toBeGreaterThan(0.9); // the reference itself learned the spirals
    // no worse than tfjs by more than a point (better is no defect: this run, seeded and one shard a
    // mini-batch, gave 99.75 % each time; tfjs's own single fits ranged from 96.75 to 100 %)
    expect(r.testAccuracy).toBeGreaterThanOrEqual(reference - 0.01);
    expect(exported).toBeGreaterThanOrEqual(reference - 0.01);
    expect(Math.abs(exported - r.testAccuracy)).toBeLessThan(1e-6);
  }, 240_000);

  it('refuses BatchNormalization in mode local at new Trainer, naming the layer', () => {
    let err: unknown;
    try {
      new Trainer(job({ mode: { kind: 'local', steps: 4 } }));
    } catch (e) {
      err = e;
    }
    expect(isGradroomError(err) && err.code).toBe('BAD_CONFIG');
    expect((err as Error).message).toMatch(/bn \(BatchNormalization\)/);
  });

  it('refuses an initializer it cannot draw from the seed at new Trainer, naming the layer', () => {
    const topo = topology() as { config: { layers: { config: Record<string, unknown> }[] } };
    topo.config.layers[2].config.kernel_initializer = { class_name: 'Orthogonal', config: { gain: 1 } };
    const model = { kind: 'layers' as const, topology: topo as unknown as Record<string, unknown>, classes: 2 };
    expect(() => new Trainer(job({ model }))).toThrow(/layer 'h2' \(kernel_initializer\): initializer Orthogonal/);
  });

  it('keeps a layer marked trainable: false where it started', async () => {
    const topo = topology() as { config: { layers: { config: Record<string, unknown> }[] } };
    topo.config.layers[2].config.trainable = false; // h2
    const model = { kind: 'layers' as const, topology: topo as unknown as Record<string, unknown>, classes: 2 };
    const start = await startWeights({ model });
    const t = new Trainer(job({ model, maxIterations: 5, evaluate: false }));
    t.addWorker(spawnThreadWorker());
    const r = await t.run();
    await t.close();
    const layout = new ParamLayout(r.layout);
    for (const e of layout.entries) {
      const same = r.weights.subarray(e.offset, e.offset + e.size).every((v, i) => v === start.weights[e.offset + i]);
      if (e.name.startsWith('h2/')) expect(same).toBe(true);
      if (e.name === 'h1/kernel' || e.name === 'out/kernel') expect(same).toBe(false);
    }
  }, 60_000);
});
