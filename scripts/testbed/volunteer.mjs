#!/usr/bin/env node
// One testbed volunteer: a Node process that joins the room over real WebRTC (simple-peer +
// @roamhq/wrtc) and computes with an in-process ShardWorker (tfjs, wasm backend). The testbed starts
// it inside the volunteer's own network namespace and cgroup.
// Usage: node volunteer.mjs '{"url":"ws://10.213.0.1:port/ws","token":"...","name":"v0"}'
import { nodeRtc } from '../../packages/coordinator/dist/room/node.js';
import { ShardWorker } from '../../packages/worker/dist/index.js';
import { readPackedFile } from '../../packages/worker/dist/node-thread.js';
import { joinRoom } from '../../packages/worker/dist/peer/index.js';

const o = JSON.parse(process.argv[2] ?? '{}');
const say = (line) => console.log(`TBV ${o.name} ${line}`);
try {
  const v = await joinRoom({
    ...nodeRtc(),
    url: o.url,
    token: o.token,
    name: o.name,
    engine: new ShardWorker(readPackedFile),
    backends: [o.backend ?? 'wasm'],
    relay: 'auto',
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
    log: () => {},
  });
  say(`connected via ${v.status.via}`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const reason = await v.done;
  // the CPU this volunteer got while in the room, against its quota: on a busy machine it can get less
  const cpu = process.cpuUsage(cpu0);
  say(`cpu ${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0 })}`);
  say(`done: ${reason} (examples ${v.status.examples}, shards ${v.status.shards})`);
  process.exit(0);
} catch (e) {
  say(`failed: ${e.message}`);
  process.exit(2);
}
