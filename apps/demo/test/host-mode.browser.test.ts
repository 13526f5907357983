/**
 * The host page's mode chooser (issue 9): a teacher picks "Local steps", the page explains the trade
 * in the lecture's words, and the run takes rounds of H inner steps with int8 updates on two of the
 * tab's own Web Workers: every mini-batch of the epoch is counted, and it learns. Then "Download
 * model" gives a tfjs layers model that plain tfjs loads and that scores as the run reported.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, onTestFailed } from 'vitest';
import { collectErrors, roomAndBrowser, whyNoBrowser } from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

describe.skipIf(skip)('host page: training modes', () => {
  const fx = roomAndBrowser();

  it('local steps with int8 updates: explained, then trained in rounds on local Web Workers', {
    timeout: 90_000,
  }, async () => {
    const page = await fx.browser.newPage();
    const errors = collectErrors(page);
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    onTestFailed(() => console.error(logs.slice(-40).join('\n')));
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(`${fx.server.url}/host.html?backend=wasm`);
    await page.waitForFunction(() => window.__host !== undefined);
    expect(await page.textContent('#mode-explain')).toMatch(/exactly the plain loop of the lecture/);
    expect(await page.isVisible('#local-steps')).toBe(false);
    await page.selectOption('#mode', 'local');
    expect(await page.isVisible('#local-steps')).toBe(true);
    await page.fill('#local-steps', '4');
    expect(await page.textContent('#mode-explain')).toMatch(
      /takes 4 steps on its own .* steps to their mean\. The first 160 mini-batches run as ordinary mini-batch steps .* no longer exactly those of the plain loop/,
    );
    // this test is about the rounds: no warm start, and the words follow
    await page.fill('#warm-start', '0');
    expect(await page.textContent('#mode-explain')).toMatch(
      /Without a warm start the room steps 1\.5 times along the mean .* square root of the number of laptops/,
    );
    await page.fill('#local-steps', '8');
    expect(await page.textContent('#mode-explain')).toMatch(/steps 1\.2 times along the mean/);
    await page.fill('#local-steps', '4');
    await page.selectOption('#compress', 'int8');
    await page.check('#local-workers');
    await page.fill('#local-count', '2');
    await page.fill('#epochs', '1');
    await page.click('#start');
    await page.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 80_000 });
    // 7,996 digits in mini-batches of 64: 125 iterations, in rounds of 2 workers x 4
    expect(await page.evaluate(() => window.__host?.iteration())).toBe(125);
    expect(await page.textContent('#count-steps')).toBe((7996).toLocaleString('en'));
    // mode local on MNIST names the chunked MNIST (issue 18 §2): the tab's workers fetched chunks
    // and the manifest, never the whole file
    const chunks = requested.filter((p) => /^\/data\/chunks\/mnist\/train-\d\.bin$/.test(p));
    expect(chunks.length).toBeGreaterThan(0);
    expect(new Set(chunks).size).toBe(chunks.length); // each chunk once
    expect(requested).not.toContain('/data/mnist.bin');
    const accuracy = await page.evaluate(() => window.__host?.accuracy());
    expect(accuracy?.[1][0]).toBeGreaterThan(0.6);

    // Download model: model.json and its weights, which plain tfjs loads and which score as the run did
    const files = new Map<string, Buffer>();
    const got = new Promise<void>((resolve) => {
      page.on('download', async (d) => {
        files.set(d.suggestedFilename(), readFileSync(await d.path()));
        if (files.size === 2) resolve();
      });
    });
    await page.click('#export-model');
    await got;
    const json = JSON.parse((files.get('model.json') as Buffer).toString('utf8'));
    expect(json.weightsManifest[0].paths).toEqual(['./model.weights.bin']);
    const bin = files.get('model.weights.bin') as Buffer;
    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
    const test = await loadDataset({ kind: 'mnist', split: 'test' }, async (name) =>
      readFileSync(join(import.meta.dirname, '..', '..', '..', 'packages', 'worker', 'dist', name)),
    );
    const predicted = tf.tidy(() =>
      (model.predict(tf.tensor(test.x, [test.size, ...test.inputShape])) as tf.Tensor).argMax(1).dataSync(),
    );
    let correct = 0;
    for (let i = 0; i < test.size; i++) if (predicted[i] === test.y[i]) correct++;
    model.dispose();
    expect(Math.abs(correct / test.size - (accuracy?.[1][0] ?? 0))).toBeLessThanOrEqual(0.005);
    expect(errors).toEqual([]);
  });
});
