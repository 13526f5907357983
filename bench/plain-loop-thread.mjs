// One thread of the engine bench's machine-ceiling measure: the plain tfjs loop (wasm) on real
// MNIST, started on a signal so that several threads run at once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, gather, parseMnist } from '../packages/worker/dist/index.js';

await tf.setBackend('wasm');
const { batch, iterations } = workerData;
const train = parseMnist(
  new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'packages/worker/dist/mnist.bin'))),
  'train',
);
const m = await buildModel({ kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 });
const vars = m.trainableWeights.map((w) => w.read());
const opt = tf.train.adam(0.005);
const idx = Uint32Array.from({ length: train.size }, (_, i) => i);
const step = (b) => {
  const at = (b * batch) % (train.size - batch);
  const ex = gather(train, idx.subarray(at, at + batch));
  tf.tidy(() => {
    const x = tf.tensor(ex.x, [batch, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(ex.y, 'int32'), 10);
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true })), vars);
    opt.applyGradients(grads);
  });
};
for (let b = 0; b < 5; b++) step(b);
await vars[0].data();
parentPort.postMessage('ready');
parentPort.once('message', async () => {
  for (let b = 0; b < iterations; b++) step(b);
  await vars[0].data();
  parentPort.postMessage('done');
});
