// Where an iteration's time goes in a room of 1, 2 and 3 Chromium volunteer tabs (wasm backend,
// real WebRTC to a Node coordinator): MNIST, MLP 784-128-10 (101,770 parameters), mini-batch 256.
// Each worker's calls are timed at its WorkerHandle (RoomHost's wrapHandle), and each iteration is
// split into
//   compute:       the critical shard's compute time, as its tab measured it (Web Worker, tfjs);
//   communication: the critical shard's round trip minus that compute (weights and assign out,
//                  result back: encoding, framing, WebRTC, the tab's main thread and postMessage);
//   waiting:       mean time a worker's result waited for the slowest one (imbalance);
//   step:          the coordinator's aggregation and optimizer step (Trainer timing.stepMs).
// Medians over iterations 6-30 (the first ones compile and measure speeds). Needs npm run build, Chromium.

import { join } from 'node:path';
import { Trainer } from '../packages/coordinator/dist/index.js';
import { hostRoom } from '../packages/coordinator/dist/room/node.js';
import { RoomServer } from '../packages/coordinator/dist/room/server.js';
import { launchChromium } from '../scripts/chromium.mjs';
import { report } from './lib.mjs';

const DIST = join(import.meta.dirname, '..', 'apps', 'demo', 'dist');
const ITERATIONS = 30;
const job = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  optimizer: { kind: 'adam', lr: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  batchSize: 256,
  epochs: 1,
  seed: 1,
  maxIterations: ITERATIONS,
  evaluate: false,
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await RoomServer.start({ port: 0, dist: DIST, log: () => {} });
const browser = await launchChromium();

async function run(n) {
  const room = server.createRoom();
  const trainer = new Trainer(job, { waitForWorkers: true });
  const weightsAt = new Map();
  const calls = [];
  const host = await hostRoom({
    url: server.wsUrl,
    token: room.token,
    hostKey: room.hostKey,
    trainer,
    wrapHandle: (h) => ({
      ...h,
      id: h.id,
      kind: h.kind,
      closed: h.closed,
      setWeights: async (version, w) => {
        const start = performance.now();
        await h.setWeights(version, w);
        weightsAt.set(h.id, { version, start });
      },
      compute: async (req) => {
        const w = weightsAt.get(h.id);
        const start = w?.version === req.version ? w.start : performance.now();
        const r = await h.compute(req);
        calls.push({ id: h.id, iteration: req.iteration, start, end: performance.now(), computeMs: r.computeMs });
        return r;
      },
    }),
  });
  let accepted = 0;
  host.on('peer', (e) => {
    if (e.type === 'accepted') accepted++;
  });
  const pages = [];
  for (let i = 0; i < n; i++) {
    const p = await browser.newPage();
    await p.goto(`${server.url}/volunteer.html?backend=wasm&name=bench${i}#room=${room.token}`);
    pages.push(p);
  }
  while (accepted < n) await new Promise((r) => setTimeout(r, 50));
  const rows = [];
  trainer.on('iteration', (e) => {
    const it = e.iteration - 1;
    const shards = calls.filter((c) => c.iteration === it);
    if (it < 5 || shards.length === 0) return;
    const last = Math.max(...shards.map((s) => s.end));
    const crit = shards.find((s) => s.end === last);
    rows.push({
      total: e.timing.totalMs,
      compute: crit.computeMs,
      communication: crit.end - crit.start - crit.computeMs,
      waiting: shards.reduce((a, s) => a + (last - s.end), 0) / shards.length,
      step: e.timing.stepMs,
      workers: new Set(shards.map((s) => s.id)).size,
      examplesPerSec: e.examplesPerSec,
    });
  });
  await trainer.run();
  host.close();
  await Promise.all(pages.map((p) => p.close()));
  const m = (k) => median(rows.map((r) => r[k]));
  return {
    total: m('total'),
    compute: m('compute'),
    communication: m('communication'),
    waiting: m('waiting'),
    step: m('step'),
    workers: m('workers'),
    examplesPerSec: m('examplesPerSec'),
  };
}

const entries = [];
const runs = {};
for (const n of [1, 2, 3]) {
  const r = await run(n);
  runs[n] = r;
  const other = r.total - r.compute - r.communication - r.waiting - r.step;
  console.log(
    `${n} tab(s):`,
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    `rest ${other.toFixed(1)} ms`,
  );
  for (const k of ['total', 'compute', 'communication', 'waiting', 'step']) {
    entries.push({ name: `${n} tab(s): ${k} per iteration`, value: r[k], unit: 'ms' });
  }
  entries.push({ name: `${n} tab(s): examples per second`, value: r.examplesPerSec, unit: 'ex/s' });
}
report('room-iteration', entries, {
  runs,
  job: { model: '784-128-10', batchSize: 256, iterations: ITERATIONS, backend: 'wasm' },
});
await browser.close();
await server.close();
