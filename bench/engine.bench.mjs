// The engine's benchmarks (issue: the training engine), all in one process so ratios compare like
// with like:
//  - overhead: one local worker thread vs a plain tfjs loop (variableGrads + optimizer), same model,
//    batch and backend (wasm): examples/s ratio, target >= 0.9;
//  - scaling: 2 worker threads vs 1 on this machine: target >= 1.6x;
//  - time to accuracy on MNIST: the engine with 2 workers vs tfjs model.fit with the same model,
//    optimizer and batch: wall time until the test accuracy first reaches the target.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { buildModel, parseMnist } from '../packages/worker/dist/index.js';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { report } from './lib.mjs';
import { ADAM as adam, MODEL as model, plainLoop } from './plain-loop.mjs';

const root = join(import.meta.dirname, '..');
const BATCHES = (process.env.BATCHES ?? '128,256').split(',').map(Number);
const ITERS = Number(process.env.ITERS ?? 120);
const bytes = new Uint8Array(readFileSync(join(root, 'packages/worker/dist/mnist.bin')));
const train = parseMnist(bytes, 'train');
const test = parseMnist(bytes, 'test');
await tf.setBackend('wasm');

/** The plain tfjs loop's examples/s over `iterations` after warm-up. */
async function plainLoopSpeed(iterations, batch) {
  const loop = await plainLoop(train, batch);
  for (let b = 0; b < 5; b++) loop.step(b);
  await loop.sync();
  const t0 = performance.now();
  for (let b = 0; b < iterations; b++) loop.step(b);
  await loop.sync();
  const s = (performance.now() - t0) / 1000;
  loop.dispose();
  return (iterations * batch) / s;
}

/** The engine with n local worker threads: examples/s over `iterations` after warm-up. */
async function engine(n, iterations, BATCH) {
  const t = new Trainer(
    {
      model,
      dataset: { kind: 'mnist', split: 'train' },
      optimizer: adam,
      batchSize: BATCH,
      epochs: 100,
      seed: 1,
      maxIterations: iterations + 5,
      evaluate: false,
    },
    { backends: ['wasm'] },
  );
  for (let i = 0; i < n; i++) t.addWorker(spawnThreadWorker());
  let start = 0;
  let startIt = 0;
  t.on('iteration', (e) => {
    if (e.iteration === 5) {
      start = performance.now();
      startIt = e.iteration;
    }
  });
  const r = await t.run();
  const s = (performance.now() - start) / 1000;
  await t.close();
  return ((r.position.iteration - startIt) * BATCH) / s;
}

/**
 * What this machine allows: the plain loop in one thread at batch BATCH, against two threads running
 * it at once at BATCH/2 each (the same work split in two, no framework). On a machine whose cores
 * slow each other down, or whose per-batch cost does not halve with the batch, this is below 2.
 */
function plainThreads(n, batch, iterations) {
  return new Promise((resolve, reject) => {
    const url = new URL('./plain-loop-thread.mjs', import.meta.url);
    let ready = 0;
    let done = 0;
    let t0 = 0;
    const threads = Array.from(
      { length: n },
      () => new Worker(url, { workerData: { batch, iterations }, stdout: true }),
    );
    for (const w of threads) {
      w.on('error', reject);
      w.on('message', (m) => {
        if (m === 'ready' && ++ready === n) {
          t0 = performance.now();
          for (const x of threads) x.postMessage('go');
        }
        if (m === 'done' && ++done === n) {
          const s = (performance.now() - t0) / 1000;
          for (const x of threads) x.terminate();
          resolve((iterations * batch * n) / s);
        }
      });
    }
  });
}

const rounds = Number(process.env.ROUNDS ?? 3);
const best = (a) => Math.max(...a);
const throughput = [];
for (const BATCH of BATCHES) {
  const plain = [];
  const one = [];
  const two = [];
  const ceilOne = [];
  const ceilTwo = [];
  for (let r = 0; r < rounds; r++) {
    // interleaved rounds, best of each: the machine is shared and noisy
    ceilOne.push(await plainThreads(1, BATCH, ITERS));
    ceilTwo.push(await plainThreads(2, BATCH / 2, ITERS));
    plain.push(await plainLoopSpeed(ITERS, BATCH));
    one.push(await engine(1, ITERS, BATCH));
    two.push(await engine(2, ITERS, BATCH));
  }
  throughput.push(
    {
      name: `overhead: 1 worker thread vs plain tfjs loop (wasm, batch ${BATCH})`,
      value: best(one),
      baseline: best(plain),
      unit: 'ex/s',
      ratio: best(one) / best(plain),
      target: '>= 0.9',
    },
    {
      name: `scaling: 2 worker threads vs 1 (wasm, batch ${BATCH})`,
      value: best(two),
      baseline: best(one),
      unit: 'ex/s',
      ratio: best(two) / best(one),
      target: '>= 1.6',
    },
    {
      name: `machine ceiling: plain tfjs loop in 2 threads (batch ${BATCH / 2} each) vs 1 thread (batch ${BATCH})`,
      value: best(ceilTwo),
      baseline: best(ceilOne),
      unit: 'ex/s',
      ratio: best(ceilTwo) / best(ceilOne),
    },
    {
      name: `scaling as a fraction of the machine ceiling (batch ${BATCH})`,
      ratio: best(two) / best(one) / (best(ceilTwo) / best(ceilOne)),
    },
  );
}

