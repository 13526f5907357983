/**
 * A tfjs model as the job's model, and fine-tuning from given weights (issue 21): a `tf.LayersModel`
 * (ending in softmax, as one built for `model.fit` does) or its `toJSON()` string trains as a layers
 * spec; `initModel` / `initialWeights` start from the given weights, checked against the model.
 */
import { isGradroomError, ParamLayout, sfc32 } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type JobInput, Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';

beforeAll(() => tf.setBackend('cpu'));

function blobs(n: number, seed: number) {
  const rng = sfc32(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    x[2 * i] = Math.cos((2 * Math.PI * y[i]) / 3) * 2 + rng.normal() * 0.3;
    x[2 * i + 1] = Math.sin((2 * Math.PI * y[i]) / 3) * 2 + rng.normal() * 0.3;
  }
  return { x, y };
}
const dataset = arraysDataset({ name: 'blobs', inputShape: [2], classes: 3, train: blobs(120, 1), test: blobs(60, 2) });

/** A model as a tfjs user builds it for model.fit: softmax in the last layer. */
function tfModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, activation: 'relu', inputShape: [2], name: 'hidden' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }),
    ],
  });
}

const job = (model: JobInput['model'], over: Partial<JobInput> = {}): JobInput => ({
  model,
  dataset,
  optimizer: { kind: 'adam', lr: 0.05 },
  batchSize: 20,
  epochs: 3,
  seed: 2,
  ...over,
});

async function train(t: Trainer) {
  t.addWorker(spawnThreadWorker());
  try {
    return await t.run();
  } finally {
    await t.close();
  }
}

function refusal(f: () => unknown, code = 'BAD_CONFIG'): Error {
  try {
    f();
  } catch (e) {
    expect(isGradroomError(e, code as 'BAD_CONFIG')).toBe(true);
    return e as Error;
  }
  throw new Error('nothing was thrown');
}

describe('a tfjs model as the model', () => {
  it('a tf.LayersModel ending in softmax trains as a layers spec with softmax cross-entropy', async () => {
    const m = tfModel();
    const t = new Trainer(job(m));
    expect(t.job.model.kind).toBe('layers');
    expect(t.job.model.loss).toBe('softmax-cross-entropy');
    expect(t.job.model.classes).toBe(3);
    const layers = (
      t.job.model as unknown as { topology: { config: { layers: { config: { activation?: string } }[] } } }
    ).topology.config.layers;
    expect(layers[1].config.activation).toBe('linear'); // the loss applies softmax
    const r = await train(t);
    expect(r.test?.metric).toBeGreaterThan(0.9); // three separated blobs: chance is 1/3
    m.dispose();
  }, 60_000);

  it("model.toJSON()'s string, as the README writes it, is the same spec", () => {
    const m = tfModel();
    const a = new Trainer(job({ kind: 'layers', topology: m.toJSON() }));
    const b = new Trainer(job(m));
    expect(a.job.model).toEqual(b.job.model);
    m.dispose();
    expect(refusal(() => new Trainer(job({ kind: 'layers', topology: '{not json' }))).message).toMatch(/not JSON/);
  });
});

describe('fine-tuning', () => {
  it("initModel: the run starts from the tfjs model's own weights (learning rate 0 keeps them)", async () => {
    const m = tfModel();
    const r = await train(new Trainer(job(m, { optimizer: { kind: 'sgd', lr: 0 }, epochs: 1 }), { initModel: m }));
    const layout = new ParamLayout(r.layout);
    for (const w of m.weights) {
      const e = layout.entries.find((x) => x.name === w.originalName);
      expect(e, w.originalName).toBeDefined();
      const want = w.read().dataSync();
      expect(Array.from(r.weights.subarray(e?.offset ?? 0, (e?.offset ?? 0) + (e?.size ?? 0)))).toEqual(
        Array.from(want),
      );
    }
    // and a different start than the seeded one
    const seeded = await train(new Trainer(job(m, { optimizer: { kind: 'sgd', lr: 0 }, epochs: 1 })));
    expect(Array.from(seeded.weights)).not.toEqual(Array.from(r.weights));
    m.dispose();
  }, 60_000);

  it('initialWeights of the wrong size or a model of another layout are refused', async () => {
    const mlp = { kind: 'mlp' as const, inputShape: [2], hidden: [8], classes: 3 };
    expect(refusal(() => new Trainer(job(mlp), { initialWeights: new Float32Array(5) })).message).toMatch(
      /the starting weights do not fit the model: they hold 5 values/,
    );
    const other = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], name: 'only' })] });
    const m = tfModel();
    const t = new Trainer(job(m), { initModel: other });
    t.addWorker(spawnThreadWorker());
    const err = await t.run().catch((e: unknown) => e);
    await t.close();
    expect(isGradroomError(err, 'BAD_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/they hold tensors only\/kernel \[2,3\]/);
    other.dispose();
    m.dispose();
  }, 60_000);
});
