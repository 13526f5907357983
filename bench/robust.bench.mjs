// Robust aggregation (TrainerOptions.aggregation: 'median' | 'trimmed-mean') against exact mode
// ('sum'), for accuracy and cost.
//   cost:     one iteration's aggregation of k shards of 101,770 values (the MNIST MLP), robustMean
//             against the Aggregator's exact mean, timed alternately in this process;
//   accuracy: the exactness tests' synthetic job (300 examples, 20 features, 4 classes, Adam),
//             300 iterations on 3 Node worker threads (planning 'all': every worker gets shards), one
//             of them a peer that is honest, or hostile within the gradient bound (every gradient
//             sign-flipped and 5x: the bound refuses only 50x). Measured: relative difference of the
//             final weights from the honest exact-mode run (which equals the serial loop), train
//             loss and test accuracy, and ms per iteration.
// Needs npm run build.

import { spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { Aggregator, robustMean } from '../packages/core/dist/index.js';
import { report, timeMs } from './lib.mjs';

const P = 101_770;
const ITERATIONS = 300;

function filled(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/** Medians of a and b over rounds, timed alternately so load from other processes falls on both. */
async function interleaved(a, b, rounds = 9) {
  await timeMs(a, { reps: 1, warmup: 2 });
  await timeMs(b, { reps: 1, warmup: 2 });
  const ta = [];
  const tb = [];
  for (let r = 0; r < rounds; r++) {
    ta.push(await timeMs(a, { reps: 1, warmup: 0 }));
    tb.push(await timeMs(b, { reps: 1, warmup: 0 }));
  }
  const median = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return { a: median(ta), b: median(tb) };
}

const entries = [];
for (const k of [2, 4, 8, 16]) {
  const shards = Array.from({ length: k }, (_, j) => ({
    shardId: j,
    gradSum: filled(P, j + 1),
    lossSum: 1,
    correct: 0,
    count: 16,
  }));
  const out = new Float32Array(P);
  const exact = () => {
    const agg = new Aggregator(P);
    for (const s of shards) agg.add(s);
    agg.mean(16 * k, out);
  };
  for (const mode of ['median', 'trimmed-mean']) {
    const t = await interleaved(() => robustMean(shards, mode, out), exact);
    entries.push({
      name: `aggregation of ${k} shards x ${P} values: ${mode} / exact`,
      value: t.a,
      baseline: t.b,
      unit: 'ms',
      ratio: t.a / t.b,
    });
  }
}

const relDiff = (a, b) => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
};

const job = {
  model: { kind: 'mlp', inputShape: [20], hidden: [16], classes: 4 },
  dataset: { kind: 'synthetic', seed: 5, examples: 300, features: 20, classes: 4, split: 'train' },
  optimizer: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  schedule: { kind: 'inverse-time', lr0: 0.01, decayRate: 0.5 },
  batchSize: 64,
  epochs: 1000,
  seed: 11,
  maxIterations: ITERATIONS,
  evaluate: true,
};

/** A real thread presented as a peer; hostile: every gradient is -5 times the honest one. */
function peer(hostile) {
  const inner = spawnThreadWorker();
  return {
    ...inner,
    kind: 'peer',
    compute: async (req) => {
      const r = await inner.compute(req);
      return hostile ? { ...r, gradSum: r.gradSum.map((x) => -5 * x) } : r;
    },
  };
}

async function train(aggregation, hostile) {
  const t = new Trainer(job, { backends: ['wasm'], planning: 'all', aggregation });
  t.addWorker(spawnThreadWorker());
  t.addWorker(spawnThreadWorker());
  t.addWorker(peer(hostile));
  let lossSum = 0;
  let lossN = 0;
  let ms = 0;
  t.on('iteration', (e) => {
    // the last epoch's mean training loss, and the time of warm iterations
    if (e.iteration > ITERATIONS - 5) {
      lossSum += e.loss;
      lossN++;
    }
    if (e.iteration > 20) ms += e.timing.totalMs;
  });
  const r = await t.run();
  await t.close();
  return { weights: r.weights, loss: lossSum / lossN, accuracy: r.testAccuracy, msPerIt: ms / (ITERATIONS - 20) };
}

const exactHonest = await train('sum', false);
for (const hostile of [false, true]) {
  for (const mode of ['sum', 'median', 'trimmed-mean']) {
    const r = hostile || mode !== 'sum' ? await train(mode, hostile) : exactHonest;
    const who = hostile ? 'hostile peer (-5x, within the bound)' : 'honest peers';
    entries.push({
      name: `${mode}, ${who}: final weights vs exact honest run (relative difference)`,
      value: relDiff(r.weights, exactHonest.weights),
      unit: '',
    });
    entries.push({ name: `${mode}, ${who}: train loss, last 5 iterations`, value: r.loss, unit: '' });
    entries.push({ name: `${mode}, ${who}: test accuracy`, value: r.accuracy * 100, unit: '%' });
    entries.push({
      name: `${mode}, ${who}: time per iteration / exact honest`,
      value: r.msPerIt,
      baseline: exactHonest.msPerIt,
      unit: 'ms',
      ratio: r.msPerIt / exactHonest.msPerIt,
    });
  }
}
report('robust', entries, { iterations: ITERATIONS, params: P });
process.exit(0);
