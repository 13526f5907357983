// Round 14: mode local's accuracy curve after the warm start, on worker threads (statistics, not the
// network), to see what the rounds after it need to reach 85 % on Fashion-MNIST sooner. Each run:
// 9 workers (a room of 8 volunteers and the host), int8, outer sgd lr 1 (the defaults after a warm
// start), the test accuracy every EVAL iterations (its own tfjs forward pass over the trainer's
// weights), and the first iteration at or past the target. Variants by environment, one run each:
//   node bench/warm-start-curve.bench.mjs                 # the grid below, seeds 1 and 2
//   W=80 H=16 SEED=1 node bench/warm-start-curve.bench.mjs one
// Knobs: W (warm start, default 160), H (8), SCALE (none | sqrt-workers), WORKERS (9), SEED (1),
// MAX (iterations, 1,400), EVAL (36). Results: bench/out/warm-start-curve.json (bench/run.mjs merges).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_JOB, spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { report } from './lib.mjs';
import { mlpTestAccuracy } from './mlp-test-accuracy.mjs';

const TARGET = 0.85;
await tf.setBackend('wasm');
const accuracy = await mlpTestAccuracy('fashion-mnist');

async function curve({ W = 160, H = 8, SCALE = 'none', WORKERS = 9, SEED = 1, MAX = 1400, EVAL = 36 }) {
  const mode = {
    kind: 'local',
    steps: H,
    outer: { kind: 'sgd', lr: 1 },
    warmup: W,
    innerScale: SCALE,
    compress: 'int8',
  };
  const job = {
    ...DEFAULT_JOB,
    dataset: { kind: 'fashion-mnist', split: 'train' },
    epochs: 3,
    seed: SEED,
    evaluate: false,
    mode,
  };
  const t = new Trainer(job, { backends: ['wasm'] });
  for (let i = 0; i < WORKERS; i++) t.addWorker(spawnThreadWorker({ stdout: process.stderr }));
  let next = EVAL;
  let reached = null;
  const points = [];
  t.on('iteration', (e) => {
    if (e.iteration >= next) {
      next = (Math.floor(e.iteration / EVAL) + 1) * EVAL;
      const a = accuracy(t.getWeights(), t.getLayout());
      points.push([e.iteration, Math.round(a * 1e4) / 100]);
      if (reached === null && a >= TARGET) reached = e.iteration;
    }
    if (e.iteration >= MAX) t.stop();
  });
  await t.run();
  await t.close();
  return { W, H, SCALE, WORKERS, SEED, reached, curve: points };
}

const num = (k, d) => (process.env[k] === undefined ? d : Number(process.env[k]));
const grid =
  process.argv[2] === 'one'
    ? [
        {
          W: num('W', 160),
          H: num('H', 8),
          SCALE: process.env.SCALE ?? 'none',
          WORKERS: num('WORKERS', 9),
          SEED: num('SEED', 1),
        },
      ]
    : [1, 2].flatMap((SEED) =>
        [
          { W: 160, H: 8 },
          { W: 160, H: 8, SCALE: 'sqrt-workers' },
          { W: 160, H: 16 },
          { W: 160, H: 32 },
          { W: 80, H: 8 },
          { W: 80, H: 16 },
        ].map((v) => ({ ...v, SEED })),
      );
const runs = [];
for (const v of grid) {
  const r = await curve({ ...v, MAX: num('MAX', 1400), EVAL: num('EVAL', 36) });
  console.log(JSON.stringify(r));
  runs.push(r);
}
report(
  'warm-start-curve',
  runs.map((r) => {
    const what = `9 threads, warm start ${r.W}, H = ${r.H}, inner ${r.SCALE}, seed ${r.SEED}`;
    const note = `test accuracy curve [iteration, %]: ${JSON.stringify(r.curve)}`;
    return r.reached !== null
      ? { name: `${what}: iterations to 85 %`, value: r.reached, unit: 'iterations', note }
      : {
          name: `${what}: not at 85 % in ${r.curve.at(-1)?.[0] ?? 0} iterations, best test accuracy`,
          value: Math.max(...r.curve.map((c) => c[1])),
          unit: '%',
          note,
        };
  }),
  { runs },
);
process.exit(0);
