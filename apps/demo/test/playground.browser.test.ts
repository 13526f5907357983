// The playground's lecture pieces, the "one iteration" page and the landing page's teacher path in real
// Chromium: every number the pages show is recomputed here in Node from @gradroom/core (or the same
// pure simulation the page runs) and compared; the pages are screenshotted at desktop, phone and
// projector (1280×720) size under test-artifacts/screenshots/.
import { createOptimizer, learningRate, planEpoch, splitShards } from '@gradroom/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LESSON_WORKERS } from '../src/lesson/iteration-sim.js';
import { createPaths, type PathKind, pathStats, type SimConfig } from '../src/playground/sim.js';
import { SURFACES } from '../src/playground/surfaces.js';
import { SERIES_COLORS } from '../src/ui/theme.js';
import {
  collectErrors,
  launchChromium,
  type Served,
  screenshot,
  serveDemo,
  VIEWPORTS,
  whyNoBrowser,
} from './browser.js';

// a missing browser or build is a failure, not a skip: only GRADROOM_SKIP_BROWSER=1 opts out
const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1' ? 'GRADROOM_SKIP_BROWSER=1' : null;
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

const SIZES = {
  ...VIEWPORTS,
  projector: { viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 },
} as const;

/** The page's simulation state. */
function state(page: Page) {
  return page.evaluate(() => {
    const pg = window.__playground;
    if (!pg) throw new Error('no window.__playground');
    return {
      config: pg.config(),
      iteration: pg.iteration(),
      stats: pg.stats(),
      paths: pg.paths(),
      ghosts: pg.ghosts(),
      visible: pg.visible(),
    };
  });
}

/** The same run in Node, from the page's own config. */
function nodeRun(config: SimConfig, n: number) {
  const paths = createPaths(config);
  for (let i = 0; i < n; i++) for (const p of Object.values(paths)) p.step();
  return paths;
}

/** How many pixels of the canvas are within 40 of this colour. */
function countColour(page: Page, id: string, hex: string): Promise<number> {
  const want = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return page.evaluate(
    ([id, want]) => {
      const c = document.getElementById(id as string) as HTMLCanvasElement;
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      if (!d) return -1;
      const [r, g, b] = want as number[];
      let n = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.hypot(d[i] - r, d[i + 1] - g, d[i + 2] - b) < 40 && d[i + 3] > 200) n++;
      return n;
    },
    [id, want] as const,
  );
}

