// The page's own data, a trainer, two Web Workers. Bundle with build.mjs (or any bundler).
import { spawnWebWorker, Trainer } from '@gradroom/coordinator/browser';
import { arraysDataset } from '@gradroom/worker/data';

/** n points in [-1, 1]^2, labelled 1 inside the circle of radius 0.6, else 0 (seeded, repeatable). */
function points(n, seed) {
  const x = new Float32Array(2 * n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const a = (seed / 2 ** 32) * 2 - 1;
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const b = (seed / 2 ** 32) * 2 - 1;
    x.set([a, b], 2 * i);
    y[i] = a * a + b * b < 0.36 ? 1 : 0;
  }
  return { x, y };
}

const log = (line) => document.querySelector('#log').append(`${line}\n`);
const backend = new URLSearchParams(location.search).get('backend'); // e.g. ?backend=wasm
const trainer = new Trainer(
  {
    model: { kind: 'mlp', inputShape: [2], hidden: [16], classes: 2 },
    dataset: arraysDataset({ inputShape: [2], classes: 2, train: points(800, 1), test: points(200, 2) }),
    optimizer: { kind: 'adam', lr: 0.03 },
    batchSize: 32,
    epochs: 8,
    seed: 1,
  },
  { wasmPaths: new URL('./dist/wasm/', location.href).href, ...(backend ? { backends: backend.split(',') } : {}) },
);
trainer.on('epoch', (e) => log(`epoch ${e.epoch + 1}: test accuracy ${(100 * e.testAccuracy).toFixed(1)}%`));
try {
  const worker = () => trainer.addWorker(spawnWebWorker(new URL('./dist/worker.js', location.href)));
  const members = await Promise.all([worker(), worker()]);
  log(`workers on ${members.map((m) => m.info?.backend).join(', ')}`);
  const result = await trainer.run();
  log(`done: ${result.position.iteration} iterations, test accuracy ${(100 * result.testAccuracy).toFixed(1)}%`);
  window.result = { ...result, weights: undefined, backends: members.map((m) => m.info?.backend) };
  document.title = 'done';
} catch (e) {
  log(`failed: ${e.message}`);
  document.title = 'failed';
} finally {
  await trainer.close();
}
