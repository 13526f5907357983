// Goodput of the framed channel (protocol messages: msgpackr encode, 256 KiB frames, backpressure,
// reassembly, decode and validation) against raw data-channel sends of the same bytes, between two
// Chromium tabs over a real WebRTC data channel set up through the room server. 5 weights
// messages of 1M floats (4 MB each) a round; rounds alternate raw and framed; medians.
// Needs `npm run build` and Chromium.
import { join } from 'node:path';
import { build } from 'esbuild';
import { RoomServer } from '../packages/coordinator/dist/index.js';
import { launchChromium } from '../scripts/chromium.mjs';
import { report } from './lib.mjs';

const here = import.meta.dirname;
const out = join(here, 'out', 'room-page');
await build({
  entryPoints: { 'room-page': join(here, 'room-page.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  logLevel: 'warning',
});
const { writeFileSync } = await import('node:fs');
writeFileSync(
  join(out, 'room-page.html'),
  '<!doctype html><meta charset="utf-8"><script type="module" src="room-page.js"></script>',
);

const server = await RoomServer.start({ port: 0, dist: out, log: () => {} });
const room = server.createRoom();
const browser = await launchChromium();
const q = (role) =>
  `${server.url}/room-page.html?role=${role}&ws=${encodeURIComponent(server.wsUrl)}&token=${room.token}&hostKey=${room.hostKey}`;
const host = await browser.newPage();
await host.goto(q('host'));
await host.waitForFunction(() => 'bench' in window);
const peer = await browser.newPage();
await peer.goto(q('peer'));
await Promise.all([host, peer].map((p) => p.evaluate(() => window.bench)));

const N = 5;
const FLOATS = 1 << 20;
const framed = async () => {
  await host.evaluate((n) => window.bench.then((b) => b.expectFramed(n)), N);
  return peer.evaluate(([n, f]) => window.bench.then((b) => b.sendFramed(n, f)), [N, FLOATS]);
};
const raw = async (bytes) => {
  await host.evaluate((t) => window.bench.then((b) => b.expectRaw(t)), bytes);
  return peer.evaluate((t) => window.bench.then((b) => b.sendRaw(t)), bytes);
};

// warm up both paths (SCTP slow start, JIT)
const first = await framed();
await raw(first.bytes);
const rawMs = [];
const framedMs = [];
for (let round = 0; round < 5; round++) {
  framedMs.push((await framed()).ms);
  rawMs.push(await raw(first.bytes));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = first.bytes / 1e6;
const rawRate = mb / (median(rawMs) / 1000);
const framedRate = mb / (median(framedMs) / 1000);
report(
  'room-goodput',
  [
    {
      name: `framed channel goodput, ${N} x 4 MB weights messages, two Chromium tabs`,
      value: framedRate,
      unit: 'MB/s',
      baseline: rawRate,
      ratio: framedRate / rawRate,
      target: '>= 0.8',
      note: `raw: the same ${first.bytes} bytes as ${262144}-byte data-channel sends with the same backpressure; framing overhead ${(first.framedBytes / first.bytes - 1) * 100}%`,
    },
  ],
  { rawMs, framedMs, bytes: first.bytes },
);
await browser.close();
await server.close();
