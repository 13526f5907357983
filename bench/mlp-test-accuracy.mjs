// Shared by bench/local-sweep and bench/warm-start-curve: the test accuracy of an MLP (dense, relu,
// ..., dense) from a trainer's flat weights, with the benches' own tfjs forward pass over a built-in
// data set's test split (independent of the trainer's evaluation).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { allIndices, gather, loadDataset } from '../packages/worker/dist/data/index.js';

/** Loads `dataset`'s test split; returns accuracy(weights, layout) in [0, 1]. */
export async function mlpTestAccuracy(dataset) {
  const dir = join(import.meta.dirname, '..', 'packages', 'worker', 'dist');
  const test = await loadDataset(
    { kind: dataset, split: 'test' },
    async (name) => new Uint8Array(readFileSync(join(dir, name))),
  );
  // gather: a built-in data set may hold its images as bytes (Dataset.pixels), its x then empty
  const testX = tf.tensor2d(gather(test, allIndices(test.size)).x, [test.size, test.features]);
  const testY = Int32Array.from(test.y);
  return (weights, layout) =>
    tf.tidy(() => {
      let h = testX;
      let o = 0;
      const t = layout.map((s) => {
        const n = s.shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(weights.subarray(o, o + n), s.shape);
        o += n;
        return x;
      });
      for (let i = 0; i < t.length; i += 2) {
        h = tf.add(tf.matMul(h, t[i]), t[i + 1]);
        if (i + 2 < t.length) h = tf.relu(h);
      }
      const pred = tf.argMax(h, 1).dataSync();
      let right = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === testY[i]) right++;
      return right / pred.length;
    });
}
