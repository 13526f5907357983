/**
 * Test page for data.browser.test.ts: bring-your-own data in a browser. Trains with the Trainer and
 * real module Web Workers (the demo's dist/worker.js) on arrays made in this page, or on a packed
 * file the workers fetch by URL; and checks that a fetched data set lands in Cache Storage.
 */
import { arraysDataset, fetchVerified } from '@gradroom/worker/data';
import type { JobConfig } from '../../../src/browser.js';
import { spawnWebWorker, Trainer } from '../../../src/browser.js';
import { DATA_F, regressionArrays } from './data-formula.js';

export interface DataRun {
  data: { kind: 'arrays'; n: number } | { kind: 'url'; url: string; sha256: string };
  iterations: number;
  workers: number;
}

async function train(r: DataRun): Promise<{ weights: number[]; backends: string[]; iteration: number }> {
  const dataset =
    r.data.kind === 'arrays'
      ? arraysDataset({
          name: 'page',
          inputShape: [DATA_F],
          targets: 2,
          train: regressionArrays(r.data.n),
          test: regressionArrays(20, 999),
        })
      : { kind: 'url' as const, url: r.data.url, sha256: r.data.sha256, split: 'train' as const };
  const job: JobConfig = {
    model: { kind: 'mlp', inputShape: [DATA_F], hidden: [8], classes: 2, loss: 'mean-squared-error' },
    dataset,
    optimizer: { kind: 'adam', lr: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    batchSize: 32,
    epochs: 10,
    seed: 7,
    maxIterations: r.iterations,
    evaluate: false,
  };
  const trainer = new Trainer(job, {
    backends: ['wasm'],
    wasmPaths: new URL('/wasm/', location.href).href,
    planning: 'all',
  });
  try {
    const joins = Array.from({ length: r.workers }, () =>
      trainer.addWorker(spawnWebWorker(new URL('/worker.js?data=/data/', location.href))),
    );
    const members = await Promise.all(joins);
    const result = await trainer.run();
    return {
      weights: Array.from(result.weights),
      backends: members.map((m) => m.info?.backend ?? 'none'),
      iteration: result.position.iteration,
    };
  } finally {
    await trainer.close();
  }
}

/** Fetches twice; reports what Cache Storage holds afterwards. */
async function cache(url: string, sha256: string): Promise<{ bytes: number[]; cachedKeys: string[] }> {
  const a = await fetchVerified(url, sha256);
  const b = await fetchVerified(url, sha256);
  const keys = await (await caches.open('gradroom-data-v1')).keys();
  return { bytes: [a.byteLength, b.byteLength], cachedKeys: keys.map((k) => k.url) };
}

async function refuse(url: string, sha256: string): Promise<string> {
  try {
    await fetchVerified(url, sha256);
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

(window as unknown as { gradroom: object }).gradroom = { train, cache, refuse };
document.title = 'ready';
