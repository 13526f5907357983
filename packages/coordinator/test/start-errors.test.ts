/**
 * Misuse known from the job alone is a GradroomError at `new Trainer` / `hostRoom` (issue 21), not
 * seconds later when the workers have built the model, nor a room whose volunteers are all refused.
 */
import { type DatasetSpec, isGradroomError, type ModelSpec } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { hostRoom } from '../src/room/node.js';
import { RoomServer } from '../src/room/server.js';
import { Trainer } from '../src/trainer.js';

const arrays = (classes: number, features = 2) =>
  arraysDataset({
    name: 'mine',
    inputShape: [features],
    ...(classes > 0 ? { classes } : { targets: 1 }),
    train: { x: new Float32Array(8 * features), y: classes > 0 ? new Int32Array(8) : new Float32Array(8) },
    test: { x: new Float32Array(4 * features), y: classes > 0 ? new Int32Array(4) : new Float32Array(4) },
  });

const job = (model: ModelSpec, dataset: DatasetSpec): JobConfig => ({
  model,
  dataset,
  optimizer: { kind: 'sgd', lr: 0.1 },
  batchSize: 4,
  epochs: 1,
  seed: 1,
});

function refusal(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    expect(isGradroomError(e, 'BAD_CONFIG')).toBe(true);
    return e as Error;
  }
  throw new Error('expected a BAD_CONFIG GradroomError, nothing was thrown');
}

const layers = (units: number, inputs: number, activation?: string): ModelSpec => {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ units: 4, inputShape: [inputs], activation: 'relu', name: 'h' }),
      tf.layers.dense({ units, name: 'out', ...(activation ? { activation: activation as 'softmax' } : {}) }),
    ],
  });
  const topology = m.toJSON(undefined, false) as Record<string, unknown>;
  m.dispose();
  return { kind: 'layers', topology, classes: units };
};

describe('errors at new Trainer', () => {
  it('a model whose input does not fit the data', () => {
    const mlp: ModelSpec = { kind: 'mlp', inputShape: [3], hidden: [4], classes: 2 };
    expect(refusal(() => new Trainer(job(mlp, arrays(2)))).message).toBe(
      'the model takes 3 inputs; the data set mine has 2 features per example',
    );
    expect(refusal(() => new Trainer(job(layers(2, 5), arrays(2)))).message).toMatch(/takes 5 inputs/);
    const mnistMlp: ModelSpec = { kind: 'mlp', inputShape: [10], hidden: [4], classes: 10 };
    expect(refusal(() => new Trainer(job(mnistMlp, { kind: 'mnist', split: 'train' }))).message).toMatch(
      /takes 10 inputs; the data set mnist has 784/,
    );
  });

  it('a model whose class count does not fit the data', () => {
    const mlp: ModelSpec = { kind: 'mlp', inputShape: [2], hidden: [4], classes: 3 };
    expect(refusal(() => new Trainer(job(mlp, arrays(2)))).message).toMatch(/predicts 3 outputs; mine has 2 classes/);
    expect(refusal(() => new Trainer(job(layers(5, 2), arrays(2)))).message).toMatch(/predicts 5 outputs/);
    const synthetic: DatasetSpec = {
      kind: 'synthetic',
      seed: 1,
      examples: 10,
      features: 2,
      classes: 4,
      split: 'train',
    };
    expect(refusal(() => new Trainer(job(mlp, synthetic))).message).toMatch(/predicts 3 outputs; synthetic has 4/);
  });

  it('a loss that does not fit the labels, a softmax already in the last layer, a spec that contradicts its topology', () => {
    const mse: ModelSpec = { kind: 'mlp', inputShape: [2], hidden: [4], classes: 1, loss: 'mean-squared-error' };
    expect(refusal(() => new Trainer(job(mse, arrays(2)))).message).toMatch(
      /needs float targets; mine has class labels/,
    );
    expect(refusal(() => new Trainer(job(layers(2, 2, 'softmax'), arrays(2)))).message).toMatch(
      /last layer 'out' applies softmax/,
    );
    const lying = { ...(layers(2, 2) as Extract<ModelSpec, { kind: 'layers' }>), classes: 3 };
    expect(refusal(() => new Trainer(job(lying, arrays(3)))).message).toMatch(/predicts 2 outputs; mine has 3 classes/);
  });

  it('a model that fits is accepted (regression and classification)', () => {
    const reg: ModelSpec = { kind: 'mlp', inputShape: [2], hidden: [4], classes: 1, loss: 'mean-squared-error' };
    expect(() => new Trainer(job(reg, arrays(0)))).not.toThrow();
    expect(() => new Trainer(job(layers(2, 2), arrays(2)))).not.toThrow();
  });
});

describe('a room and an arrays data set', () => {
  let server: RoomServer;
  beforeAll(async () => {
    server = await RoomServer.start({ port: 0, log: () => {} });
  });
  afterAll(() => server.close());

  it('hostRoom refuses, in one sentence, before any volunteer is turned away; attach() too', async () => {
    const room = server.createRoom();
    const trainer = new Trainer(job({ kind: 'mlp', inputShape: [2], hidden: [4], classes: 2 }, arrays(2)), {
      waitForWorkers: true,
    });
    const opts = { url: server.wsUrl, token: room.token, hostKey: room.hostKey };
    const err = await hostRoom({ ...opts, trainer }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isGradroomError(err, 'BAD_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/^a room cannot train on an 'arrays' data set.*kind: 'url'/);
    const host = await hostRoom(opts);
    try {
      expect(refusal(() => host.attach(trainer)).message).toBe((err as Error).message);
    } finally {
      host.close();
    }
  });
});
