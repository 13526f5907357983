/**
 * The training contract in a browser: the Trainer runs in a Chromium page with real module Web
 * Workers (apps/demo/dist/worker.js) on WebGPU (SwiftShader) and on wasm, and its weights after 20
 * iterations equal the serial loop's computed here in Node (relative difference <= 1e-5), also with
 * a worker terminated mid-iteration and across a stop/resume through IndexedDB with a page reload.
 * One run trains on the real MNIST file the demo serves.
 *
 * Needs `npm run build` (the demo's dist) and Chromium (`node scripts/bootstrap.mjs --browser`);
 * set GRADROOM_SKIP_BROWSER=1 to skip these tests on a machine without them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMnist } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { JobConfig } from '../../src/job.js';
import { exactJob, exactReference } from '../fixtures.js';
import { relativeDifference, serialTrain } from '../reference/serial.js';
import {
  bundlePage,
  DEMO_DIST,
  hasChromium,
  hasDemoBuild,
  launchChromium,
  openPage,
  removeBundle,
  type Served,
  screenshot,
  serve,
} from './chromium.js';
import type { EngineResult, EngineRun } from './pages/engine-page.js';

const job = exactJob;

// real MNIST (the demo's dist/data/mnist.bin), a few iterations, then the test-split evaluation
const mnistAdam = { lr: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const mnistJob: JobConfig = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [32], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  optimizer: { kind: 'adam', ...mnistAdam },
  batchSize: 64,
  epochs: 1,
  seed: 3,
  maxIterations: 6,
};

const skip = process.env.GRADROOM_SKIP_BROWSER === '1';

describe.skipIf(skip)('exact mini-batch SGD with the trainer in a Chromium page and Web Workers', () => {
  let reference: Float32Array;
  let bundle: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let logs: string[] = [];

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error('Chromium is missing: run node scripts/bootstrap.mjs --browser (or set GRADROOM_CHROMIUM)');
    if (!hasDemoBuild()) throw new Error('apps/demo/dist is not built: run npm run build');
    await tf.setBackend('cpu');
    [reference, bundle, browser] = await Promise.all([
      exactReference(),
      bundlePage(join(import.meta.dirname, 'pages', 'engine-page.ts')),
      launchChromium(),
    ]);
    server = await serve([bundle, DEMO_DIST]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) await removeBundle(bundle);
  });

  async function newPage(): Promise<Page> {
    ({ page, logs } = await openPage(browser, server.url('/engine-page.html')));
    await page.waitForFunction(() => 'gradroom' in window);
    onTestFailed(() => console.error(`page log:\n${logs.join('\n')}`));
    return page;
  }

  afterEach(async (ctx) => {
    if (page && !page.isClosed()) {
      await screenshot(page, `engine-${ctx.task.name.slice(0, 60)}`).catch(() => {});
      await page.close();
    }
  });

  const runIn = (p: Page, r: EngineRun): Promise<EngineResult> => p.evaluate((arg) => window.gradroom.run(arg), r);
  const weights = (r: EngineResult) => Float32Array.from(r.weights);
  const diff = (r: EngineResult, ref: Float32Array) => {
    const d = relativeDifference(weights(r), ref);
    if (process.env.GRADROOM_DEBUG)
      console.log(`relative difference ${d.toExponential(2)}, page run ${r.ms.toFixed(0)} ms`);
    return d;
  };

  it('webgpu (SwiftShader): 2 workers match the serial loop', { timeout: 90_000 }, async () => {
    const r = await runIn(await newPage(), { job, workers: 2, backends: ['webgpu'] });
    expect(r.backends).toEqual(['webgpu', 'webgpu']);
    expect(r.iteration).toBe(20);
    expect(diff(r, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('wasm: 1 worker, and 2 workers split unevenly (one is slower), match the serial loop', async () => {
    const p = await newPage();
    const one = await runIn(p, { job, workers: 1, backends: ['wasm'] });
    expect(one.iteration).toBe(20);
    expect(diff(one, reference)).toBeLessThanOrEqual(1e-5);
    const uneven = await runIn(p, { job, workers: 2, backends: ['wasm'], slow: { worker: 1, msPerExample: 0.5 } });
    // once both speeds are measured, the slower worker gets the smaller shard, but still a shard
    const later = uneven.shares.slice(5);
    const mean = (k: number) => later.reduce((a, s) => a + s[k], 0) / later.length;
    expect(mean(1)).toBeLessThan(mean(0));
    expect(later.some((s) => s[1] > 0)).toBe(true);
    expect(diff(uneven, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('wasm: 3 workers, one terminated mid-iteration, match the serial loop', async () => {
    const r = await runIn(await newPage(), { job, workers: 3, backends: ['wasm'], kill: { worker: 1, call: 7 } });
    expect(r.backends).toEqual(['wasm', 'wasm', 'wasm']);
    expect(r.killed).toBe(true);
    expect(r.replanned).toBeGreaterThanOrEqual(1);
    expect(r.membersLeft).toBe(2);
    expect(r.iteration).toBe(20);
    expect(diff(r, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('stop, page reload and resume through IndexedDbCheckpointStore continue exactly', async () => {
    const p = await newPage();
    const key = `resume-${Date.now()}`;
    const first = await runIn(p, { job, workers: 2, backends: ['wasm'], stopAt: 8, checkpointKey: key });
    expect(first.stopped).toBe(true);
    expect(first.iteration).toBe(8);
    expect(first.checkpointBytes).toBeGreaterThan(0);
    // the comparison has teeth: 8 iterations are far from 20
    expect(relativeDifference(weights(first), reference)).toBeGreaterThan(1e-3);
    // a fresh JavaScript context: only IndexedDB carries the run over
    await p.reload();
    await p.waitForFunction(() => 'gradroom' in window);
    const second = await runIn(p, { job, workers: 3, backends: ['wasm'], checkpointKey: key, resume: true });
    expect(second.stopped).toBe(false);
    expect(second.iteration).toBe(20);
    expect(diff(second, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('real MNIST from the served mnist.bin: 2 wasm workers match the serial loop, then evaluate', async () => {
    const train = parseMnist(new Uint8Array(await readFile(join(DEMO_DIST, 'data', 'mnist.bin'))), 'train');
    const ref = await serialTrain(
      { hidden: [32], inputFeatures: 784, classes: 10, batchSize: 64, seed: 3, iterations: 6, adam: mnistAdam },
      train,
    );
    const r = await runIn(await newPage(), { job: mnistJob, workers: 2, backends: ['wasm'] });
    expect(r.iteration).toBe(6);
    expect(diff(r, ref)).toBeLessThanOrEqual(1e-5);
    // evaluated on the 2,003 test digits after 6 iterations: better than chance (0.1)
    expect(r.testAccuracy).toBeGreaterThan(0.2);
    expect(r.testAccuracy).toBeLessThanOrEqual(1);
  });

  it('a Web Worker whose script fails to load closes its handle and rejects its calls', async () => {
    const p = await newPage();
    const r = await p.evaluate(() => window.gradroom.broken('/no-such-worker.js'));
    expect(r.closed).toMatch(/web worker failed/);
    expect(r.error).toMatch(/^WorkerGoneError: worker web-worker-\d+ is gone: web worker failed/);
  });
});
