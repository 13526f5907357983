// The playground's new pieces in real Chromium: settings that survive a link, the plateau and Adam
// sentences against the Node simulation, the figure's labels inside its box, and the batch-size
// panel measured by the room's real worker (dist/worker.js) on this machine.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamFirstStep, describeAdamFirstStep } from '../src/playground/adam-bias.js';
import { createPaths, PATH_KINDS, pathStats, type SimConfig } from '../src/playground/sim.js';
import { arrivalOrder } from '../src/playground/table.js';
import { collectErrors, launchChromium, type Served, screenshot, serveDemo, whyNoBrowser } from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1' ? 'GRADROOM_SKIP_BROWSER=1' : null;
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

function config(page: Page): Promise<SimConfig> {
  return page.evaluate(() => {
    if (!window.__playground) throw new Error('no window.__playground');
    return window.__playground.config();
  });
}

/** Moves a range input to `value` as a user would (its input event). */
async function setRange(page: Page, id: string, value: number): Promise<void> {
  await page.evaluate(
    ([id, value]) => {
      const input = document.getElementById(id as string) as HTMLInputElement;
      input.value = String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    [id, value] as const,
  );
}

describe.skipIf(skip !== null)('playground settings, sentences, figure and batch panel in Chromium', () => {
  let browser: Browser;
  let server: Served;
  beforeAll(async () => {
    server = await serveDemo();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(path: string, width = 1280) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(server.url(path));
    await page.waitForFunction(() => window.__playground !== undefined);
    return { page, errors, close: () => context.close() };
  }

  it('a link reopens the same setup: surface, sliders, per-path gradient, staircase N, bias correction, shown paths', async () => {
    const a = await open('/playground.html?autoplay=0');
    await a.page.selectOption('#surface', 'plateau');
    await setRange(a.page, 'sgd-lr', -0.3); // a log slider moves the exponent: 10^-0.3 = 0.501
    await a.page.selectOption('#momentum-batch', '8');
    await a.page.selectOption('#momentum-decay', 'staircase');
    await setRange(a.page, 'momentum-decay-every', 7);
    await a.page.uncheck('#adam-bias');
    await a.page.uncheck('#show-rmsprop');
    const url = a.page.url();
    expect(url).toContain('momentum.every=7');
    expect(url).toContain('autoplay=0');
    const want = await config(a.page);
    expect(want.hyper.sgd.lr).toBe(0.501);
    expect(want.each?.momentum).toEqual({ noise: true, batchSize: 8, decay: 'staircase', decayRate: 0.5, every: 7 });
    await a.page.evaluate(() => window.__playground?.advance(40));
    const lrsA = await a.page.evaluate(() => window.__playground?.paths().momentum.lrs);

    const b = await open(new URL(url).pathname + new URL(url).search);
    expect(await config(b.page)).toEqual(want);
    expect(await b.page.evaluate(() => window.__playground?.visible())).toEqual({
      sgd: true,
      momentum: true,
      rmsprop: false,
      adam: true,
    });
    // the controls show it too
    expect(await b.page.inputValue('#surface')).toBe('plateau');
    expect(await b.page.inputValue('#momentum-decay')).toBe('staircase');
    expect(await b.page.textContent('#momentum-decay-every-out')).toBe('7');
    expect(await b.page.isChecked('#adam-bias')).toBe(false);
    expect(await b.page.isChecked('#show-rmsprop')).toBe(false);
    await b.page.evaluate(() => window.__playground?.advance(40));
    const lrsB = await b.page.evaluate(() => window.__playground?.paths().momentum.lrs);
    expect(lrsB).toEqual(lrsA);
    // staircase at mini-batch 8 (128 iterations an epoch) and N = 7: flat over the first 40
    expect(new Set(lrsB).size).toBe(1);
    expect([...a.errors, ...b.errors]).toEqual([]);
    await a.close();
    await b.close();
  });

  it('a link with a bad value says what it ignored and keeps the default', async () => {
    const { page, errors, close } = await open('/playground.html?autoplay=0&surface=bowl&sgd.lr=lots&seed=3');
    expect(await page.textContent('#url-note')).toBe('Ignored from the link (not valid here): sgd.lr.');
    const c = await config(page);
    expect(c.hyper.sgd.lr).toBe(0.95);
    expect(c.seed).toBe(3);
    expect(errors).toEqual([]);
    await close();
  });

  it('plateau: the sentence gives the order of arrival the simulation computes; Adam’s first-step line matches it too', async () => {
    const { page, errors, close } = await open('/playground.html?autoplay=0&surface=plateau&scenario=defaults');
    await page.evaluate(() => window.__playground?.advance(700));
    const c = await config(page);
    const paths = createPaths(c);
    for (let i = 0; i < 700; i++) for (const k of PATH_KINDS) paths[k].step();
    const stats = Object.fromEntries(PATH_KINDS.map((k) => [k, pathStats(paths[k])])) as Record<
      (typeof PATH_KINDS)[number],
      ReturnType<typeof pathStats>
    >;
    const findings = (await page.textContent('#findings')) ?? '';
    expect(findings).toContain(arrivalOrder(PATH_KINDS, stats));
    expect(findings.indexOf('Gradient descent at')).toBeLessThan(findings.indexOf('Momentum at'));
    expect(await page.textContent('#adam-first-step')).toBe(
      describeAdamFirstStep(adamFirstStep(c), c.hyper.adam.beta1, c.hyper.adam.beta2),
    );
    await screenshot(page, 'playground-plateau-desktop');
    expect(errors).toEqual([]);
    await close();
  });

  it.each([1280, 390])(
    'the high-dimensions figure keeps every label inside its box at %i px, bar labels apart',
    async (w) => {
      const { page, errors, close } = await open('/playground.html?autoplay=0', w);
      const r = await page.evaluate(() => {
        const svg = document.querySelector('#critical-figure svg') as SVGSVGElement;
        const vb = svg.viewBox.baseVal;
        const boxes = [...svg.querySelectorAll('text')].map((t) => {
          const b = t.getBBox();
          return { text: t.textContent, x: b.x, y: b.y, r: b.x + b.width, b: b.y + b.height };
        });
        return { w: vb.width, h: vb.height, boxes };
      });
      for (const b of r.boxes) {
        expect(b.x, b.text ?? '').toBeGreaterThanOrEqual(0);
        expect(b.y, b.text ?? '').toBeGreaterThanOrEqual(0);
        expect(b.r, b.text ?? '').toBeLessThanOrEqual(r.w);
        expect(b.b, b.text ?? '').toBeLessThanOrEqual(r.h);
      }
      // the share labels over the bars do not overlap one another
      const shares = r.boxes.filter((b) => /%|^1 in/.test(b.text ?? '')).sort((p, q) => p.x - q.x);
      expect(shares.length).toBe(5);
      for (let i = 1; i < shares.length; i++) expect(shares[i].x).toBeGreaterThan(shares[i - 1].r);
      await page.locator('#critical-figure').scrollIntoViewIfNeeded();
      await screenshot(page, `playground-figure-${w}`, false);
      expect(errors).toEqual([]);
      await close();
    },
  );

  it('batch size vs examples/s: measured on this device by the room’s worker; batch 512 gets through far more examples a second than batch 1', async () => {
    const { page, errors, close } = await open('/playground.html?autoplay=0');
    await page.click('#batch-measure');
    await page.waitForFunction(() => window.__playground?.batchSpeeds() != null, null, { timeout: 120_000 });
    const m = await page.evaluate(() => window.__playground?.batchSpeeds());
    if (!m) throw new Error('no measurement');
    expect(m.rows.map((r) => r.batch)).toEqual([1, 8, 64, 512]);
    expect(m.paramCount).toBe(784 * 128 + 128 + 128 * 10 + 10);
    for (const r of m.rows) {
      expect(r.repeats).toBeGreaterThanOrEqual(3);
      expect(r.examplesPerSec).toBeCloseTo((r.batch * 1000) / r.msPerIteration, 6);
    }
    const rate = (b: number) => m.rows.find((r) => r.batch === b)?.examplesPerSec ?? 0;
    // the vectorization the lecture names: every larger mini-batch gets through more examples a second
    // than batch 1, the best of them several times as many (5.4× at 512 and 15× at 64 on wasm here)
    for (const b of [8, 64, 512]) expect(rate(b)).toBeGreaterThan(2 * rate(1));
    expect(Math.max(rate(8), rate(64), rate(512))).toBeGreaterThan(5 * rate(1));
    // what the table shows is what was measured
    const shown = await page.$$eval('#batch-table tbody tr', (rows) =>
      rows.map((tr) => [tr.getAttribute('data-batch'), tr.querySelector('[data-col="rate"]')?.textContent]),
    );
    expect(shown).toEqual(m.rows.map((r) => [String(r.batch), Math.round(r.examplesPerSec).toLocaleString('en')]));
    expect(await page.textContent('#batch-words')).toContain(
      `${(rate(512) / rate(1)).toFixed(0)}× as many examples a second`,
    );
    await page.locator('#batch-speed').scrollIntoViewIfNeeded();
    await screenshot(page, 'playground-batch-speed', false);
    expect(errors).toEqual([]);
    await close();
  }, 180_000);
});
