// The lesson's endings, in Chromium: Stop is how a lesson ends, so after Stop the confusion matrix
// and the panel of test digits appear too (not only when a run finishes on its own), and the exported
// charts PNG carries a title and, under each chart, a legend with each line's colour.
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { collectErrors, roomAndBrowser, screenshot, whyNoBrowser } from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

describe.skipIf(skip)('host page: the end of a stopped lesson', () => {
  const fx = roomAndBrowser();

  it('shows the confusion matrix and predictions after Stop; the PNG has titles and legends', {
    timeout: 90_000,
  }, async () => {
    const page = await fx.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${fx.server.url}/host.html?backend=wasm`);
    await page.waitForFunction(() => window.__host !== undefined);
    await page.check('#local-workers');
    await page.selectOption('#batch-size', '128');
    await page.fill('#epochs', '3');
    await page.click('#start');
    await page.waitForFunction(() => (window.__host?.iteration() ?? 0) >= 10, null, { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForFunction(() => window.__host?.phase() === 'stopped', null, { timeout: 30_000 });
    await page.waitForFunction(() => window.__host?.confusion() != null, null, { timeout: 20_000 });
    const truth = await page.evaluate(() => window.__host?.truth());
    if (!truth) throw new Error('no truth');
    expect(truth.epochs).toEqual([]); // stopped inside the first epoch: no epoch's panel came before

    const m = (await page.evaluate(() => window.__host?.confusion())) as number[][];
    expect(m).toHaveLength(10);
    expect(m.flat().reduce((a, x) => a + x, 0)).toBeGreaterThan(1000);
    expect(await page.locator('#confusion-table tbody tr').count()).toBe(10);
    await page.waitForFunction(() => window.__host?.predictions() != null, null, { timeout: 20_000 });
    expect(await page.textContent('#panel p')).toMatch(
      new RegExp(`^When stopped, at iteration ${truth.iterations}: \\d+ of 24 test digits right`),
    );

    // the charts PNG: a legend swatch (22x4 px of the line's colour) for every shown line
    const legends = await page.evaluate(() => window.__host?.pngLegends());
    if (!legends) throw new Error('no legends');
    expect(legends.flat().length).toBeGreaterThanOrEqual(legends.length);
    for (const l of legends.flat()) expect(l.label).not.toBe('');
    const png = page.waitForEvent('download');
    await page.click('#export-png');
    const bytes = await readFile(await (await png).path());
    await writeFile('test-artifacts/screenshots/host-charts-export.png', bytes);
    const found = await page.evaluate(
      async ({ b64, colors }) => {
        const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
        const img = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const c = new OffscreenCanvas(img.width, img.height);
        const g = c.getContext('2d') as OffscreenCanvasRenderingContext2D;
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, img.width, img.height).data;
        const at = (x: number, y: number) => (y * img.width + x) * 4;
        return colors.map((hex) => {
          const rgb = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
          // within 2 per channel: the PNG's decode may round a colour by one
          const same = (x: number, y: number) => rgb.every((v, k) => Math.abs(d[at(x, y) + k] - v) <= 2);
          for (let y = 0; y + 4 <= img.height; y++)
            for (let x = 0; x + 22 <= img.width; x++) {
              if (!same(x, y)) continue;
              let solid = true;
              for (let yy = y; yy < y + 4 && solid; yy++)
                for (let xx = x; xx < x + 22 && solid; xx++) solid = same(xx, yy);
              if (solid) return true;
            }
          return false;
        });
      },
      { b64: bytes.toString('base64'), colors: [...new Set(legends.flat().map((l) => l.color))] },
    );
    expect(found.every(Boolean)).toBe(true);
    await screenshot(page, 'host-after-stop');
    expect(errors).toEqual([]);
  });
});
