// Memory over a long exact-mode run whose peers receive their shards' examples (shardExamples): two
// thread workers presented as peers, the chunked MNIST served on loopback and held by the
// coordinator (shardExamplesFrom); heap after GC and RSS every 500 iterations.
// node --expose-gc bench/memory-shard-examples.bench.mjs [iterations, default 3000] (about 2 min)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { shardExamplesFrom } from '../packages/worker/dist/local-data.js';
import { memoryEntries, report, sampleMemory } from './lib.mjs';

const dist = join(import.meta.dirname, '..', 'packages', 'worker', 'dist');
const dir = join(dist, 'chunks', 'mnist');
const server = createServer((req, res) => {
  try {
    const body = readFileSync(join(dir, (req.url ?? '').replace(/^\/chunks\/mnist\//, '')));
    res.writeHead(200, { 'content-length': body.length }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const spec = { ...JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')), url: `${base}chunks/mnist/manifest.json` };
const held = await shardExamplesFrom(spec, { url: base, dir: dist });
let carried = 0;
const iterations = Number(process.argv[2] ?? 3000);
const t = new Trainer(
  {
    model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [16], classes: 10 },
    dataset: spec,
    optimizer: { kind: 'sgd', lr: 0.05 },
    batchSize: 64,
    epochs: 1000,
    seed: 1,
    maxIterations: iterations,
    evaluate: false,
  },
  {
    backends: ['wasm'],
    planning: 'all',
    shardExamples: (ix) => {
      carried++;
      return held(ix);
    },
  },
);
const peer = (w) => ({ ...w, kind: 'peer' });
await Promise.all([t.addWorker(peer(spawnThreadWorker())), t.addWorker(peer(spawnThreadWorker()))]);
const samples = sampleMemory(t, () => ({ carried }));
await t.run();
await t.close();
server.close();
const [first, last] = [samples[0], samples.at(-1)];
report(
  'memory-shard-examples',
  memoryEntries(first, last, (x) => `${x.iteration} iterations`, `, ${last.carried} shards carrying their examples`),
);
