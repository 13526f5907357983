// "What the model learned" on the host page, in Chromium: after each epoch a panel of test digits
// with the model's answers (wrong ones marked), a drawn digit classified with the current weights,
// and at the end the confusion matrix over the test split, whose diagonal gives the trainer's own
// test accuracy.
import { describe, expect, it } from 'vitest';
import { collectErrors, roomAndBrowser, whyNoBrowser } from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

describe.skipIf(skip)('host page: what the model learned', () => {
  const fx = roomAndBrowser();

  it('shows test digits with predictions, classifies a drawn 1, and ends with the confusion matrix', {
    timeout: 90_000,
  }, async () => {
    const page = await fx.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${fx.server.url}/host.html?backend=wasm`);
    await page.waitForFunction(() => window.__host !== undefined);
    // before a run, a drawing says what it needs
    await page.locator('#draw-pad').scrollIntoViewIfNeeded();
    const pad = await page.locator('#draw-pad').boundingBox();
    if (!pad) throw new Error('no draw pad');
    const stroke = async () => {
      await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.15);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++)
        await page.mouse.move(pad.x + pad.width * 0.52, pad.y + pad.height * (0.15 + 0.07 * i));
      await page.mouse.up();
    };
    await stroke();
    await expect.poll(() => page.textContent('#draw-result')).toMatch(/^Start a run first/);

    await page.check('#local-workers');
    await page.selectOption('#batch-size', '128');
    await page.fill('#epochs', '2');
    await page.click('#start');
    await page.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 70_000 });
    await page.waitForFunction(() => window.__host?.confusion() != null, null, { timeout: 20_000 });

    // the panel after the last epoch: 24 digits; exactly the wrong ones are marked
    const panel = await page.evaluate(() => window.__host?.predictions());
    if (!panel) throw new Error('no predictions');
    expect(panel.labels).toHaveLength(24);
    const wrong = panel.labels.map((l, i) => l !== panel.predicted[i]);
    expect(
      await page.locator('#panel figure.digit').evaluateAll((fs) => fs.map((f) => f.classList.contains('wrong'))),
    ).toEqual(wrong);
    expect(await page.textContent('#panel p')).toBe(
      `After epoch 2: ${wrong.filter((w) => !w).length} of 24 test digits right; wrong ones are outlined in red, with ✗.`,
    );
    expect(wrong.filter((w) => !w).length).toBeGreaterThanOrEqual(16); // a trained model gets most right

    // the confusion matrix: every test example once; its diagonal is the trainer's test accuracy
    const m = (await page.evaluate(() => window.__host?.confusion())) as number[][];
    const total = m.flat().reduce((a, x) => a + x, 0);
    const right = m.reduce((a, r, i) => a + r[i], 0);
    const truth = await page.evaluate(() => window.__host?.truth());
    const finalAccuracy = truth?.epochs.at(-1)?.testAccuracy ?? Number.NaN;
    expect(m).toHaveLength(10);
    expect(total).toBeGreaterThan(1000);
    expect(Math.abs(right / total - finalAccuracy)).toBeLessThan(0.003);
    expect(await page.locator('#confusion-table tbody tr').count()).toBe(10);

    // a vertical stroke is a 1
    await page.click('#draw-clear');
    await stroke();
    await page.waitForFunction(() => window.__host?.drawing() != null, null, { timeout: 10_000 });
    const probs = (await page.evaluate(() => window.__host?.drawing())) as number[];
    expect(probs).toHaveLength(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(probs.indexOf(Math.max(...probs))).toBe(1);
    expect(await page.textContent('#draw-result')).toMatch(/^Looks like 1 \(\d+%\)/);
    expect(errors).toEqual([]);
  });
});