// time to accuracy: both train the same model with the same optimizer and batch size on MNIST
const TARGET = Number(process.env.TARGET_ACC ?? 0.92);
const EPOCHS = Number(process.env.EPOCHS ?? 6);
const TTA_BATCH = 64;
async function fitTimeToAccuracy() {
  const m = await buildModel(model);
  const opt = tf.train.adam(adam.lr, adam.beta1, adam.beta2, adam.epsilon);
  m.compile({ optimizer: opt, loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits), metrics: [] });
  const xs = tf.tensor(train.x, [train.size, 28, 28, 1]);
  const ys = tf.oneHot(tf.tensor1d(Int32Array.from(train.y), 'int32'), 10);
  const xt = tf.tensor(test.x, [test.size, 28, 28, 1]);
  const yt = Int32Array.from(test.y);
  const t0 = performance.now();
  let reached = null;
  let acc = 0;
  const accs = [];
  for (let e = 0; e < EPOCHS; e++) {
    await m.fit(xs, ys, { batchSize: TTA_BATCH, epochs: 1, shuffle: true, verbose: 0 });
    const pred = tf.tidy(() => tf.argMax(m.predict(xt), 1));
    const p = await pred.data();
    pred.dispose();
    acc = p.reduce((a, c, i) => a + (c === yt[i] ? 1 : 0), 0) / yt.length;
    accs.push(acc);
    if (reached === null && acc >= TARGET) reached = (performance.now() - t0) / 1000;
  }
  tf.dispose([xs, ys, xt]);
  m.dispose();
  return { reached, final: acc, accs };
}
async function engineTimeToAccuracy() {
  const t = new Trainer(
    {
      model,
      dataset: { kind: 'mnist', split: 'train' },
      optimizer: adam,
      batchSize: TTA_BATCH,
      epochs: EPOCHS,
      seed: 1,
    },
    { backends: ['wasm'] },
  );
  t.addWorker(spawnThreadWorker());
  t.addWorker(spawnThreadWorker());
  let t0 = 0;
  let reached = null;
  const accs = [];
  t.on('state', (s) => {
    if (s.state === 'running' && t0 === 0) t0 = performance.now();
  });
  t.on('epoch', (e) => {
    accs.push(e.testAccuracy);
    if (reached === null && e.testAccuracy >= TARGET) reached = (performance.now() - t0) / 1000;
  });
  const r = await t.run();
  await t.close();
  return { reached, final: r.testAccuracy, accs };
}
const fit = await fitTimeToAccuracy();
const eng = await engineTimeToAccuracy();

report(
  'engine',
  [
    ...throughput,
    {
      name: `time to ${TARGET * 100}% test accuracy: engine (2 threads) vs tfjs model.fit (batch ${TTA_BATCH})`,
      value: eng.reached ?? Number.NaN,
      baseline: fit.reached ?? Number.NaN,
      unit: 's',
      ratio: (eng.reached ?? Number.NaN) / (fit.reached ?? Number.NaN),
      target: '<= 1',
      note: `final test accuracy after ${EPOCHS} epochs: engine ${(eng.final * 100).toFixed(2)}%, model.fit ${(fit.final * 100).toFixed(2)}%; per epoch engine ${eng.accs.map((a) => (a * 100).toFixed(1)).join('/')}, fit ${fit.accs.map((a) => (a * 100).toFixed(1)).join('/')}`,
    },
    {
      name: 'final test accuracy: engine minus model.fit (points)',
      value: (eng.final - fit.final) * 100,
      unit: 'points',
      pass: Math.abs(eng.final - fit.final) * 100 <= 0.5 || eng.final > fit.final,
      target: 'within 0.5 (or better)',
    },
  ],
  { machine: `${cpus()[0]?.model} x${availableParallelism()}`, backend: 'wasm', rounds },
);
process.exit(0);
