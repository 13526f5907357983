// Issue 19 §3 on Node worker threads: mode local with and without overlap (early groups), MNIST, MLP
// 784-128-10, Adam inner, H = 4, outer SGD lr 1.5 (the sweep's rule at H <= 4), inner rate x
// sqrt(workers), a fixed budget of EPOCHS epochs. One member is slow (its answers held back by SLOW x
// its compute time) and every member's link takes LINK_MS each way (weights in, pseudo-gradient out:
// a wrapper around the worker handle), so a round has communication and a straggler to hide.
// Measured per member: compute utilization (time in inner steps, from the worker's own computeMs, /
// wall time of the run); and examples/s and test accuracy, overlap on against off. Threads share this
// machine's cores: it measures the schedule, not a network (the testbed's classroom profile needs
// root and is not run here). Runs off, on, off, on and reports the means.
//   node bench/overlap.bench.mjs     (WORKERS=4 EPOCHS=3 SLOW=1 LINK_MS=20 by default)
import { DEFAULT_JOB, spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { report } from './lib.mjs';

const WORKERS = Number(process.env.WORKERS ?? 4);
const EPOCHS = Number(process.env.EPOCHS ?? 3);
const SLOW = Number(process.env.SLOW ?? 1);
const LINK_MS = Number(process.env.LINK_MS ?? 20);
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** A thread worker behind a link of LINK_MS each way; when slow, its answers come SLOW x its compute later. */
function member(slow, log) {
  const w = spawnThreadWorker({ stdout: process.stderr });
  const train = w.trainLocal;
  log.set(w.id, { computeMs: 0, groups: 0, slow });
  return {
    ...w,
    trainLocal: async (req) => {
      await sleep(LINK_MS);
      const r = await train(req);
      const m = log.get(w.id);
      m.computeMs += r.computeMs;
      m.groups++;
      if (slow) await sleep(SLOW * r.computeMs);
      await sleep(LINK_MS);
      return r;
    },
  };
}

async function run(overlap) {
  const mode = {
    kind: 'local',
    steps: 4,
    warmup: 0,
    outer: { kind: 'sgd', lr: 1.5 },
    innerScale: 'sqrt-workers',
    overlap,
  };
  const t = new Trainer({ ...DEFAULT_JOB, epochs: EPOCHS, evaluate: false, mode }, { backends: ['wasm'] });
  const log = new Map();
  for (let i = 0; i < WORKERS; i++) t.addWorker(member(i === WORKERS - 1, log));
  let examples = 0;
  let t0 = 0;
  // groups started early, and those the missed outer step reached between two inner steps
  let early = 0;
  let caughtUp = 0;
  t.on('iteration', (e) => {
    examples += e.examples;
    early += e.round?.early ?? 0;
    caughtUp += e.round?.caughtUp ?? 0;
  });
  t.on('state', (e) => {
    if (e.state === 'running') t0 = performance.now();
  });
  await t.run();
  const wallMs = performance.now() - t0;
  const test = await t.evaluate();
  await t.close();
  const members = [...log.values()].map((m) => ({ ...m, utilization: m.computeMs / wallMs }));
  return {
    wallMs,
    examples,
    examplesPerSec: (examples / wallMs) * 1000,
    accuracy: test.metric,
    members,
    early,
    caughtUp,
  };
}

const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
/** The mean of two runs, field by field (members by their place). */
function both(a, b) {
  return {
    examplesPerSec: (a.examplesPerSec + b.examplesPerSec) / 2,
    accuracy: (a.accuracy + b.accuracy) / 2,
    early: a.early + b.early,
    caughtUp: a.caughtUp + b.caughtUp,
    members: a.members.map((m, i) => ({
      slow: m.slow,
      groups: m.groups + b.members[i].groups,
      utilization: (m.utilization + b.members[i].utilization) / 2,
    })),
  };
}
const runs = [];
for (const overlap of [false, true, false, true]) {
  const r = await run(overlap);
  console.log(JSON.stringify({ overlap, ...r }));
  runs.push(r);
}
const off = both(runs[0], runs[2]);
const on = both(runs[1], runs[3]);
const fast = (x) => x.members.filter((m) => !m.slow);
const slow = (x) => x.members.find((m) => m.slow);
const setting = `${WORKERS} threads (1 slow x${1 + SLOW}), link ${LINK_MS} ms each way, H=4, ${EPOCHS} epochs`;
const fastOn = mean(fast(on).map((m) => m.utilization));
const fastOff = mean(fast(off).map((m) => m.utilization));
report(
  'overlap',
  [
    {
      name: `${setting}: fast members' compute utilization, overlap (baseline: off)`,
      value: fastOn,
      baseline: fastOff,
      ratio: fastOn / fastOff,
    },
    {
      name: `${setting}: slow member's compute utilization, overlap (baseline: off)`,
      value: slow(on).utilization,
      baseline: slow(off).utilization,
    },
    {
      name: `${setting}: early groups / all groups, overlap`,
      value: on.early / on.members.reduce((a, m) => a + m.groups, 0),
    },
    {
      name: `${setting}: early groups the missed outer step reached between two inner steps, overlap`,
      value: on.caughtUp / Math.max(1, on.early),
    },
    {
      name: `${setting}: examples/s, overlap (baseline: off)`,
      value: on.examplesPerSec,
      baseline: off.examplesPerSec,
      ratio: on.examplesPerSec / off.examplesPerSec,
      unit: 'ex/s',
    },
    {
      name: `${setting}: test accuracy after the same examples, overlap (baseline: off)`,
      value: on.accuracy * 100,
      baseline: off.accuracy * 100,
      unit: '%',
    },
  ],
  { workers: WORKERS, epochs: EPOCHS, slow: SLOW, linkMs: LINK_MS },
);
