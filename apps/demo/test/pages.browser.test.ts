// The playground and the EWA explorer in real Chromium: the paths' end points equal @gradroom/core's
// optimizers run here in Node, the plotted averages equal the formulas, every control has a label,
// and each page is screenshotted at desktop and phone sizes (test-artifacts/screenshots/).
import { join } from 'node:path';
import { createOptimizer, type OptimizerConfig, rngFor, STREAM } from '@gradroom/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathKind, SimConfig } from '../src/playground/sim.js';
import { SURFACE_IDS, SURFACES, type SurfaceId } from '../src/playground/surfaces.js';
import { SERIES_COLORS } from '../src/ui/theme.js';
import {
  collectErrors,
  launchChromium,
  SCREENSHOTS,
  type Served,
  screenshot,
  serveDemo,
  VIEWPORTS,
  whyNoBrowser,
} from './browser.js';

const KINDS: PathKind[] = ['sgd', 'momentum', 'rmsprop', 'adam'];
// a missing browser or build is a failure, not a skip: only GRADROOM_SKIP_BROWSER=1 opts out
const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1' ? 'GRADROOM_SKIP_BROWSER=1' : null;
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

/** The run the page should have made, in Node, straight from @gradroom/core. */
function reference(cfg: SimConfig, iterations: number): Record<PathKind, [number, number]> {
  const s = SURFACES[cfg.surface];
  const h = cfg.hyper;
  const configs: Record<PathKind, OptimizerConfig> = {
    sgd: { kind: 'sgd', lr: h.sgd.lr },
    momentum: { kind: 'momentum', lr: h.momentum.lr, momentum: h.momentum.beta },
    rmsprop: { kind: 'rmsprop', lr: h.rmsprop.lr, rho: h.rmsprop.rho, epsilon: h.rmsprop.epsilon },
    adam: { kind: 'adam', lr: h.adam.lr, beta1: h.adam.beta1, beta2: h.adam.beta2, epsilon: h.adam.epsilon },
  };
  const m = 1024;
  const b = cfg.batchSize;
  const sigma = cfg.noise ? s.exampleNoise * Math.sqrt((m - b) / (b * (m - 1))) : 0;
  const out = {} as Record<PathKind, [number, number]>;
  for (const kind of KINDS) {
    const opt = createOptimizer(configs[kind]);
    const rng = rngFor(cfg.seed, STREAM.noise);
    const p = Float32Array.from(s.start);
    const g = new Float32Array(2);
    for (let i = 0; i < iterations; i++) {
      s.grad(p[0], p[1], g);
      if (sigma > 0) {
        g[0] += sigma * rng.normal();
        g[1] += sigma * rng.normal();
      }
      opt.step(p, g);
    }
    out[kind] = [p[0], p[1]];
  }
  return out;
}

type Endpoints = Record<PathKind, { x: number; y: number; diverged: boolean }>;

async function pageState(page: Page) {
  return page.evaluate(() => {
    const pg = window.__playground;
    if (!pg) throw new Error('no window.__playground');
    return { config: pg.config(), iteration: pg.iteration(), endpoints: pg.endpoints() };
  });
}

function expectMatches(endpoints: Endpoints, ref: Record<PathKind, [number, number]>) {
  for (const kind of KINDS) {
    expect(endpoints[kind].diverged, kind).toBe(false);
    expect(Math.abs(endpoints[kind].x - ref[kind][0]), `${kind} x`).toBeLessThan(1e-5);
    expect(Math.abs(endpoints[kind].y - ref[kind][1]), `${kind} y`).toBeLessThan(1e-5);
  }
}

async function everyControlLabelled(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const c of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) {
      if (!c.labels || c.labels.length === 0 || !c.labels[0].textContent?.trim()) bad.push(c.id || c.outerHTML);
    }
    for (const b of document.querySelectorAll('button')) if (!b.textContent?.trim()) bad.push(b.outerHTML);
    return bad;
  });
}

