/**
 * The size of a layers topology read from its JSON agrees with what tfjs builds (countParams and the
 * layers' output shapes), and a custom topology too large to train is refused before it is built.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type JobConfig, validateJob } from '../src/job.js';
import { topologySize } from '../src/topology-size.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const models: [string, () => tf.Sequential][] = [
  [
    'dense stack',
    () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ units: 32, activation: 'relu', inputShape: [20] }),
          tf.layers.dropout({ rate: 0.1 }),
          tf.layers.dense({ units: 7, useBias: false }),
          tf.layers.activation({ activation: 'softmax' }),
        ],
      }),
  ],
  [
    'convolutions (valid, same, strides), pooling, batch norm, reshape',
    () =>
      tf.sequential({
        layers: [
          tf.layers.reshape({ targetShape: [28, 28, 1], inputShape: [784] }),
          tf.layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 12, kernelSize: [3, 2], strides: 2 }),
          tf.layers.batchNormalization(),
          tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10 }),
        ],
      }),
  ],
];

describe('topologySize', () => {
  for (const [name, make] of models) {
    it(`${name}: parameters and activations as tfjs builds them`, () => {
      const m = make();
      const size = topologySize(m.toJSON(null, false));
      const activations = m.layers.reduce(
        (n, l) => n + (l.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1),
        0,
      );
      expect(size).toEqual({ params: m.countParams(), activationsPerExample: activations });
      m.dispose();
    });
  }

  it('is null (unknown) for what it does not model: functional models, unknown layers, no input shape', () => {
    const input = tf.input({ shape: [4] });
    const fn = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    expect(topologySize(fn.toJSON(null, false))).toBeNull();
    fn.dispose();
    const lstm = tf.sequential({ layers: [tf.layers.lstm({ units: 3, inputShape: [5, 2] })] });
    expect(topologySize(lstm.toJSON(null, false))).toBeNull();
    lstm.dispose();
    expect(
      topologySize({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 3 } }] } }),
    ).toBeNull();
    expect(topologySize('nonsense')).toBeNull();
  });

  it('a custom topology with a Dense of 400000 units is refused before any worker builds it', () => {
    const m = tf.sequential({
      layers: [tf.layers.dense({ units: 4, inputShape: [784], activation: 'relu' }), tf.layers.dense({ units: 10 })],
    });
    const topology = m.toJSON(null, false) as { config: { layers: { config: { units: number } }[] } };
    m.dispose();
    topology.config.layers[0].config.units = 400000;
    const job: JobConfig = {
      model: { kind: 'layers', topology: topology as unknown as Record<string, unknown>, classes: 10 },
      dataset: { kind: 'mnist', split: 'train' },
      optimizer: { kind: 'adam', lr: 0.01 },
      batchSize: 64,
      epochs: 1,
      seed: 1,
    };
    expect(() => validateJob(job)).toThrow(/the model has 318,000,010 parameters, more than the 16,777,216/);
    topology.config.layers[0].config.units = 128;
    expect(() => validateJob(job)).not.toThrow();
  });
});
