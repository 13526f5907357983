// One thread of the engine bench's machine-ceiling measure: the plain tfjs loop on real MNIST,
// started on a signal so that several threads run at once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { parseMnist } from '../packages/worker/dist/index.js';
import { plainLoop } from './plain-loop.mjs';

const { batch, iterations } = workerData;
const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'packages/worker/dist/mnist.bin')));
const loop = await plainLoop(parseMnist(bytes, 'train'), batch);
for (let b = 0; b < 5; b++) loop.step(b);
await loop.sync();
parentPort.postMessage('ready');
parentPort.once('message', async () => {
  for (let b = 0; b < iterations; b++) loop.step(b);
  await loop.sync();
  parentPort.postMessage('done');
});
