#!/usr/bin/env node
// The testbed's coordinator: the room server, a room hosted from Node (hostRoom) and the Trainer, in
// the coordinator's network namespace. It reports on stdout, one `TBC <kind> <json>` line each:
//   ready      {wsUrl, token}            once the room is open (the testbed then starts volunteers)
//   peers      {accepted, via}           once every expected volunteer is in
//   iteration  {...event, link}          after each iteration, with the bytes the kernel counted on
//                                        this namespace's eth0 since the previous iteration
//   epoch      {...event, seconds}       after each epoch's evaluation
//   done       {...}                     at the end
// Usage (inside the namespace): node coordinator.mjs '{"host":"10.213.0.1","volunteers":2,"job":{...}}'
import { readFileSync } from 'node:fs';
import { Trainer } from '../../packages/coordinator/dist/index.js';
import { hostRoom } from '../../packages/coordinator/dist/room/node.js';
import { RoomServer } from '../../packages/coordinator/dist/room/server.js';

const o = JSON.parse(process.argv[2] ?? '{}');
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

// the demo's pages are served only when a Chromium tab volunteers (o.dist)
const server = await RoomServer.start({ host: o.host ?? '127.0.0.1', port: 0, dist: o.dist, log: () => {} });
const room = server.createRoom();
const trainer = new Trainer(o.job, { waitForWorkers: true, backends: ['wasm'], planning: o.planning ?? 'cost' });
const via = {};
let accepted = 0;
const host = await hostRoom({ url: server.wsUrl, token: room.token, hostKey: room.hostKey, trainer, log: () => {} });
host.on('peer', (e) => {
  if (e.type === 'accepted') {
    accepted++;
    via[e.name ?? e.id] = e.via;
  }
  if (e.type === 'rejected' || e.type === 'left') say('peer', { type: e.type, name: e.name, reason: e.reason });
});
say('ready', { wsUrl: server.wsUrl, url: server.url, token: room.token });

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
say('peers', { accepted, via });

let t0 = 0;
let cpu0 = process.cpuUsage();
let reached = null;
let last = link();
trainer.on('state', (s) => {
  if (s.state === 'running' && t0 === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
});
trainer.on('iteration', (e) => {
  const now = link();
  say('iteration', {
    iteration: e.iteration,
    epoch: e.epoch,
    examples: e.examples,
    loss: e.loss,
    examplesPerSec: e.examplesPerSec,
    timing: e.timing,
    bytes: e.bytes,
    fastestAloneExamplesPerSec: e.fastestAloneExamplesPerSec,
    link: {
      rx: now.rx - last.rx,
      tx: now.tx - last.tx,
      rxPackets: now.rxPackets - last.rxPackets,
      txPackets: now.txPackets - last.txPackets,
    },
    at: (performance.now() - t0) / 1000,
    workers: e.workers.map((w) => ({
      name: w.name ?? w.id,
      speed: w.speed,
      share: w.share,
      status: w.status,
      fixedMs: w.fixedMs,
      standby: w.standby,
    })),
  });
  last = now;
});
trainer.on('epoch', (e) => {
  const at = (performance.now() - t0) / 1000;
  say('epoch', { epoch: e.epoch, iteration: e.iteration, testAccuracy: e.testAccuracy, testLoss: e.testLoss, at });
  if (reached === null && o.targetAccuracy && e.testAccuracy >= o.targetAccuracy) {
    reached = at;
    if (o.stopAtTarget) trainer.stop();
  }
  last = link(); // evaluation traffic is not an iteration's
});
const r = await trainer.run();
say('done', {
  seconds: (performance.now() - t0) / 1000,
  iterations: r.position.iteration,
  testAccuracy: r.testAccuracy,
  reachedTargetAt: reached,
  parameters: r.weights.length,
  cpuMs: ((c) => (c.user + c.system) / 1000)(process.cpuUsage(cpu0)),
});
host.close();
await trainer.close();
await server.close();
process.exit(0);
