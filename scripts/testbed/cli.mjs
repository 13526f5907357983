#!/usr/bin/env node
// npm run testbed -- [--profile lan|classroom|home] [--volunteers N] [flags]: one room on the classroom
// network testbed (see testbed.mjs and net.mjs), with the host's own worker, and its figures printed.
// The job's flags are gradroom train's, read by the CLI's own parser (job-flags.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { JOB_OPTIONS, jobFromFlags } from '../../packages/coordinator/dist/cli/job-flags.js';
import { describeShape, formatRun } from './format.mjs';
import { PROFILES, runTestbed, runWithAlone, shapeOf, TestbedUnavailable } from './testbed.mjs';

const HELP = `npm run testbed -- [options] [gradroom train's job flags]
  --profile P        lan | classroom | home (default classroom)
${Object.entries(PROFILES)
  .map(([k, p]) => `                       ${k}: ${p.describe}`)
  .join('\n')}
  --volunteers N     Node volunteers over WebRTC, each in its own namespace and cgroup (default 2)
  --tabs N           Chromium tabs that volunteer too (the demo's volunteer page), each likewise (default 0)
  --alone            the host's worker alone: no volunteers, the same quota and job, in exact mode
                       (plain training, as a laptop alone trains; the room's mode divides a room's work)
  --with-alone       the host alone first, then the room, in one invocation (aloneReachedTargetAt);
                       with --no-host-worker the room is the volunteers' only
  --alone-same-mode  the host alone in the room's mode (mode local with one worker), not exact mode
  --no-host-worker   the coordinator does not compute (by default it has one worker thread, no link)
  --no-chunks        mnist or fashion-mnist as the whole file (by default mode local and exact take
                       their chunked form)
  --no-shard-examples  exact mode on mnist or fashion-mnist: each volunteer fetches the data (its
                       chunks) rather than receiving the examples of its shards with them
  --no-packing       exact mode's weights and gradient sums travel as float32, not packed losslessly
  --host-cpu X       the coordinator's share of one CPU, its worker included (default: --cpu), or none
  --planning P       the trainer's planning: cost (default: shards only where they pay) or all
  --cpu X            each volunteer's share of one CPU, or none
  --slow N           the first N volunteers are older laptops, with --slow-cpu X of a CPU each
                       (default a third of --cpu)
  --coord MBIT       the coordinator's link, both directions (Mbit/s, or none)
  --coord-up MBIT    coordinator -> volunteers;  --coord-down MBIT  volunteers -> coordinator
  --vol-up MBIT      each volunteer's own uplink; --vol-down MBIT   its downlink
  --hidden H         without --model: the MLP's hidden layer sizes, comma separated (default 128)
  --batch B          = --batch-size (default 64);  --iterations I  = --max-iterations
  --epochs E         at most this many epochs (default 5)
  --eval-every N     evaluate on the test split every N iterations (default: after each epoch)
  --target ACC       test accuracy to time (default 0.92); the run stops there unless --keep-going
  --evaluate         evaluate even with --iterations (which otherwise skips evaluation)
  --warmup W         iterations left out of the figures (default 5)
  --json             print the figures as JSON
  --trace FILE       write every iteration's and evaluation's record to FILE (the room's; with --with-alone, the last run's)
  --timeout S        the whole run at most (default 900 s)
Job flags, as gradroom train reads them: --dataset mnist|fashion-mnist|FILE.bin, --model NAME|spec.json,
  --optimizer, --lr, --schedule, --batch-size, --seed, --mode exact|local, --local-steps H (default 8
  here), --compress, --outer-optimizer, --outer-lr, ... (gradroom train --help lists them all)
Volunteers fetch the data set from the room server (/datasets/) over their links; that counts.
Needs root (network namespaces, tc, cgroups). Traffic stays inside namespaces it makes (10.213.0.0/24).`;

const usage = (m) => {
  console.error(`testbed: ${m}`);
  process.exit(2);
};

