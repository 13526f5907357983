// Memory over a long exact-mode room whose floats travel packed: a room server, a Node host
// (hostRoom + Trainer) and two volunteer processes over real WebRTC (the room tests' peer.mjs), every
// weights version sent as a change and every gradient sum packed. Heap after GC and RSS of the host,
// and each volunteer's RSS, every 500 iterations: the snapshot's base, the per-version encodings and
// the volunteer's held copy must not pile up.
// node --expose-gc bench/memory-packed.bench.mjs [iterations, default 3000] (about 2 min)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Trainer } from '../packages/coordinator/dist/index.js';
import { hostRoom } from '../packages/coordinator/dist/room/node.js';
import { RoomServer } from '../packages/coordinator/dist/room/server.js';
import { memoryEntries, report, sampleMemory } from './lib.mjs';

const iterations = Number(process.argv[2] ?? 3000);
const server = await RoomServer.start({ port: 0, log: () => {} });
const room = server.createRoom();
const trainer = new Trainer(
  {
    model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [32], classes: 10 },
    dataset: { kind: 'mnist', split: 'train' },
    optimizer: { kind: 'adam', lr: 0.002 },
    batchSize: 64,
    epochs: 1000,
    seed: 1,
    maxIterations: iterations,
    evaluate: false,
  },
  { waitForWorkers: true, planning: 'all' },
);
let changes = 0;
let packedSums = 0;
const host = await hostRoom({
  url: server.wsUrl,
  token: room.token,
  hostKey: room.hostKey,
  trainer,
  log: () => {},
  tap: (_, m) => {
    if (m.type === 'result' && m.gradPacked) packedSums++;
  },
  wrapHandle: (h) => ({
    ...h,
    closed: h.closed,
    setWeights: async (s) => {
      const bytes = await h.setWeights(s);
      if (bytes !== undefined && bytes < s.weights.byteLength) changes++;
      return bytes;
    },
  }),
});
const peerScript = join(import.meta.dirname, '..', 'packages', 'coordinator', 'test', 'room', 'peer.mjs');
const peers = ['a', 'b'].map((name) =>
  spawn(process.execPath, [peerScript, JSON.stringify({ url: server.wsUrl, token: room.token, name })], {
    stdio: 'ignore',
  }),
);
const rssOf = (pid) => {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? +(Number(kb) / 1000).toFixed(1) : Number.NaN;
  } catch {
    return Number.NaN;
  }
};
const samples = sampleMemory(trainer, () => ({ peersRssMB: peers.map((p) => rssOf(p.pid)), changes, packedSums }));
await trainer.run();
host.close();
await trainer.close();
for (const p of peers) p.kill();
await server.close();
const [first, last] = [samples[0], samples.at(-1)];
const peerEntries = [0, 1].map((k) => ({
  name: `volunteer ${k + 1}'s RSS after ${last.iteration} iterations (baseline: after ${first.iteration})`,
  value: last.peersRssMB[k],
  baseline: first.peersRssMB[k],
  unit: 'MB',
  ratio: last.peersRssMB[k] / first.peersRssMB[k],
}));
report('memory-packed', [
  ...memoryEntries(
    first,
    last,
    (x) => `${x.iteration} iterations`,
    `, ${last.changes} weights changes and ${last.packedSums} packed sums sent`,
  ),
  ...peerEntries,
]);
