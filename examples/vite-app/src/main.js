// The page's own data, a trainer and two Web Workers, bundled by Vite (`vite` for dev, `vite build`).
import { spawnWebWorker, Trainer } from '@gradroom/coordinator/browser';
import { arraysDataset } from '@gradroom/worker/data';

/** Two interleaved spirals (one per class), n points, seeded so every run sees the same data. */
function spirals(n, seed) {
  const x = new Float32Array(2 * n);
  const y = new Uint8Array(n);
  const next = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const t = 0.25 + next() * 1.75; // radius and angle grow together: one turn a spiral
    const a = t * Math.PI + c * Math.PI;
    x.set([t * Math.cos(a) + (next() - 0.5) * 0.1, t * Math.sin(a) + (next() - 0.5) * 0.1], 2 * i);
    y[i] = c;
  }
  return { x, y };
}

const log = (line) => document.querySelector('#log').append(`${line}\n`);
const backend = new URLSearchParams(location.search).get('backend'); // e.g. ?backend=wasm
const trainer = new Trainer(
  {
    model: { kind: 'mlp', inputShape: [2], hidden: [32, 32], classes: 2 },
    dataset: arraysDataset({ inputShape: [2], classes: 2, train: spirals(800, 1), test: spirals(400, 2) }),
    optimizer: { kind: 'adam', lr: 0.02 },
    batchSize: 32,
    epochs: 20,
    seed: 1,
  },
  // vite.config.js serves and emits tfjs's .wasm files under /wasm/
  { wasmPaths: new URL('/wasm/', location.href).href, ...(backend ? { backends: backend.split(',') } : {}) },
);
trainer.on('epoch', (e) => log(`epoch ${e.epoch + 1}: test accuracy ${(100 * e.test.metric).toFixed(1)}%`));
try {
  // Vite (like webpack) bundles a worker it sees as `new Worker(new URL(..., import.meta.url), { type: 'module' })`
  const worker = () =>
    trainer.addWorker(spawnWebWorker(() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })));
  const members = await Promise.all([worker(), worker()]);
  log(`workers on ${members.map((m) => m.info?.backend).join(', ')}`);
  const result = await trainer.run();
  log(`done: ${result.position.iteration} iterations, test accuracy ${(100 * result.test.metric).toFixed(1)}%`);
  window.result = {
    ...result,
    weights: undefined,
    backends: members.map((m) => m.info?.backend),
    isolated: crossOriginIsolated,
  };
  document.title = 'done';
} catch (e) {
  log(`failed: ${e.message}`);
  document.title = 'failed';
} finally {
  await trainer.close();
}
