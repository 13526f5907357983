// Issue 19 §4: top-k compression (--compress topk) against none, on threads (statistics, not the
// network): test accuracy at a fixed example budget, the mean over seeds, and the bytes a
// pseudo-gradient of the MLP takes. Target: at least 16x fewer bytes than none, accuracy within
// 0.5 points of none on MNIST and Fashion-MNIST.
//   Fashion-MNIST: 9 workers, H = 8, 600 iterations (38,400 examples), the CLI's defaults otherwise.
//   MNIST: 6 workers, H = 8, 4 epochs.
// Run: node bench/topk.bench.mjs (after npm run build; about 3 minutes on 2 cores). SEEDS=2,3 for fewer.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { encodedBytes, encodeUpdate } from '../packages/core/dist/index.js';
import { report } from './lib.mjs';

const cli = join(import.meta.dirname, '..', 'packages', 'coordinator', 'dist', 'cli.js');
const seeds = (process.env.SEEDS ?? '2,3,4,5,6').split(',').map(Number);

/** Test accuracy of one CLI run (its 'done' event). */
function accuracy(args) {
  const out = execFileSync(process.execPath, [cli, 'train', ...args, '--json'], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const done = out
    .split('\n')
    .filter((l) => l.includes('"event":"done"'))
    .map((l) => JSON.parse(l))[0];
  if (!done) throw new Error(`no done event from: ${args.join(' ')}`);
  return done.testAccuracy;
}

const jobs = {
  'fashion-mnist': (s) => [
    '--dataset',
    'fashion-mnist',
    '--epochs',
    '1',
    '--max-iterations',
    '600',
    '--workers',
    '9',
    '--mode',
    'local',
    '--local-steps',
    '8',
    '--seed',
    String(s),
  ],
  mnist: (s) => ['--epochs', '4', '--workers', '6', '--mode', 'local', '--local-steps', '8', '--seed', String(s)],
};
const entries = [];
const runs = {};
for (const [name, args] of Object.entries(jobs)) {
  const acc = { none: [], topk: [] };
  for (const s of name === 'mnist' ? seeds.slice(0, 3) : seeds)
    for (const c of ['none', 'topk']) acc[c].push(accuracy([...args(s), '--compress', c]));
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  runs[name] = acc;
  const d = 100 * (mean(acc.topk) - mean(acc.none));
  entries.push({
    name: `${name}: test accuracy, topk - none (points; mean of ${acc.none.length} seeds: ${(100 * mean(acc.topk)).toFixed(2)} % against ${(100 * mean(acc.none)).toFixed(2)} %)`,
    value: d,
    unit: 'points',
    pass: d >= -0.5,
    target: '>= -0.5 points',
  });
}
// the MLP 784-128-10's pseudo-gradient: 101,770 values
const v = Float32Array.from({ length: 101_770 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 13)));
const none = v.byteLength;
for (const c of ['int8', 'topk']) {
  const b = encodedBytes(encodeUpdate(v, c));
  entries.push({
    name: `bytes of a pseudo-gradient, none ÷ ${c}`,
    value: b,
    baseline: none,
    unit: 'B',
    ratio: none / b,
    ...(c === 'topk' ? { target: '>= 16' } : {}),
  });
}
report('topk', entries, { seeds, runs });
