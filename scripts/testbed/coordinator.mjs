#!/usr/bin/env node
// The testbed's coordinator: the room server, a room hosted from Node (hostRoom) and the Trainer, in
// the coordinator's network namespace (and, with a host CPU quota, its own cgroup: the teacher's
// laptop). Unless o.hostWorker is false it also computes, as the host tab does: one worker thread
// of its own, with no link. It serves the job's data set under /datasets/ so volunteers fetch it
// over the shaped links. It reports on stdout, one `TBC <kind> <json>` line each:
//   ready      {wsUrl, url, token}       once the room is open (the testbed then starts volunteers);
//                                        the run's clock starts here
//   peers      {accepted, via}           once every expected volunteer is in
//   iteration  {...event, link}          after each iteration, with the bytes the kernel counted on
//                                        this namespace's eth0 since the previous iteration
//   evaluation {...event, at}            after each evaluation every o.evalEvery iterations
//   epoch      {...event, at}            after each epoch's evaluation
//   done       {...}                     at the end
// Times (`at`) are seconds from the room's opening: joining, data fetches and warm-up included.
// Usage (inside the namespace): node coordinator.mjs '{"host":"10.213.0.1","volunteers":2,"job":{...}}'
import { readFileSync } from 'node:fs';
import { spawnThreadWorker, Trainer } from '../../packages/coordinator/dist/index.js';
import { hostRoom } from '../../packages/coordinator/dist/room/node.js';
import { RoomServer } from '../../packages/coordinator/dist/room/server.js';
import { shardExamplesFrom } from '../../packages/worker/dist/local-data.js';

const o = JSON.parse(process.argv[2] ?? '{}');
/** This process's cgroup for the cpu controller (v1), or its unified one (v2). */
function cpuCgroup() {
  try {
    const rows = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    const row = rows.find((l) => l.split(':')[1]?.split(',').includes('cpu')) ?? rows.find((l) => l.startsWith('0::'));
    return row ? row.split(':').slice(2).join(':') : null;
  } catch {
    return null;
  }
}
const say = (kind, data) => console.log(`TBC ${kind} ${JSON.stringify(data)}`);
const dev = o.dev ?? 'eth0';
const counter = (what) => {
  try {
    return Number(readFileSync(`/sys/class/net/${dev}/statistics/${what}`, 'utf8'));
  } catch {
    return 0;
  }
};
const link = () => ({
  rx: counter('rx_bytes'),
  tx: counter('tx_bytes'),
  rxPackets: counter('rx_packets'),
  txPackets: counter('tx_packets'),
});

// the demo's pages are served only when a Chromium tab volunteers (o.dist); o.data holds the data set
const server = await RoomServer.start({
  host: o.host ?? '127.0.0.1',
  port: 0,
  dist: o.dist,
  data: o.data,
  log: () => {},
});
const room = server.createRoom();
const job = o.job;
// a packed file travels as a URL on this server (the testbed gives its path under /datasets/)
if (job.dataset.kind === 'url' || job.dataset.kind === 'chunked')
  job.dataset = { ...job.dataset, url: new URL(job.dataset.url, server.url).href };
// a chunked data set: volunteers' exact-mode shards carry their examples, read here from the files
// this server serves (the volunteers then fetch no file for them; issue 18 §2)
const shardExamples =
  job.dataset.kind === 'chunked' && o.data && o.shardExamples !== false
    ? await shardExamplesFrom(job.dataset, { url: new URL('/datasets/', server.url).href, dir: o.data })
    : undefined;
const trainer = new Trainer(job, {
  ...(shardExamples ? { shardExamples } : {}),
  waitForWorkers: true,
  backends: ['wasm'],
  planning: o.planning ?? 'cost',
  ...(o.evalEvery ? { evalEvery: o.evalEvery } : {}),
  ...(o.dataSizes ? { dataSizes: o.dataSizes } : {}),
});
const via = {};
let accepted = 0;
const host = await hostRoom({
  url: server.wsUrl,
  token: room.token,
  hostKey: room.hostKey,
  trainer,
  packed: o.packed !== false,
  log: () => {},
});
host.on('peer', (e) => {
  if (e.type === 'accepted') {
    accepted++;
    via[e.name ?? e.id] = e.via;
  }
  if (e.type === 'rejected' || e.type === 'left') say('peer', { type: e.type, name: e.name, reason: e.reason });
});
const t0 = performance.now();
const since = () => (performance.now() - t0) / 1000;
// members set up, refused or gone, with the time: where a run's start goes
trainer.on('worker', (e) =>
  say('log', {
    level: 'info',
    message: `worker ${e.name ?? e.id} ${e.type}${e.reason ? `: ${e.reason}` : ''}`,
    at: since(),
  }),
);
const cpu0 = process.cpuUsage();
say('ready', { wsUrl: server.wsUrl, url: server.url, token: room.token });
// the host's own worker starts with the room, as the host tab's does (its data is on this machine:
// it reads the files the room server serves, not over HTTP from it)
if (o.hostWorker !== false)
  trainer.addWorker(
    spawnThreadWorker(o.data ? { localData: { url: new URL('/datasets/', server.url).href, dir: o.data } } : {}),
  );

