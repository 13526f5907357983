#!/usr/bin/env node
// npm run testbed -- [--profile lan|classroom|home] [--volunteers N] [flags]: one room on the classroom
// network testbed (see testbed.mjs and net.mjs), trained on MNIST, with its figures printed.
import { parseArgs } from 'node:util';
import { describeShape, formatRun } from './format.mjs';
import { defaultJob, PROFILES, runTestbed, shapeOf, TestbedUnavailable } from './testbed.mjs';

const HELP = `npm run testbed -- [options]
  --profile P        lan | classroom | home (default classroom)
${Object.entries(PROFILES)
  .map(([k, p]) => `                       ${k}: ${p.describe}`)
  .join('\n')}
  --volunteers N     Node volunteers over WebRTC, each in its own namespace and cgroup (default 2)
  --tabs N           Chromium tabs that volunteer too (the demo's volunteer page), each likewise (default 0)
  --planning P       the trainer's planning: cost (default: shards only where they pay) or all
  --mode M           exact (default) or local: H inner steps per worker, one outer step a round
  --local-steps H    inner steps per round in mode local, or auto (default 8)
  --compress C       none | fp16 | int8: how pseudo-gradients travel back in mode local (default none)
  --cpu X            each volunteer's share of one CPU, or none
  --coord MBIT       the coordinator's link, both directions (Mbit/s, or none)
  --coord-up MBIT    coordinator -> volunteers;  --coord-down MBIT  volunteers -> coordinator
  --vol-up MBIT      each volunteer's own uplink; --vol-down MBIT   its downlink
  --batch B          mini-batch size (default 64)
  --hidden H         hidden layer sizes of the MLP, comma separated (default 128)
  --epochs E         at most this many epochs (default 5)
  --iterations I     stop after I iterations (no evaluation then unless --evaluate)
  --target ACC       test accuracy to time (default 0.92); the run stops there unless --keep-going
  --warmup W         iterations left out of the figures (default 5)
  --json             print the figures as JSON
Needs root (network namespaces, tc, cgroups). Traffic stays inside namespaces it makes (10.213.0.0/24).`;

const { values: v } = parseArgs({
  options: {
    profile: { type: 'string', default: 'classroom' },
    volunteers: { type: 'string', default: '2' },
    tabs: { type: 'string', default: '0' },
    planning: { type: 'string', default: 'cost' },
    mode: { type: 'string', default: 'exact' },
    'local-steps': { type: 'string', default: '8' },
    compress: { type: 'string', default: 'none' },
    cpu: { type: 'string' },
    coord: { type: 'string' },
    'coord-up': { type: 'string' },
    'coord-down': { type: 'string' },
    'vol-up': { type: 'string' },
    'vol-down': { type: 'string' },
    batch: { type: 'string', default: '64' },
    hidden: { type: 'string', default: '128' },
    epochs: { type: 'string', default: '5' },
    iterations: { type: 'string' },
    evaluate: { type: 'boolean' },
    target: { type: 'string', default: '0.92' },
    'keep-going': { type: 'boolean' },
    warmup: { type: 'string', default: '5' },
    json: { type: 'boolean' },
    timeout: { type: 'string', default: '900' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (v.help) {
  console.log(HELP);
  process.exit(0);
}

function num(name, s, { int = false, none = false } = {}) {
  if (s === undefined) return undefined;
  if (none && s === 'none') return 0;
  const x = Number(s);
  if (!Number.isFinite(x) || x <= 0 || (int && !Number.isInteger(x))) {
    console.error(
      `testbed: --${name} must be a positive ${int ? 'integer' : 'number'}${none ? ' or none' : ''}, got '${s}'`,
    );
    process.exit(2);
  }
  return x;
}

const opts = {
  profile: v.profile,
  volunteers: num('volunteers', v.volunteers, { int: true }),
  tabs: v.tabs === '0' ? 0 : num('tabs', v.tabs, { int: true }),
  planning: v.planning,
  cpu: num('cpu', v.cpu, { none: true }),
  coordUp: num('coord-up', v['coord-up'] ?? v.coord, { none: true }),
  coordDown: num('coord-down', v['coord-down'] ?? v.coord, { none: true }),
  volUp: num('vol-up', v['vol-up'], { none: true }),
  volDown: num('vol-down', v['vol-down'], { none: true }),
  warmup: v.warmup === '0' ? 0 : num('warmup', v.warmup, { int: true }),
  targetAccuracy: num('target', v.target),
  stopAtTarget: !v['keep-going'],
  timeoutMs: num('timeout', v.timeout) * 1000,
};
const iterations = num('iterations', v.iterations, { int: true });
const hidden = v.hidden.split(',').map((h) => num('hidden', h.trim(), { int: true }));
opts.job = defaultJob({
  batchSize: num('batch', v.batch, { int: true }),
  epochs: num('epochs', v.epochs, { int: true }),
  iterations,
  hidden,
  evaluate: iterations === undefined || !!v.evaluate,
});
if (v.mode !== 'exact' && v.mode !== 'local') {
  console.error(`testbed: --mode must be exact or local, got '${v.mode}'`);
  process.exit(2);
}
if (!['none', 'fp16', 'int8'].includes(v.compress)) {
  console.error(`testbed: --compress must be none, fp16 or int8, got '${v.compress}'`);
  process.exit(2);
}
if (v.mode === 'local') {
  const steps = v['local-steps'] === 'auto' ? 'auto' : num('local-steps', v['local-steps'], { int: true });
  opts.job.mode = { kind: 'local', steps, compress: v.compress };
}
if (opts.planning !== 'cost' && opts.planning !== 'all') {
  console.error(`testbed: --planning must be cost or all, got '${opts.planning}'`);
  process.exit(2);
}
let shape;
try {
  shape = shapeOf(opts);
} catch (e) {
  console.error(`testbed: ${e.message}`);
  process.exit(2);
}

const say = v.json ? () => {} : (l) => console.log(`testbed: ${l}`);
say(
  `${opts.profile}, ${opts.volunteers} volunteer(s)${opts.tabs ? ` and ${opts.tabs} Chromium tab(s)` : ''}: ${describeShape(shape)}`,
);
try {
  const r = await runTestbed({ ...opts, log: say });
  console.log(v.json ? JSON.stringify(r, null, 2) : formatRun(r));
  process.exit(0);
} catch (e) {
  if (e instanceof TestbedUnavailable) {
    console.error(`testbed: not run: ${e.message}`);
    process.exit(2);
  }
  console.error(`testbed: failed: ${e.message}`);
  process.exit(1);
}
