#!/usr/bin/env node
// One testbed volunteer: a Node process that joins the room over real WebRTC (simple-peer +
// @roamhq/wrtc) and computes with an in-process ShardWorker (tfjs, wasm backend). The testbed starts
// it inside the volunteer's own network namespace and cgroup. Like a tab, it fetches the data set
// from the room server over HTTP (`/datasets/NAME`), through its shaped link, and reports the bytes
// and seconds that took.
// Usage: node volunteer.mjs '{"url":"ws://10.213.0.1:port/ws","data":"http://10.213.0.1:port/datasets/","token":"...","name":"v0"}'
import { nodeRtc } from '../../packages/coordinator/dist/room/node.js';
import { ShardWorker } from '../../packages/worker/dist/index.js';
import { joinRoom } from '../../packages/worker/dist/peer/index.js';

const o = JSON.parse(process.argv[2] ?? '{}');
const say = (line) => console.log(`TBV ${o.name} ${line}`);

// every data set fetch (built-in files through the loader below, packed files by their URL), timed
const plainFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (!url.includes('/datasets/')) return plainFetch(input, init);
  const t0 = performance.now();
  const res = await plainFetch(input, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // a gzip body's Content-Length is what crossed the link; fetch hands on the decoded bytes
  const encoded = res.headers.get('content-encoding') !== null && res.headers.get('content-length') !== null;
  const wire = encoded ? Number(res.headers.get('content-length')) : bytes.byteLength;
  const ms = performance.now() - t0;
  // at: this process's clock, as the rounds' `at` below (a fetch before a round's start was made ahead)
  say(`data ${JSON.stringify({ url, bytes: bytes.byteLength, wire, ms, status: res.status, at: t0 })}`);
  return new Response(bytes, { status: res.status, headers: res.headers });
};
async function loadBytes(name) {
  const res = await fetch(new URL(name, o.data));
  if (!res.ok) throw new Error(`could not fetch the data set ${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

// each local round as this volunteer saw it: when it began and ended, its compute, and the CPU it
// got meanwhile (the gap between rounds is the result's trip, the host's step and the next task's)
const engine = new ShardWorker(loadBytes);
const rounds = [];
const trainLocal = engine.trainLocal.bind(engine);
engine.trainLocal = async (req) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await trainLocal(req);
  const c = process.cpuUsage(c0);
  if (rounds.length < 10_000)
    rounds.push({
      at: t0,
      // the machine's clock (ms since 1970), shared with the coordinator's evaluations
      wallAt: performance.timeOrigin + t0,
      ms: performance.now() - t0,
      computeMs: r.computeMs,
      cpuMs: (c.user + c.system) / 1000,
    });
  return r;
};

try {
  const v = await joinRoom({
    ...nodeRtc(),
    url: o.url,
    token: o.token,
    name: o.name,
    engine,
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
  say(`rounds ${JSON.stringify(rounds)}`);
  say(`done: ${reason} (examples ${v.status.examples}, shards ${v.status.shards})`);
  process.exit(0);
} catch (e) {
  say(`failed: ${e.message}`);
  process.exit(2);
}
