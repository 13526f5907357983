// Issue 19 §1: the sweep that decides mode local's default outer optimizer.
// Node worker threads (the real Trainer, wasm), MLP 784-128-10, the default job's inner Adam with its
// decay. Grid: H x outer x workers, plus exact mode as the baseline. For each point: examples needed
// to reach the target (test accuracy scored here, in the bench process, every evalEvery examples,
// by an own tfjs forward pass over trainer.getWeights()), and the accuracy after a fixed budget of
// one epoch (the first round that completes it: a local round can overshoot the epoch's end).
// A run stops when it has both, or at the cap (MNIST 8 epochs, Fashion-MNIST 4): with 2 shared
// cores, running every point to the cap would not finish the grid.
// Results go to bench/out/<bench>.json and bench/results.json after every point, so a partial run
// keeps what it measured. The grid is ordered so the cells that decide the defaults come first.
//
//   nice -n 10 node bench/local-sweep.bench.mjs mnist     # full grid, budget 8 epochs, target 92 %
//   nice -n 10 node bench/local-sweep.bench.mjs fashion   # reduced grid, budget 4 epochs, target 85 %
// Env: SWEEP_OUTERS=avg,nesterov (which outers), SWEEP_H=4,16, SWEEP_WORKERS=4,8, SWEEP_EXTRA=targets,
// SWEEP_INNER_SCALE=2 (inner learning rate x2).
//
// "Nesterov with momentum restarts" is DiLoCo's Nesterov with its momentum set to 0 every 8 outer
// steps (restartEvery 8).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_JOB, spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { mlpTestAccuracy } from './mlp-test-accuracy.mjs';

const here = import.meta.dirname;
const which = process.argv[2] ?? 'mnist';
const targets = which === 'targets';
const DATA = {
  mnist: { dataset: 'mnist', target: 0.92, epochs: 8, H: [4, 8, 16, 2, 32], workers: [2, 4, 8], evalEvery: 1000 },
  fashion: { dataset: 'fashion-mnist', target: 0.85, epochs: 4, H: [16, 4, 32], workers: [8, 4], evalEvery: 5000 },
}[targets ? (process.argv[3] ?? 'mnist') : which];
if (!DATA) {
  console.error('usage: local-sweep.bench.mjs mnist|fashion|targets [mnist|fashion]');
  process.exit(2);
}
export const OUTERS = {
  avg: { kind: 'sgd', lr: 1 },
  nesterov: { kind: 'momentum', lr: 0.7, momentum: 0.9, nesterov: true, form: 'classic' },
  'sgd1.2': { kind: 'sgd', lr: 1.2 },
  'sgd1.5': { kind: 'sgd', lr: 1.5 },
  // the outer step scaled with the workers (issue 19 §2): sqrt(4) and sqrt(8)
  sgd2: { kind: 'sgd', lr: 2 },
  'sgd2.8': { kind: 'sgd', lr: 2.83 },
  'nesterov-restart': { kind: 'momentum', lr: 0.7, momentum: 0.9, nesterov: true, form: 'classic', restartEvery: 8 },
};
const list = (env, all) =>
  process.env[env] ? process.env[env].split(',').map((x) => (typeof all[0] === 'number' ? Number(x) : x)) : all;
const outers = list('SWEEP_OUTERS', Object.keys(OUTERS));
const Hs = list('SWEEP_H', DATA.H);
const workersList = list('SWEEP_WORKERS', DATA.workers);
// SWEEP_INNER_SCALE=2: the inner learning rate (and its schedule) times 2, as its own points
const INNER_SCALE = Number(process.env.SWEEP_INNER_SCALE ?? 1);

await tf.setBackend('wasm');
const accuracy = await mlpTestAccuracy(DATA.dataset);

