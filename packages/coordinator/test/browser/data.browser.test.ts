/**
 * Bring your own data in a browser: a Chromium page trains with real module Web Workers (the demo's
 * dist/worker.js) on arrays it made itself, and on a packed file the workers fetch by URL and check
 * against its SHA-256; the weights equal the serial loop's computed here in Node. A fetched file
 * lands in Cache Storage, so fetching it again downloads nothing; a wrong hash is refused.
 *
 * Needs `npm run build` (the demo's dist) and Chromium; GRADROOM_SKIP_BROWSER=1 skips these tests.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePacked, encodePacked } from '@gradroom/worker/data';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { staticFiles } from '../../src/server/static.js';
import { relativeDifference, serialTrain } from '../reference/serial.js';
import {
  bundlePage,
  DEMO_DIST,
  hasChromium,
  hasDemoBuild,
  launchChromium,
  openPage,
  removeBundle,
} from './chromium.js';
import { DATA_F, regressionArrays } from './pages/data-formula.js';
import type { DataRun } from './pages/data-page.js';

const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
const ITERATIONS = 10;
const adam = { lr: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

const reference = (x: Float32Array, y: Float32Array) =>
  serialTrain(
    {
      hidden: [8],
      inputFeatures: DATA_F,
      classes: 2,
      loss: 'mean-squared-error',
      batchSize: 32,
      seed: 7,
      iterations: ITERATIONS,
      adam,
    },
    { name: 'ref', size: y.length / 2, inputShape: [DATA_F], features: DATA_F, classes: 0, targets: 2, x, y },
  );

describe.skipIf(skip)('your own data in a Chromium page with Web Workers', () => {
  let bundle: string;
  let server: Server;
  let origin = '';
  let browser: Browser;
  let page: Page;
  let logs: string[] = [];
  let hits = 0;
  const file = encodePacked({
    inputShape: [DATA_F],
    classes: 0,
    targets: 2,
    train: regressionArrays(120, 5),
    test: regressionArrays(30, 77),
  });
  const sha256 = createHash('sha256').update(file).digest('hex');

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error('Chromium is missing: run node scripts/bootstrap.mjs --browser (or set GRADROOM_CHROMIUM)');
    if (!hasDemoBuild()) throw new Error('apps/demo/dist is missing: run npm run build');
    await tf.setBackend('cpu');
    bundle = await bundlePage(`${import.meta.dirname}/pages/data-page.ts`);
    const roots = [staticFiles(bundle), staticFiles(DEMO_DIST)];
    server = createServer(async (req, res) => {
      if (req.url === '/mine/data.bin') {
        hits++;
        res
          .writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cross-Origin-Resource-Policy': 'same-origin' })
          .end(file);
        return;
      }
      for (const h of roots) if (await h(req, res)) return;
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    ({ page, logs } = await openPage(browser, `${origin}/data-page.html`));
    await page.waitForFunction(() => document.title === 'ready');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    if (bundle) await removeBundle(bundle);
  });

  const train = (r: DataRun) =>
    page.evaluate(
      (run) =>
        (
          window as unknown as {
            gradroom: { train(r: DataRun): Promise<{ weights: number[]; backends: string[]; iteration: number }> };
          }
        ).gradroom.train(run),
      r,
    );

  it('arrays made in the page: 2 Web Workers match the serial loop', async () => {
    onTestFailed(() => console.log(logs.join('\n')));
    const r = await train({ data: { kind: 'arrays', n: 150 }, iterations: ITERATIONS, workers: 2 });
    expect(r.backends).toEqual(['wasm', 'wasm']);
    expect(r.iteration).toBe(ITERATIONS);
    const { x, y } = regressionArrays(150);
    expect(relativeDifference(Float32Array.from(r.weights), await reference(x, y))).toBeLessThanOrEqual(1e-5);
  }, 120_000);

  it('a packed file by URL: the Web Workers fetch and check it, and match the serial loop', async () => {
    onTestFailed(() => console.log(logs.join('\n')));
    const r = await train({ data: { kind: 'url', url: '/mine/data.bin', sha256 }, iterations: ITERATIONS, workers: 2 });
    const ds = decodePacked(file, 'train');
    expect(
      relativeDifference(Float32Array.from(r.weights), await reference(ds.x, ds.y as Float32Array)),
    ).toBeLessThanOrEqual(1e-5);
    // the first worker downloaded it; the second found it in Cache Storage (same origin, same hash)
    expect(hits).toBeGreaterThanOrEqual(1);
    expect(hits).toBeLessThanOrEqual(2);
  }, 120_000);

  it('Cache Storage keeps the checked file: fetching it again downloads nothing', async () => {
    const before = hits;
    const r = await page.evaluate(
      ([u, h]) =>
        (
          window as unknown as {
            gradroom: { cache(u: string, h: string): Promise<{ bytes: number[]; cachedKeys: string[] }> };
          }
        ).gradroom.cache(u, h),
      ['/mine/data.bin', sha256] as const,
    );
    expect(r.bytes).toEqual([file.length, file.length]);
    expect(r.cachedKeys).toContain(`${origin}/mine/data.bin#sha256=${sha256}`);
    expect(hits).toBe(before);
  });

  it('a wrong hash is refused in the browser too', async () => {
    const wrong = `${sha256.slice(0, 60)}0000`;
    const message = await page.evaluate(
      ([u, h]) =>
        (window as unknown as { gradroom: { refuse(u: string, h: string): Promise<string> } }).gradroom.refuse(u, h),
      ['/mine/data.bin', wrong] as const,
    );
    expect(message).toBe(
      `the data set ${origin}/mine/data.bin has SHA-256 ${sha256}, the task says ${wrong}: refusing to train on it`,
    );
  });
});