let v;
try {
  ({ values: v } = parseArgs({
    options: {
      ...JOB_OPTIONS,
      profile: { type: 'string', default: 'classroom' },
      volunteers: { type: 'string', default: '2' },
      tabs: { type: 'string', default: '0' },
      alone: { type: 'boolean' },
      'with-alone': { type: 'boolean' },
      'alone-same-mode': { type: 'boolean' },
      'no-host-worker': { type: 'boolean' },
      'no-shard-examples': { type: 'boolean' },
      'no-packing': { type: 'boolean' },
      'no-chunks': { type: 'boolean' },
      'host-cpu': { type: 'string' },
      planning: { type: 'string', default: 'cost' },
      cpu: { type: 'string' },
      slow: { type: 'string' },
      'slow-cpu': { type: 'string' },
      coord: { type: 'string' },
      'coord-up': { type: 'string' },
      'coord-down': { type: 'string' },
      'vol-up': { type: 'string' },
      'vol-down': { type: 'string' },
      batch: { type: 'string' },
      hidden: { type: 'string', default: '128' },
      iterations: { type: 'string' },
      'eval-every': { type: 'string' },
      evaluate: { type: 'boolean' },
      target: { type: 'string', default: '0.92' },
      'keep-going': { type: 'boolean' },
      warmup: { type: 'string', default: '5' },
      json: { type: 'boolean' },
      trace: { type: 'string' },
      timeout: { type: 'string', default: '900' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  usage(e.message);
}
if (v.help) {
  console.log(HELP);
  process.exit(0);
}

function num(name, s, { int = false, none = false } = {}) {
  if (s === undefined) return undefined;
  if (none && s === 'none') return 0;
  const x = Number(s);
  if (!Number.isFinite(x) || x <= 0 || (int && !Number.isInteger(x))) {
    usage(`--${name} must be a positive ${int ? 'integer' : 'number'}${none ? ' or none' : ''}, got '${s}'`);
  }
  return x;
}

if (v.alone && v['with-alone']) usage('--alone and --with-alone: give one of them');
if (v.alone && v['no-host-worker']) usage('--alone needs the host worker: it is the only one');
if (v.batch !== undefined && v['batch-size'] !== undefined) usage('--batch and --batch-size: give one of them');
if (v.iterations !== undefined && v['max-iterations'] !== undefined)
  usage('--iterations and --max-iterations: give one of them');

const opts = {
  profile: v.profile,
  volunteers: num('volunteers', v.volunteers, { int: true }),
  tabs: v.tabs === '0' ? 0 : num('tabs', v.tabs, { int: true }),
  planning: v.planning,
  cpu: num('cpu', v.cpu, { none: true }),
  hostCpu: num('host-cpu', v['host-cpu'], { none: true }),
  slow: num('slow', v.slow, { int: true }),
  slowCpu: num('slow-cpu', v['slow-cpu']),
  hostWorker: !v['no-host-worker'],
  shardExamples: !v['no-shard-examples'],
  packed: !v['no-packing'],
  chunks: !v['no-chunks'],
  coordUp: num('coord-up', v['coord-up'] ?? v.coord, { none: true }),
  coordDown: num('coord-down', v['coord-down'] ?? v.coord, { none: true }),
  volUp: num('vol-up', v['vol-up'], { none: true }),
  volDown: num('vol-down', v['vol-down'], { none: true }),
  warmup: v.warmup === '0' ? 0 : num('warmup', v.warmup, { int: true }),
  evalEvery: num('eval-every', v['eval-every'], { int: true }),
  targetAccuracy: num('target', v.target),
  stopAtTarget: !v['keep-going'],
  timeoutMs: num('timeout', v.timeout) * 1000,
  ...(v.trace ? { trace: resolve(v.trace) } : {}),
};
if (opts.planning !== 'cost' && opts.planning !== 'all')
  usage(`--planning must be cost or all, got '${opts.planning}'`);

// the job: gradroom train's flags, with the testbed's names and defaults where it had its own
const flags = { ...v };
for (const k of Object.keys(flags)) if (!(k in JOB_OPTIONS)) delete flags[k];
flags['batch-size'] ??= v.batch;
flags['max-iterations'] ??= v.iterations;
flags.epochs ??= '5';
if (flags.mode === 'local') flags['local-steps'] ??= '8';
const hidden = v.hidden.split(',').map((h) => num('hidden', h.trim(), { int: true }));
const file = typeof v.dataset === 'string' && v.dataset.endsWith('.bin') ? resolve(v.dataset) : undefined;
try {
  const { job } = jobFromFlags(flags, { kind: 'mlp', inputShape: [28, 28, 1], hidden, classes: 10 });
  job.evaluate = flags['max-iterations'] === undefined || !!v.evaluate || opts.evalEvery !== undefined;
  if (file) {
    // the file travels from the room server as a tab fetches it: by URL, checked by its SHA-256
    const d = job.dataset;
    const per = d.inputShape.reduce((a, b) => a * b, 1);
    opts.dataSizes = { train: d.train.x.length / per, test: d.test.x.length / per };
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    job.dataset = { kind: 'url', url: `/datasets/${basename(file)}`, sha256, split: 'train' };
    opts.dataFile = file;
  }
  opts.job = job;
} catch (e) {
  usage(e.message);
}
let shape;
try {
  shape = shapeOf(opts);
} catch (e) {
  usage(e.message);
}

const say = v.json ? () => {} : (l) => console.log(`testbed: ${l}`);
say(
  `${opts.profile}, ${v.alone ? 'the host alone' : `${opts.volunteers} volunteer(s)${opts.tabs ? ` and ${opts.tabs} Chromium tab(s)` : ''}`}: ${describeShape(shape)}`,
);
try {
  const run = v['with-alone'] ? runWithAlone : runTestbed;
  const r = await run({ ...opts, alone: !!v.alone, aloneSameMode: !!v['alone-same-mode'], log: say });
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