/** One run; returns { examplesToTarget, accuracyAtBudget, curve }. */
export async function point({
  mode,
  workers,
  epochs = DATA.epochs,
  dataset = DATA.dataset,
  evalEvery = DATA.evalEvery,
  innerScale = 1,
}) {
  const job = {
    ...DEFAULT_JOB,
    // the inner learning rate scaled (issue 19 §2: does a room of w workers want a larger step?)
    optimizer: { ...DEFAULT_JOB.optimizer, lr: DEFAULT_JOB.optimizer.lr * innerScale },
    schedule: { ...DEFAULT_JOB.schedule, lr0: DEFAULT_JOB.schedule.lr0 * innerScale },
    dataset: { kind: dataset, split: 'train' },
    epochs,
    evaluate: false,
    ...(mode ? { mode } : {}),
  };
  const t = new Trainer(job, { backends: ['wasm'] });
  for (let i = 0; i < workers; i++) t.addWorker(spawnThreadWorker({ stdout: process.stderr }));
  const trainSize = dataset === 'mnist' ? 7996 : 60000;
  const budget = epochs * trainSize;
  let examples = 0;
  let next = evalEvery;
  let reached = null;
  const curve = [];
  const t0 = performance.now();
  const score = () => {
    const a = accuracy(t.getWeights(), t.getLayout());
    curve.push([examples, Math.round(a * 10000) / 10000]);
    if (reached === null && a >= DATA.target) reached = examples;
    return a;
  };
  let atEpoch = null;
  t.on('iteration', (e) => {
    examples += e.examples;
    if (examples >= next || (atEpoch === null && examples >= trainSize)) {
      next = (Math.floor(examples / evalEvery) + 1) * evalEvery;
      const a = score();
      if (atEpoch === null && examples >= trainSize) atEpoch = a;
    }
    // CPU is scarce: a run stops once it has both figures (the target and one epoch), or at the budget
    if (examples >= budget || (reached !== null && atEpoch !== null)) t.stop();
  });
  await t.run();
  await t.close();
  if (curve.at(-1)?.[0] !== examples) score();
  return {
    examplesToTarget: reached,
    accuracyAtEpoch1: atEpoch === null ? null : Math.round(atEpoch * 10000) / 10000,
    accuracyAtEnd: curve.at(-1)[1],
    examples,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    curve,
  };
}

if (targets) {
  const { runTargets } = await import('./local-sweep-targets.mjs');
  await runTargets({ point, data: DATA, dataName: process.argv[3] ?? 'mnist' });
  process.exit(0);
}

const bench = `local-sweep-${which}`;
const outFile = join(here, 'out', `${bench}.json`);
// a fresh checkout has no bench/out: start from the points bench/results.json keeps, or a partial
// rerun (SWEEP_OUTERS=...) would replace the whole table with its own points
const resultsPath = join(here, 'results.json');
const prior = existsSync(outFile)
  ? JSON.parse(readFileSync(outFile, 'utf8'))
  : existsSync(resultsPath)
    ? (JSON.parse(readFileSync(resultsPath, 'utf8'))[bench] ?? null)
    : null;
const points = prior?.points ?? [];
const has = (key) => points.some((p) => p.key === key);

function save() {
  const doc = {
    bench,
    at: new Date().toISOString(),
    node: process.version,
    dataset: DATA.dataset,
    target: DATA.target,
    budgetEpochs: DATA.epochs,
    note: 'examplesToTarget null: the target was not reached within the cap (budgetEpochs). nesterov-restart: Nesterov 0.7/0.9 with its momentum set to 0 every 8 outer steps.',
    points,
    entries: entriesOf(points),
  };
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(outFile, JSON.stringify(doc, null, 2));
  const resultsFile = join(here, 'results.json');
  const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
  results[bench] = doc;
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
}

function entriesOf(ps) {
  return ps.map((p) => ({
    name: `${p.key}: examples to ${DATA.target * 100} % (accuracy after 1 epoch ${p.accuracyAtEpoch1 === null ? '-' : (p.accuracyAtEpoch1 * 100).toFixed(1)} %)`,
    // never reached: no value (JSON has no Infinity), the name says so
    ...(p.examplesToTarget === null
      ? { note: `not reached within ${DATA.epochs} epochs` }
      : { value: p.examplesToTarget }),
    unit: 'examples',
  }));
}

async function run(key, spec) {
  if (has(key)) return;
  const r = await point(spec);
  points.push({ key, ...spec, mode: spec.mode ?? { kind: 'exact' }, ...r });
  console.log(
    `${key}: to target ${r.examplesToTarget ?? 'never'}, after 1 epoch ${r.accuracyAtEpoch1}, ${r.seconds} s`,
  );
  save();
}

const inner = INNER_SCALE === 1 ? {} : { innerScale: INNER_SCALE };
const innerKey = INNER_SCALE === 1 ? '' : ` inner x${INNER_SCALE}`;
if (!process.env.SWEEP_SKIP_EXACT) await run(`exact${innerKey}`, { workers: 2, ...inner });
for (const H of Hs)
  for (const workers of workersList)
    for (const o of outers)
      await run(`H=${H} w=${workers} ${o}${innerKey}`, {
        workers,
        mode: { kind: 'local', steps: H, outer: OUTERS[o] },
        ...inner,
      });
