// Memory over a long mode-local run with steps by speed (3 threads, one slow and saying so), H = 4:
// heap after GC and RSS every 200 rounds. node --expose-gc bench/memory-steps-by-speed.bench.mjs (about 40 s)
import { Trainer } from '../packages/coordinator/dist/trainer.js';
import { spawnThreadWorker } from '../packages/coordinator/dist/transports/thread.js';
import { memoryEntries, report } from './lib.mjs';

const job = {
  model: { kind: 'mlp', inputShape: [20], hidden: [16], classes: 4 },
  dataset: { kind: 'synthetic', seed: 5, examples: 300, features: 20, classes: 4, split: 'train' },
  optimizer: { kind: 'sgd', lr: 0.05 },
  batchSize: 10,
  epochs: 400,
  seed: 11,
  evaluate: false,
  mode: { kind: 'local', steps: 4, warmup: 0, outer: { kind: 'sgd', lr: 1 }, balance: true },
};
const slow = (w, ms) => {
  const train = w.trainLocal;
  return {
    ...w,
    trainLocal: async (req) => {
      const r = await train(req);
      const extra = ms * req.batches.length;
      await new Promise((ok) => setTimeout(ok, extra));
      return { ...r, computeMs: r.computeMs + extra };
    },
  };
};
const t = new Trainer(job, { backends: ['wasm'] });
t.addWorker(spawnThreadWorker());
t.addWorker(spawnThreadWorker());
t.addWorker(slow(spawnThreadWorker(), 8));
let rounds = 0,
  short = 0;
const samples = [];
t.on('iteration', (e) => {
  rounds++;
  if (e.examples < 120) short++;
  if (rounds % 200 === 0) {
    global.gc();
    const m = process.memoryUsage();
    samples.push({
      rounds,
      iteration: e.iteration,
      heapMB: +(m.heapUsed / 1e6).toFixed(2),
      rssMB: +(m.rss / 1e6).toFixed(1),
    });
    console.log(JSON.stringify(samples.at(-1)));
  }
});
await t.run();
const first = samples[0];
const last = samples.at(-1);
report(
  'memory-steps-by-speed',
  memoryEntries(
    first,
    last,
    (x) => `${x.rounds} rounds`,
    `; ${short} of ${rounds} rounds had the slow member on fewer steps`,
  ),
);
await t.close();