describe.skipIf(skip !== null)('playground lessons, one iteration, teacher path in Chromium', () => {
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

  async function open(path: string, view: keyof typeof SIZES = 'desktop') {
    const context = await browser.newContext(SIZES[view]);
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(server.url(path));
    return { page, errors, close: () => context.close() };
  }

  async function openPlayground(query: string) {
    const o = await open(`/playground.html?autoplay=0&${query}`);
    await o.page.waitForFunction(() => window.__playground !== undefined);
    return o;
  }

  it('elongated bowl at equal α: the table shows each path’s sideways swing and distance, as the simulation computes them', async () => {
    const { page, errors, close } = await openPlayground('surface=bowl');
    await page.click('#scenario-equal-alpha');
    // a Try button starts playing: back to iteration 0, paused, then exactly 200 iterations
    await page.evaluate(() => window.__playground?.reset());
    await page.evaluate(() => window.__playground?.advance(200));
    const s = await state(page);
    expect(s.config.hyper.sgd.lr).toBe(0.95);
    expect(s.config.hyper.momentum.lr).toBe(0.95);
    expect(s.visible).toEqual({ sgd: true, momentum: true, rmsprop: false, adam: false });
    const ref = nodeRun(s.config, 200);
    for (const k of ['sgd', 'momentum'] as PathKind[]) {
      const want = pathStats(ref[k]);
      expect(s.stats[k].swing).toBeCloseTo(want.swing ?? Number.NaN, 9);
      expect(s.stats[k].distance).toBeCloseTo(want.distance, 9);
      const row = page.locator(`#legend tr[data-kind="${k}"]`);
      expect(await row.locator('td[data-col="swing"]').textContent()).toBe((want.swing ?? 0).toFixed(1));
      expect(await row.locator('td[data-col="dist"]').textContent()).toBe(want.distance.toFixed(3));
    }
    // the lecture's claim, in the page's numbers
    expect((s.stats.momentum.swing ?? 0) * 3).toBeLessThan(s.stats.sgd.swing ?? 0);
    const findings = await page.textContent('#findings');
    expect(findings).toContain(`Gradient descent ${(s.stats.sgd.swing ?? 0).toFixed(1)} (α 0.95)`);
    expect(findings).toContain(`Momentum ${(s.stats.momentum.swing ?? 0).toFixed(1)} (α 0.95)`);
    expect(await page.locator('#legend tr[data-kind="rmsprop"]').count()).toBe(0);
    expect(errors).toEqual([]);
    await close();
  });

  it('"Momentum with α = 3": the slider shows it, momentum reaches the minimum while gradient descent is still far', async () => {
    const { page, errors, close } = await openPlayground('surface=bowl');
    await page.click('#scenario-larger-alpha');
    expect(await page.getAttribute('#scenario-larger-alpha', 'aria-pressed')).toBe('true');
    expect(await page.textContent('#momentum-lr-out')).toBe('3');
    expect(await page.textContent('#scenario-look')).toMatch(/cannot go above α = 1/);
    await page.evaluate(() => window.__playground?.reset());
    await page.evaluate(() => window.__playground?.advance(100));
    const s = await state(page);
    expect(s.config.hyper.momentum.lr).toBe(3);
    expect(s.stats.momentum.distance * 10).toBeLessThan(s.stats.sgd.distance);
    expect(s.paths.momentum.xs.at(-1)).toBeCloseTo(nodeRun(s.config, 100).momentum.xs[100], 6);
    expect(errors).toEqual([]);
    await close();
  });

  it('each path its own gradient: full-batch GD against mini-batches of 256 for momentum, set with the path’s own select', async () => {
    const { page, errors, close } = await openPlayground('surface=bowl');
    await page.selectOption('#momentum-batch', '256');
    await page.evaluate(() => window.__playground?.advance(150));
    const s = await state(page);
    expect(s.config.each?.sgd).toMatchObject({ noise: false });
    expect(s.config.each?.momentum).toMatchObject({ noise: true, batchSize: 256 });
    const ref = nodeRun(s.config, 150);
    for (const k of ['sgd', 'momentum', 'rmsprop', 'adam'] as PathKind[]) {
      expect(s.paths[k].xs).toEqual(ref[k].xs);
      expect(s.paths[k].ys).toEqual(ref[k].ys);
    }
    // the two are not the same path any more, and the counter says so in epochs per path
    expect(s.paths.momentum.ys).not.toEqual(nodeRun({ ...s.config, each: undefined }, 150).momentum.ys);
    expect(await page.textContent('#counter')).toMatch(
      /^Iteration 150 · Gradient descent \(full batch\) epoch 150 · Momentum \(mini-batch 256\) epoch 37/,
    );
    expect(await page.locator('#legend tr[data-kind="momentum"] td[data-col="grad"]').textContent()).toBe(
      'mini-batch 256',
    );
    expect(errors).toEqual([]);
    await close();
  });

  it('learning-rate decay: α follows core’s schedule per epoch of the path, the chart draws it, the undecayed ghost keeps wandering', async () => {
    const { page, errors, close } = await openPlayground('surface=bowl');
    await page.click('#scenario-decay');
    expect(await page.inputValue('#sgd-decay')).toBe('inverse-time');
    expect(await page.inputValue('#sgd-batch')).toBe('8');
    expect(await page.textContent('#sgd-decay-rate-out')).toBe('1');
    await page.evaluate(() => window.__playground?.reset());
    await page.evaluate(() => window.__playground?.advance(1000));
    const s = await state(page);
    const lr0 = s.config.hyper.sgd.lr;
    for (const i of [0, 127, 128, 500, 999]) {
      expect(s.paths.sgd.lrs[i]).toBe(
        learningRate({ kind: 'inverse-time', lr0, decayRate: 1 }, { epoch: Math.floor(i / 128), iteration: i }),
      );
    }
    const ghost = s.ghosts.sgd;
    if (!ghost) throw new Error('the decayed path has no undecayed twin');
    expect(ghost.lrs.every((lr) => lr === lr0)).toBe(true);
    const wander = (ys: number[]) => ys.slice(-200).reduce((a, y) => a + y * y, 0) / 200;
    expect(wander(s.paths.sgd.ys) * 4).toBeLessThan(wander(ghost.ys));
    expect(await page.locator('#legend td[data-col="settle"]').count()).toBe(1);
    // the α chart has the gradient-descent colour on it
    expect(await countColour(page, 'alpha-plot', SERIES_COLORS.orange)).toBeGreaterThan(100);
    expect(await page.locator('#legend tr[data-kind="sgd"] td[data-col="alpha"]').textContent()).toBe(
      String(Number((lr0 / (1 + Math.floor(1000 / 128))).toPrecision(3))),
    );
    // a stronger decay through the slider replays the run with the new rate
    await page.focus('#sgd-decay-rate');
    await page.keyboard.press('End');
    const after = await state(page);
    expect(after.config.each?.sgd?.decayRate).toBe(5);
    expect(after.paths.sgd.lrs[200]).toBeCloseTo(lr0 / (1 + 5 * 1), 12);
    expect(errors).toEqual([]);
    await close();
  });

  it('saddle: the cross marks it, and the text says how long each path lingered, as the simulation counts it', async () => {
    const { page, errors, close } = await openPlayground('surface=saddle');
    const s0 = SURFACES.saddle;
    // before any path is drawn, the pixel at (0, 0) is the cross's dark ink
    const ink = await page.evaluate(
      ([x, y]) => {
        const c = document.getElementById('plot') as HTMLCanvasElement;
        const r = c.getBoundingClientRect();
        const dpr = c.width / r.width;
        const px = ((x - -3) / 6) * r.width;
        const py = ((2 - y) / 4) * r.height;
        const d = c.getContext('2d')?.getImageData(Math.round(px * dpr), Math.round(py * dpr), 1, 1).data;
        return d ? [d[0], d[1], d[2]] : [];
      },
      s0.saddles[0] as [number, number],
    );
    expect(Math.hypot(ink[0] - 0x1d, ink[1] - 0x27, ink[2] - 0x33)).toBeLessThan(40);
    await page.evaluate(() => window.__playground?.advance(300));
    const s = await state(page);
    const ref = pathStats(nodeRun(s.config, 300).sgd);
    expect(s.stats.sgd.nearSaddle).toBe(ref.nearSaddle);
    expect(ref.nearSaddle ?? 0).toBeGreaterThan(15);
    expect(ref.reachedAt).not.toBeNull();
    expect(await page.textContent('#findings')).toContain(
      `Gradient descent spent ${ref.nearSaddle} iterations within 0.5 of the saddle and reached a minimum at iteration ${ref.reachedAt}.`,
    );
    expect(await page.textContent('#blurb')).not.toMatch(/stalls/);
    expect(errors).toEqual([]);
    await close();
  });

  it('Adam: β₁ = 0 makes it RMSProp, ε ≫ √S makes it momentum, and the bias-correction box is core’s biasCorrection', async () => {
    const { page, errors, close } = await openPlayground('surface=bowl');
    await page.click('#adam-as-rmsprop');
    await page.evaluate(() => window.__playground?.advance(200));
    let s = await state(page);
    expect(s.config.hyper.adam).toMatchObject({ beta1: 0, biasCorrection: false, lr: s.config.hyper.rmsprop.lr });
    for (let i = 0; i <= 200; i += 20) expect(s.paths.adam.ys[i]).toBeCloseTo(s.paths.rmsprop.ys[i], 5);
    expect(await page.textContent('#adam-gap')).toMatch(/^Adam’s point is \S+ from RMSProp’s after 200 iterations\.$/);
    expect(await page.isChecked('#adam-bias')).toBe(false);

    await page.click('#adam-as-momentum');
    s = await state(page);
    expect(s.config.hyper.adam).toMatchObject({ epsilon: 1000, lr: s.config.hyper.momentum.lr * 1000 });
    const m = s.paths.momentum;
    const a = s.paths.adam;
    expect(Math.hypot((a.xs.at(-1) ?? 0) - (m.xs.at(-1) ?? 0), (a.ys.at(-1) ?? 0) - (m.ys.at(-1) ?? 0))).toBeLessThan(
      0.02,
    );

    // the box, against core's Adam run here
    await page.click('label[for="adam-bias"]');
    s = await state(page);
    const h = s.config.hyper.adam;
    expect(h.biasCorrection).toBe(true);
    const opt = createOptimizer({
      kind: 'adam',
      lr: h.lr,
      beta1: h.beta1,
      beta2: h.beta2,
      epsilon: h.epsilon,
      biasCorrection: true,
    });
    const w = Float32Array.from(SURFACES.bowl.start);
    const g = new Float32Array(2);
    for (let i = 0; i < 200; i++) {
      SURFACES.bowl.grad(w[0], w[1], g);
      opt.step(w, g);
    }
    expect(s.paths.adam.xs[200]).toBeCloseTo(w[0], 5);
    expect(s.paths.adam.ys[200]).toBeCloseTo(w[1], 5);
    expect(errors).toEqual([]);
    await close();
  });

  it('local optima: the figure shows the 1-in-2ⁿ bars and the plateau', async () => {
    const { page, errors, close } = await openPlayground('surface=bowl');
    const fig = page.locator('#critical-figure svg');
    expect(await fig.locator('rect.fig-bar').count()).toBe(5);
    expect(await fig.locator('title').textContent()).toMatch(/most|minima/i);
    const labels = await fig.locator('text.fig-small').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['50%', '25%', '1 in 1,024', '1 in 1,048,576']));
    expect(await fig.locator('circle.fig-dot').count()).toBeGreaterThan(10);
    expect(await page.textContent('#decay-heading ~ p')).toBeTruthy();
    expect(await page.textContent('main')).toContain(
      '“Epoch 1 of N” during that first epoch, when epoch_num is still 0',
    );
    expect(errors).toEqual([]);
    await close();
  });

  it('one iteration: each stage’s numbers are core’s plan, core’s shard split, gradient sums and one SGD step', async () => {
    const { page, errors, close } = await open('/iteration.html');
    await page.waitForFunction(() => window.__iteration !== undefined);
    const read = () =>
      page.evaluate(() => {
        const it = window.__iteration;
        if (!it) throw new Error('no window.__iteration');
        return { trace: it.trace(), stage: it.stage(), data: it.data(), seed: it.seed, epoch: it.epochShown() };
      });
    // the epoch: 20 examples in mini-batches of 8, 8 and the remainder 4, in planEpoch's order
    const plan0 = planEpoch({ seed: 7, epoch: 0, examples: 20, batchSize: 8 });
    const groups = await page
      .locator('#epoch-tiles .batch')
      .evaluateAll((bs) => bs.map((b) => [...b.querySelectorAll('.tile')].map((t) => Number(t.textContent))));
    expect(groups).toEqual([0, 1, 2].map((b) => Array.from(plan0.batch(b))));
    expect(await page.textContent('#epoch-tiles .batch.remainder .batch-label')).toBe(
      'Mini-batch 3: 4 (the remainder, 20 mod 8)',
    );
    const stages: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.click('#stage-next');
      stages.push((await page.textContent('#stages li[aria-current="step"]')) ?? '');
    }
    expect(stages.map((s) => s.split('.')[0])).toEqual([
      'Plan',
      'Shards out',
      'Gradients back',
      'Sum',
      'Central step',
      'Weights out',
    ]);
    const { trace, data, stage } = await read();
    if (!trace) throw new Error('no iteration ran');
    expect(stage).toBe(5);
    expect(trace.indices).toEqual(Array.from(plan0.batch(0)));
    expect(trace.shardSizes).toEqual(
      splitShards(
        8,
        LESSON_WORKERS.map((w) => w.speed),
      ),
    );
    // the mean gradient of ½(wx + b − y)² over the mini-batch, at w = b = 0, computed here
    let gw = 0;
    let gb = 0;
    for (const i of trace.indices) {
      const r = 0 - data[i].y;
      gw += r * data[i].x;
      gb += r;
    }
    expect(trace.mean[0]).toBeCloseTo(gw / 8, 9);
    expect(trace.mean[1]).toBeCloseTo(gb / 8, 9);
    expect(trace.after[0]).toBeCloseTo(Math.fround(0 - 0.1 * Math.fround(gw / 8)), 6);
    expect(trace.results.reduce((n, r) => n + r.count, 0)).toBe(8);
    expect(await page.textContent('#coordinator')).toContain('weights version 1');
    expect(await page.locator('#epoch-tiles .batch.current').getAttribute('data-batch')).toBe('0');
    // three more whole iterations: the fourth is mini-batch 1 of epoch 2, shown in epoch 2's order
    for (let i = 0; i < 3; i++) await page.click('#iteration-next');
    const later = await read();
    expect(later.trace?.position).toEqual({ epoch: 1, batch: 0, iteration: 3 });
    expect(later.epoch).toBe(1);
    expect(later.trace?.indices).toEqual(
      Array.from(planEpoch({ seed: 7, epoch: 1, examples: 20, batchSize: 8 }).batch(0)),
    );
    // another mini-batch size: 6, 6, 6 and the remainder 2
    await page.selectOption('#epoch-batch', '6');
    const sizes = await page
      .locator('#epoch-tiles .batch')
      .evaluateAll((bs) => bs.map((b) => b.querySelectorAll('.tile').length));
    expect(sizes).toEqual([6, 6, 6, 2]);
    await page.click('#next-epoch');
    const shuffled = await page.locator('#epoch-tiles .tile').evaluateAll((ts) => ts.map((t) => Number(t.textContent)));
    expect(shuffled).toEqual(Array.from(planEpoch({ seed: 7, epoch: 1, examples: 20, batchSize: 6 }).order));
    expect(await page.textContent('#epoch-caption')).toMatch(/^Epoch 2 \(epoch_num 1 in the decay formulas\)/);
    expect(errors).toEqual([]);
    await close();
  });

  it('landing page: "Teacher: start here" walks host, QR, watch, pause, α, stop, and every link on it resolves', async () => {
    const { page, errors, close } = await open('/index.html');
    expect(await page.textContent('#teacher-heading')).toBe('Teacher: start here');
    const steps = await page.locator('.teacher-steps > li > strong').allTextContents();
    expect(steps).toEqual([
      'Host.',
      'Put the QR code on the projector.',
      'Watch.',
      'Pause and explain.',
      'Change α.',
      'Stop.',
    ]);
    const links = await page.locator('.teacher a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).toBeGreaterThanOrEqual(6);
    for (const href of links) {
      const r = await page.request.get(href);
      expect(r.status(), href).toBe(200);
    }
    // a scenario link opens the playground on that scenario
    await page.click('.teacher a[href="playground.html?scenario=race"]');
    await page.waitForFunction(() => window.__playground !== undefined);
    expect(await page.evaluate(() => window.__playground?.scenario())).toBe('race');
    expect(errors).toEqual([]);
    await close();
  });

  describe('screenshots', () => {
    const pages = [
      ['index', '/index.html'],
      ['playground-race', '/playground.html?autoplay=0&scenario=race'],
      ['playground-saddle', '/playground.html?autoplay=0&surface=saddle'],
      ['iteration', '/iteration.html'],
    ] as const;
    it.each(
      pages.flatMap(([name, path]) =>
        (['desktop', 'phone', 'projector'] as const).map((v) => [name, path, v] as const),
      ),
    )('%s (%s, %s): renders without errors and without sideways scrolling', async (name, path, view) => {
      const { page, errors, close } = await open(path, view);
      if (name.startsWith('playground')) {
        await page.waitForFunction(() => window.__playground !== undefined);
        await page.evaluate(() => window.__playground?.advance(150));
      }
      if (name === 'iteration') {
        await page.waitForFunction(() => window.__iteration !== undefined);
        for (let i = 0; i < 4; i++) await page.click('#stage-next');
      }
      await page.waitForLoadState('load');
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
        0,
      );
      await screenshot(page, `${name}-${view}`);
      if (view !== 'desktop') await screenshot(page, `${name}-${view}-first-screen`, false);
      expect(errors).toEqual([]);
      await close();
    });
  });
});