describe.skipIf(skip !== null)('demo pages in Chromium', () => {
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

  async function open(path: string, view: keyof typeof VIEWPORTS = 'desktop') {
    const context = await browser.newContext(VIEWPORTS[view]);
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(server.url(path));
    return { page, errors, close: () => context.close() };
  }

  describe('optimizer playground', () => {
    it.each(
      SURFACE_IDS.flatMap((id) => [
        [id, false],
        [id, true],
      ]) as [SurfaceId, boolean][],
    )('%s, mini-batch noise %s: end points after 150 iterations equal core run in Node', async (surface, noise) => {
      const { page, errors, close } = await open('/playground.html?autoplay=0');
      await page.waitForFunction(() => window.__playground !== undefined);
      await page.selectOption('#surface', surface);
      if (noise) {
        await page.check('#noise');
        await page.selectOption('#batch-size', '16');
        await page.fill('#seed', '5');
        await page.locator('#seed').press('Tab'); // change fires when the field is left
      }
      for (let i = 0; i < 3; i++) await page.click('#step');
      await page.evaluate(() => window.__playground?.advance(147));
      const { config, iteration, endpoints } = await pageState(page);
      expect(iteration).toBe(150);
      expect(config.surface).toBe(surface);
      expect(config.hyper).toEqual(SURFACES[surface].defaults);
      expect(config.noise).toBe(noise);
      if (noise) expect([config.batchSize, config.seed]).toEqual([16, 5]);
      expectMatches(endpoints, reference(config, 150));
      expect(await page.textContent('#counter')).toMatch(/^Iteration 150 · epoch \d+ · [\d,]+ steps \(examples\)/);
      expect(await page.getAttribute('#plot', 'data-iteration')).toBe('150');
      expect(errors).toEqual([]);
      await close();
    });

    it('sliders moved with the keyboard change the hyperparameters, and the paths follow core', async () => {
      const { page, errors, close } = await open('/playground.html?autoplay=0&surface=rosenbrock');
      await page.waitForFunction(() => window.__playground !== undefined);
      await page.click('#step');
      // alpha sliders move in 1/20 decade; beta sliders in 0.01.
      await page.focus('#adam-lr');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await page.focus('#momentum-beta');
      await page.keyboard.press('ArrowLeft');
      await page.focus('#rmsprop-epsilon');
      await page.keyboard.press('End');
      await page.evaluate(() => window.__playground?.advance(199));
      const { config, iteration, endpoints } = await pageState(page);
      expect(iteration).toBe(200);
      expect(config.hyper.adam.lr).toBe(0.126);
      expect(config.hyper.momentum.beta).toBeCloseTo(0.89, 12);
      expect(config.hyper.rmsprop.epsilon).toBe(1);
      expect(await page.textContent('#adam-lr-out')).toBe('0.126');
      expectMatches(endpoints, reference(config, 200));
      expect(errors).toEqual([]);
      await close();
    });

    it.each([
      ['saddle', false, 40, 'desktop'],
      ['bowl', true, 30, 'phone'], // 30: the retuned bowl's paths still lie apart on a phone-sized plot
    ] as const)(
      'draws each path: %s (noise %s, %i iterations, %s) shows each colour at its end point',
      async (surface, noise, n, view) => {
        const { page, errors, close } = await open(`/playground.html?autoplay=0&surface=${surface}`, view);
        await page.waitForFunction(() => window.__playground !== undefined);
        if (noise) await page.check('#noise');
        await page.evaluate((n) => window.__playground?.advance(n), n);
        const { endpoints } = await pageState(page);
        const s = SURFACES[surface];
        const colors: Record<PathKind, string> = {
          sgd: SERIES_COLORS.orange,
          momentum: SERIES_COLORS.blue,
          rmsprop: SERIES_COLORS.green,
          adam: SERIES_COLORS.purple,
        };
        const box = await page.evaluate(() => {
          const c = document.getElementById('plot') as HTMLCanvasElement;
          const r = c.getBoundingClientRect();
          return { w: r.width, h: r.height };
        });
        const px = (k: PathKind) => [
          ((endpoints[k].x - s.domain.xmin) / (s.domain.xmax - s.domain.xmin)) * box.w,
          ((s.domain.ymax - endpoints[k].y) / (s.domain.ymax - s.domain.ymin)) * box.h,
        ];
        let checked = 0;
        for (const k of KINDS) {
          const [x, y] = px(k);
          const alone = KINDS.every((o) => o === k || Math.hypot(px(o)[0] - x, px(o)[1] - y) > 12);
          if (!alone) continue;
          const rgb = await page.evaluate(
            ([x, y]) => {
              const c = document.getElementById('plot') as HTMLCanvasElement;
              const dpr = c.width / c.getBoundingClientRect().width;
              const d = c.getContext('2d')?.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data;
              return d ? [d[0], d[1], d[2]] : [];
            },
            [x, y],
          );
          const want = [1, 3, 5].map((i) => Number.parseInt(colors[k].slice(i, i + 2), 16));
          expect(Math.hypot(rgb[0] - want[0], rgb[1] - want[1], rgb[2] - want[2]), k).toBeLessThan(30);
          checked++;
        }
        expect(checked).toBeGreaterThanOrEqual(2);
        expect(errors).toEqual([]);
        await close();
      },
    );

    it('plays by itself, pauses, resets; every control has a label', async () => {
      const { page, errors, close } = await open('/playground.html');
      await page.waitForFunction(() => (window.__playground?.iteration() ?? 0) > 5);
      expect(await page.textContent('#play')).toBe('Pause');
      await page.click('#play');
      expect(await page.textContent('#play')).toBe('Play');
      expect(await page.getAttribute('#counter', 'aria-busy')).toBe('false');
      const stopped = await page.evaluate(() => window.__playground?.iteration());
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => window.__playground?.iteration())).toBe(stopped);
      await page.click('#reset');
      expect(await page.evaluate(() => window.__playground?.iteration())).toBe(0);
      expect(await everyControlLabelled(page)).toEqual([]);
      expect(errors).toEqual([]);
      await close();
    });
  });

  describe('EWA explorer', () => {
    /** v_t = (1 - beta) * sum_i beta^(t-i) theta_i, optionally divided by 1 - beta^t: the lecture's expansion. */
    function ewaByFormula(theta: number[], beta: number, t: number, corrected: boolean): number {
      let v = 0;
      for (let i = 1; i <= t; i++) v += (1 - beta) * beta ** (t - i) * theta[i - 1];
      return corrected ? v / (1 - beta ** t) : v;
    }

    it('plots the averages the formulas give; bias-corrected v1 is the first temperature', async () => {
      const { page, errors, close } = await open('/ewa.html');
      await page.waitForFunction(() => window.__ewa !== undefined && document.querySelector('.uplot canvas'));
      const read = () =>
        page.evaluate(() => {
          const e = window.__ewa;
          if (!e) throw new Error('no window.__ewa');
          return {
            temps: e.temps(),
            betas: e.betas,
            main: e.mainPlotted(),
            early: e.earlyPlotted(),
            zoom: e.zoomBeta(),
          };
        });
      let s = await read();
      expect(s.temps).toHaveLength(365);
      expect(s.main[1]).toEqual(s.temps);
      expect(s.betas).toEqual([0.5, 0.9, 0.98]);
      for (const [j, beta] of s.betas.entries()) {
        const plotted = s.main[2 + j] as number[];
        expect(plotted[0]).toBeCloseTo(s.temps[0], 12); // corrected v1 = theta1
        for (let t = 1; t <= 10; t++) expect(plotted[t - 1]).toBeCloseTo(ewaByFormula(s.temps, beta, t, true), 9);
      }
      // The close-up always shows both: raw v_t and v_t / (1 - beta^t), for beta 0.98.
      expect(s.zoom).toBe(0.98);
      expect(s.early[2][0]).toBeCloseTo(0.02 * s.temps[0], 12);
      expect(s.early[3][0]).toBeCloseTo(s.temps[0], 12);
      for (let t = 1; t <= 10; t++) {
        expect(s.early[2][t - 1]).toBeCloseTo(ewaByFormula(s.temps, 0.98, t, false), 9);
        expect(s.early[3][t - 1]).toBeCloseTo(ewaByFormula(s.temps, 0.98, t, true), 9);
      }
      expect(await page.textContent('#early-text')).toContain(`day 1 is ${s.temps[0].toFixed(1)} °C`);

      // Bias correction off: v1 = (1 - beta) * theta1.
      await page.click('label[for="bias-correction"]');
      s = await read();
      for (const [j, beta] of s.betas.entries()) {
        const plotted = s.main[2 + j] as number[];
        expect(plotted[0]).toBeCloseTo((1 - beta) * s.temps[0], 12);
        for (let t = 1; t <= 10; t++) expect(plotted[t - 1]).toBeCloseTo(ewaByFormula(s.temps, beta, t, false), 9);
      }

      // Another year: new temperatures, plotted.
      const before = s.temps;
      await page.click('#another-year');
      s = await read();
      expect(s.temps).not.toEqual(before);
      expect(s.main[1]).toEqual(s.temps);
      expect(await everyControlLabelled(page)).toEqual([]);
      expect(errors).toEqual([]);
      await close();
    });
  });

  describe('screenshots', () => {
    const pages = [
      ['index', '/index.html'],
      ['playground', '/playground.html?autoplay=0'],
      ['ewa', '/ewa.html'],
    ] as const;
    it.each(pages.flatMap(([name, path]) => (['desktop', 'phone'] as const).map((v) => [name, path, v] as const)))(
      '%s (%s, %s): renders without errors and without sideways scrolling',
      async (name, path, view) => {
        const { page, errors, close } = await open(path, view);
        if (name === 'playground') {
          await page.waitForFunction(() => window.__playground !== undefined);
          await page.check('#noise');
          await page.evaluate(() => window.__playground?.advance(120));
        }
        if (name === 'ewa') await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length === 2);
        await page.waitForLoadState('load');
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0);
        await screenshot(page, `${name}-${view}`);
        // A phone's full page is too tall to look at; also keep the first screenful.
        if (view === 'phone') await screenshot(page, `${name}-${view}-first-screen`, false);
        if (view === 'phone' && name === 'playground') {
          await page.locator('.plot-wrap').screenshot({ path: join(SCREENSHOTS, 'playground-phone-plot.png') });
        }
        expect(errors).toEqual([]);
        await close();
      },
    );
  });
});
