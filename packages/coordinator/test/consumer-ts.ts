/**
 * The TypeScript consumer of pack-install.test.ts: type-checked against the installed packages'
 * types (a wrong config must be rejected, a tfjs user's tensors and tf.data accepted), then run.
 */
export const CONSUMER_TS = `import { fromTfDataset, type JobConfig, spawnThreadWorker, Trainer } from '@gradroom/coordinator';
import { createOptimizer } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import * as tf from '@tensorflow/tfjs';

/** Two classes split by the line x0 + x1 = 0 (seeded). */
function points(n: number, seed: number) {
  const x = new Float32Array(n * 2);
  const y = new Uint8Array(n);
  let s = seed;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
  for (let i = 0; i < n; i++) {
    x[2 * i] = rand();
    x[2 * i + 1] = rand();
    y[i] = x[2 * i] + x[2 * i + 1] > 0 ? 1 : 0;
  }
  return { x, y };
}

const job: JobConfig = {
  model: { kind: 'mlp', inputShape: [2], hidden: [8], classes: 2 },
  dataset: arraysDataset({ name: 'line', inputShape: [2], classes: 2, train: points(256, 1), test: points(128, 2) }),
  optimizer: { kind: 'adam', lr: 0.05 },
  batchSize: 32,
  epochs: 4,
  seed: 1,
};
/** Never called: tsc must reject it, or the installed types are not real. */
export function wrongConfig() {
  // @ts-expect-error a learning rate is a number
  return createOptimizer({ kind: 'sgd', lr: '0.1' });
}
/** Never called: a tfjs user's tensors and tf.data.Dataset fit the installed types as they are. */
export async function fromTfjs(xs: tf.Tensor2D, ys: tf.Tensor2D) {
  new Trainer({ ...job, dataset: { kind: 'tensors', xs, ys, test: { xs, ys } } });
  const ds = tf.data.array([{ xs: [1, 2], ys: 0 }]).batch(1);
  return new Trainer({ ...job, dataset: await fromTfDataset(ds, { classes: 2, test: ds, maxExamples: 10 }) });
}
const trainer = new Trainer(job, { planning: 'all' });
const computed = new Set<string>();
trainer.on('iteration', (e) => {
  for (const w of e.workers) if (w.share > 0) computed.add(w.id);
});
const joined = await Promise.all([trainer.addWorker(spawnThreadWorker()), trainer.addWorker(spawnThreadWorker())]);
const result = await trainer.run();
await trainer.close();
console.log(
  JSON.stringify({
    joined: joined.length,
    computed: computed.size,
    iterations: result.position.iteration,
    testAccuracy: result.testAccuracy,
    params: result.weights.length,
  }),
);
`;