const end = Date.now() + (o.joinTimeoutMs ?? 60_000);
while (accepted < o.volunteers) {
  // o.volunteers counts every member to wait for, Chromium tabs included
  if (Date.now() > end) {
    say('error', {
      message: `only ${accepted} of ${o.volunteers} volunteers joined within ${o.joinTimeoutMs ?? 60_000} ms`,
    });
    process.exit(3);
  }
  await new Promise((r) => setTimeout(r, 50));
}
const joinedAt = since();
say('peers', { accepted, via, at: joinedAt });

let startedAt = null;
let reached = null;
let evalMs = 0; // evaluations so far: not training time
let last = link();
let lastIterationAt = 0;
// the trainer's own log lines (refusals, waits, planning), for the trace
trainer.on('log', (e) => say('log', { level: e.level, message: e.message, at: since() }));
trainer.on('state', (s) => {
  if (s.state === 'running' && startedAt === null) startedAt = since();
});
trainer.on('iteration', (e) => {
  const now = link();
  lastIterationAt = performance.now();
  say('iteration', {
    iteration: e.iteration,
    epoch: e.epoch,
    batchesPerEpoch: e.batchesPerEpoch,
    examples: e.examples,
    loss: e.loss,
    examplesPerSec: e.examplesPerSec,
    timing: e.timing,
    bytes: e.bytes,
    // mode local: the round's groups, and with overlap those early and those caught up
    ...(e.round ? { round: e.round } : {}),
    fastestAloneExamplesPerSec: e.fastestAloneExamplesPerSec,
    link: {
      rx: now.rx - last.rx,
      tx: now.tx - last.tx,
      rxPackets: now.rxPackets - last.rxPackets,
      txPackets: now.txPackets - last.txPackets,
    },
    at: since(),
    workers: e.workers.map((w) => ({
      name: w.name ?? w.id,
      kind: w.kind,
      speed: w.speed,
      share: w.share,
      status: w.status,
      fixedMs: w.fixedMs,
      computeSpeed: w.computeSpeed,
      computeFixedMs: w.computeFixedMs,
      standby: w.standby,
    })),
  });
  last = now;
});
/** A test accuracy known at `at` (seconds from the opening, evaluations so far left out). */
const scored = (accuracy) => {
  if (reached === null && o.targetAccuracy && accuracy >= o.targetAccuracy) {
    reached = since() - evalMs / 1000;
    if (o.stopAtTarget) trainer.stop();
  }
};
let evaluatedAt = -1;
trainer.on('evaluation', (e) => {
  evalMs += e.evalMs;
  evaluatedAt = e.iteration;
  // wallAt: its end on the machine's clock, as the volunteers' rounds (utilization outside evaluations)
  say('evaluation', { ...e, at: since(), wallAt: performance.timeOrigin + performance.now() });
  scored(e.testAccuracy);
  last = link(); // evaluation traffic is not an iteration's
});
trainer.on('epoch', (e) => {
  // an epoch's end not scored by an 'evaluation' event: its evaluation ran since the last iteration
  if (e.iteration !== evaluatedAt) evalMs += performance.now() - lastIterationAt;
  say('epoch', {
    epoch: e.epoch,
    iteration: e.iteration,
    testAccuracy: e.testAccuracy,
    testLoss: e.testLoss,
    at: since(),
  });
  scored(e.testAccuracy);
  last = link();
});
// a run silent for 20 s says what each worker is doing (the trace keeps it): a stall is a defect to find
const stallTimer = setInterval(() => {
  if (startedAt !== null && lastIterationAt > 0 && performance.now() - lastIterationAt > 20_000) {
    say('log', { level: 'warn', message: `stalled: ${JSON.stringify(trainer.pool.status())}`, at: since() });
    lastIterationAt = performance.now();
  }
}, 5000);
stallTimer.unref();
const r = await trainer.run();
clearInterval(stallTimer);
say('done', {
  seconds: since(),
  joinedAt,
  startedAt,
  evalSeconds: evalMs / 1000,
  iterations: r.position.iteration,
  testAccuracy: r.testAccuracy,
  reachedTargetAt: reached,
  parameters: r.weights.length,
  hostWorker: o.hostWorker !== false,
  // the cgroup this process (and so its worker thread) runs in, as the kernel says: the host quota's
  cgroup: cpuCgroup(),
  // the whole coordinator process (room, trainer and its worker thread) since the opening
  cpuMs: ((c) => (c.user + c.system) / 1000)(process.cpuUsage(cpu0)),
});
host.close();
await trainer.close();
await server.close();
process.exit(0);
