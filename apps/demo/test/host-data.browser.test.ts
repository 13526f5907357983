/**
 * The host page's data set choice: a lone teacher picks Fashion-MNIST, the form's advice and
 * iteration count follow its 12,000 training images, and "this tab trains too" trains it with two
 * Web Workers that fetch the demo's fashion-mnist-small.bin.
 */
import { describe, expect, it, onTestFailed } from 'vitest';
import { collectErrors, roomAndBrowser, whyNoBrowser } from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

describe.skipIf(skip)('host page: Fashion-MNIST', () => {
  const fx = roomAndBrowser();

  it('the form follows the chosen data set, and local Web Workers train on it', { timeout: 90_000 }, async () => {
    const page = await fx.browser.newPage();
    const errors = collectErrors(page);
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    onTestFailed(() => console.error(logs.slice(-40).join('\n')));
    await page.goto(`${fx.server.url}/host.html?backend=wasm`);
    await page.waitForFunction(() => window.__host !== undefined);
    expect(await page.textContent('#batch-advice')).toMatch(/7,996 training examples/);
    await page.selectOption('#dataset', 'fashion-mnist-small');
    expect(await page.textContent('#batch-advice')).toMatch(/12,000 training examples/);
    await page.selectOption('#batch-size', '512');
    expect(await page.textContent('#per-epoch')).toBe('24 iterations per epoch');
    await page.check('#local-workers');
    await page.fill('#local-count', '2');
    await page.fill('#epochs', '1');
    await page.click('#start');
    await page.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 80_000 });
    expect(await page.evaluate(() => window.__host?.iteration())).toBe(24);
    expect(await page.textContent('#count-steps')).toBe((12000).toLocaleString('en'));
    // one epoch of the MLP on clothes: well above chance (10 %)
    const accuracy = await page.evaluate(() => window.__host?.accuracy());
    expect(accuracy?.[1][0]).toBeGreaterThan(0.6);
    expect(errors).toEqual([]);
  });
});
