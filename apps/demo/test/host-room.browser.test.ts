// The host page with its coordinator in a Web Worker, in real Chromium:
// - events arrive faster than the page renders (its main thread is kept busy on purpose), and every
//   chart, counter and the series still end on the trainer's own figures;
// - the room survives a host reload: two volunteers reconnect by themselves, saying so meanwhile;
// - students are people: a name asked once and remembered, one row per student across a rejoin,
//   a left-the-room state, the end-of-run summary and CSV exports;
// - the projector view at 1280x720 shows the charts, the QR code, the people count and the controls.
import { readFile } from 'node:fs/promises';
import { RoomServer } from '@gradroom/coordinator';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  collectErrors,
  DEMO_DIST,
  launchChromium,
  screenshot,
  sidewaysOverflow,
  VIEWPORTS,
  whyNoBrowser,
} from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

type HostApi = NonNullable<Window['__host']>;
const host = <K extends keyof HostApi>(page: Page, key: K) =>
  page.evaluate((k) => {
    const api = window.__host;
    if (!api) throw new Error('no window.__host');
    return (api[k] as () => unknown)();
  }, key) as Promise<Awaited<ReturnType<HostApi[K]>>>;

type VolunteerKey = 'state' | 'retries' | 'reconnects' | 'said' | 'backendWhy' | 'name' | 'speed';
const volunteer = (page: Page, key: VolunteerKey) =>
  page.evaluate(
    (k) => (window as unknown as { gradroomVolunteer: Record<string, () => unknown> }).gradroomVolunteer[k](),
    key,
  );

/** Whether an element's box lies inside the viewport. */
function onScreen(page: Page, selector: string) {
  return page.evaluate((sel) => {
    const e = document.querySelector(sel);
    if (!e) return `${sel}: missing`;
    const r = e.getBoundingClientRect();
    const ok =
      r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
    return ok
      ? 'ok'
      : `${sel}: ${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}`;
  }, selector);
}

describe.skipIf(skip)('host page with its coordinator in a Web Worker', () => {
  let server: RoomServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    server = await RoomServer.start({ port: 0, dist: DEMO_DIST, log: (l) => logs.push(`[server] ${l}`) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(url: string, name: string, view: keyof typeof VIEWPORTS = 'desktop', context?: BrowserContext) {
    const ctx = context ?? (await browser.newContext(VIEWPORTS[view]));
    if (!context) contexts.push(ctx);
    const page = await ctx.newPage();
    const errors = collectErrors(page);
    page.on('console', (m) => logs.push(`[${name}] ${m.text()}`));
    await page.goto(url);
    return { page, errors, context: ctx };
  }

  it('keeps every chart and counter equal to the trainer when events come faster than it renders', {
    timeout: 60_000,
  }, async () => {
    onTestFailed(() => console.error(logs.slice(-60).join('\n')));
    const { page, errors } = await open(`${server.url}/host.html?backend=wasm`, 'busy');
    await page.waitForFunction(() => window.__host !== undefined);
    await page.check('#local-workers');
    await page.fill('#local-count', '2');
    await page.selectOption('#batch-size', '128');
    await page.fill('#epochs', '1');
    // the page's thread is busy 150 ms of every 200: events queue up between its turns
    await page.evaluate(() => {
      setInterval(() => {
        const t = performance.now();
        while (performance.now() - t < 150);
      }, 200);
    });
    const t0 = performance.now();
    await page.click('#start');
    await page.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 50_000, polling: 200 });
    const seconds = (performance.now() - t0) / 1000;
    const truth = await host(page, 'truth');
    const last = truth.last;
    if (!last) throw new Error('the trainer emitted no iteration');
    expect(truth.iterations).toBe(Math.ceil(7996 / 128));
    // the full series: one point per iteration, the trainer's numbers
    const loss = await host(page, 'loss');
    expect(loss[0]).toEqual(Array.from({ length: truth.iterations }, (_, i) => i + 1));
    expect(loss[1].at(-1)).toBe(last.loss);
    expect(await host(page, 'steps')).toBe(truth.examples);
    // what is drawn ends on the trainer's last figures
    await page.waitForTimeout(400); // one more render tick after 'done'
    const drawn = await host(page, 'drawn');
    expect(drawn.last.loss).toEqual([last.iteration, last.loss, last.lossSmoothed]);
    expect(drawn.last.lr).toEqual([last.iteration, last.lr]);
    expect(drawn.last.speed).toEqual([last.iteration, last.examplesPerSec, last.fastestAloneExamplesPerSec]);
    const t = last.timing;
    expect(drawn.last.timing[0]).toBe(last.iteration);
    expect(drawn.last.timing[1]).toBeCloseTo(t.computeMs + t.transferMs + t.waitMs + t.stepMs, 9);
    expect(drawn.last.timing[4]).toBe(t.computeMs);
    const epoch = truth.epochs.at(-1);
    expect(drawn.last.accuracy).toEqual([1, epoch?.testAccuracy, epoch?.trainAccuracy]);
    // the counters
    expect(await page.textContent('#count-iteration')).toBe(String(truth.iterations));
    expect(await page.textContent('#count-steps')).toBe(truth.examples.toLocaleString('en'));
    expect(await page.textContent('#count-loss')).toBe(last.lossSmoothed.toFixed(4));
    expect(await page.textContent('#count-accuracy')).toBe(`${((epoch?.testAccuracy ?? 0) * 100).toFixed(1)}%`);
    expect(await page.textContent('#count-ratio')).toMatch(/^room vs fastest member alone: \d+\.\d\d×$/);
    expect(await page.textContent('#speed-why')).toMatch(/dominates/);
    // redraws follow the clock (once a second, 5 charts), not the events (5 charts x 63 iterations)
    const redraws = await host(page, 'redraws');
    expect(redraws).toBeLessThan(5 * (seconds + 4));
    expect(redraws).toBeLessThan(5 * truth.iterations);
    // the loss axis on a log scale, and back: same data, drawn again
    expect((await host(page, 'lossScale')).distr).toBe(1);
    await page.click('label[for="log-scale"]');
    const logScale = await host(page, 'lossScale');
    expect(logScale.distr).toBe(3);
    expect(logScale.min).toBeGreaterThan(0);
    expect(logScale.max).toBeGreaterThanOrEqual(Math.max(...loss[1]));
    expect((await host(page, 'drawn')).last.loss).toEqual([last.iteration, last.loss, last.lossSmoothed]);
    await page.click('label[for="log-scale"]');
    expect((await host(page, 'lossScale')).distr).toBe(1);
    // the run as CSV: a header and one row per iteration, through the page's download
    const download = page.waitForEvent('download');
    await page.click('#export-series');
    const csv = await readFile(await (await download).path(), 'utf8');
    const rows = csv.trim().split('\n');
    expect(rows).toHaveLength(truth.iterations + 1);
    expect(rows[0].split(',').slice(0, 4)).toEqual(['iteration', 'epoch', 'examples', 'loss']);
    expect(Number(rows.at(-1)?.split(',')[3])).toBe(last.loss);
    const png = page.waitForEvent('download');
    await page.click('#export-png');
    const image = await readFile(await (await png).path());
    expect(image.subarray(1, 4).toString()).toBe('PNG');
    expect(errors).toEqual([]);
  });

  it('the room survives a host reload; students keep one row each; projector view at 1280x720', {
    timeout: 120_000,
  }, async () => {
    onTestFailed(() => console.error(logs.slice(-100).join('\n')));
    const { page: hostPage, errors: hostErrors } = await open(`${server.url}/host.html`, 'host');
    await hostPage.waitForFunction(() => window.__host !== undefined);
    await hostPage.click('#create-room');
    await hostPage.waitForFunction(() => window.__host?.joinUrl() != null);
    const link = (await hostPage.inputValue('#join-link')) as string;
    const withBackend = (extra: Record<string, string>) => {
      const u = new URL(link);
      u.searchParams.set('backend', 'wasm');
      for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
      return u.href;
    };

    // alice's link carries her name; bob types his into the join page, which remembers it
    const { page: alice, errors: aliceErrors } = await open(withBackend({ name: 'alice' }), 'alice');
    // what alice's tab (its page and its Web Worker) fetches from the server's data folder
    const aliceData: string[] = [];
    alice.context().on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/data/')) aliceData.push(path);
    });
    const { page: bob, errors: bobErrors, context: bobContext } = await open(withBackend({}), 'bob', 'phone');
    await bob.waitForSelector('#join:not([hidden])');
    expect(await bob.isHidden('#token-row')).toBe(true); // the link brought the room
    await screenshot(bob, 'volunteer-phone-join-form', false);
    await bob.fill('#name', 'bob');
    await bob.click('#join button[type="submit"]');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 2, null, { timeout: 30_000 });
    const names = async () => (await host(hostPage, 'workers')).map((w) => w.name).sort();
    expect(await names()).toEqual(['alice', 'bob']);

    // the host reloads: same room, same link; the volunteers say the host is reconnecting, then rejoin
    await hostPage.reload();
    await hostPage.waitForFunction(() => window.__host?.joinUrl() != null, null, { timeout: 20_000 });
    expect(await hostPage.inputValue('#join-link')).toBe(link);
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 2, null, { timeout: 45_000 });
    for (const v of [alice, bob]) {
      expect(await volunteer(v, 'reconnects')).toBeGreaterThanOrEqual(1);
      expect(await volunteer(v, 'said')).toContainEqual(expect.stringMatching(/host (is|may be) reconnecting/));
    }
    expect(await names()).toEqual(['alice', 'bob']);
    expect(await volunteer(bob, 'name')).toBe('bob');

    // a run with both, every laptop taking part (what this tests is the roster, not the planner)
    await hostPage.check('#everyone');
    await hostPage.selectOption('#batch-size', '256');
    await hostPage.fill('#epochs', '1');
    await hostPage.click('#start');
    await hostPage.waitForFunction(() => (window.__host?.iteration() ?? 0) >= 5, null, { timeout: 30_000 });
    expect(await volunteer(alice, 'backendWhy')).toMatch(/^wasm/);
    // bob pauses and resumes: one row, two sessions, examples of both
    await hostPage.waitForFunction(() => (window.__host?.workers().find((w) => w.name === 'bob')?.examples ?? 0) > 0);
    await bob.click('#pause');
    await hostPage.waitForTimeout(300);
    const bobFirst = (await host(hostPage, 'workers')).find((w) => w.name === 'bob')?.examples ?? 0;
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 1);
    await bob.click('#pause');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 2, null, { timeout: 30_000 });
    await hostPage.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 60_000 });
    const rows = await host(hostPage, 'workers');
    expect(rows.map((w) => w.name).sort()).toEqual(['alice', 'bob']);
    expect(await hostPage.locator('#workers tr[data-key="v:bob"]').textContent()).toMatch(/joined 2 times/);
    expect(bobFirst).toBeGreaterThan(0);
    expect(rows.find((w) => w.name === 'bob')?.examples).toBeGreaterThan(bobFirst);
    // exact mode on MNIST: the host sent alice the examples of her shards with them (shardExamples);
    // her tab fetched the chunked MNIST's manifest, and no training chunk nor the whole file (the
    // test file only where she evaluated: this room has no worker of the host's own)
    expect(rows.find((w) => w.name === 'alice')?.examples).toBeGreaterThan(0);
    expect(aliceData).toContain('/data/chunks/mnist/manifest.json');
    expect(
      aliceData.filter((p) => p !== '/data/chunks/mnist/manifest.json' && p !== '/data/chunks/mnist/test.bin'),
    ).toEqual([]);

    // the summary and its CSV
    expect(await hostPage.isVisible('#summary')).toBe(true);
    const summary = (await host(hostPage, 'summaryCsv')).trim().split('\n');
    expect(summary[0]).toBe('name,kind,backend,examples,share of all examples,seconds in the room,sessions,state');
    expect(
      summary
        .slice(1, 3)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(['alice', 'bob']);
    expect(summary.find((l) => l.startsWith('bob,'))?.split(',')[6]).toBe('2');
    expect(summary[3]).toMatch(/^the room,all,,7996,1,\d+,,test accuracy \d+\.\d%$/);

    // alice leaves: her row stays, marked
    await alice.click('#leave');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 1);
    await expect
      .poll(() => hostPage.locator('#workers tr[data-key="v:alice"] [data-col="status"]').textContent(), {
        timeout: 5000,
      })
      .toBe('left the room'); // the table redraws at most once a second
    // the room log names people and says "left" once
    const logText = (await hostPage.textContent('#log')) ?? '';
    expect(logText).toMatch(/alice left/);
    expect(logText).not.toMatch(/left: left/);

    // bob's page remembers his name after a reload and joins at once
    const bobAgain = await bobContext.newPage();
    await bobAgain.goto(withBackend({}));
    await bobAgain.waitForFunction(
      () => (window as unknown as { gradroomVolunteer?: { name(): string } }).gradroomVolunteer?.name() === 'bob',
    );
    expect(await bobAgain.isHidden('#join')).toBe(true);

    // projector view at 1280x720: charts, QR code, people count and every control on screen
    await hostPage.setViewportSize({ width: 1280, height: 720 });
    await hostPage.click('#projector-toggle');
    await hostPage.waitForTimeout(400);
    for (const sel of [
      '#loss-chart',
      '#accuracy-chart',
      '#projector-qr',
      '#projector-people',
      '#projector-pause',
      '#projector-lr',
      '#projector-stop',
      '#projector-accuracy',
      '#projector-toggle',
    ])
      expect(await onScreen(hostPage, sel)).toBe('ok');
    expect(await sidewaysOverflow(hostPage)).toBeLessThanOrEqual(0);
    await screenshot(hostPage, 'host-projector', false);
    await hostPage.click('#projector-toggle');
    await hostPage.setViewportSize(VIEWPORTS.desktop.viewport);
    await screenshot(hostPage, 'host-desktop-after-run');
    await screenshot(alice, 'volunteer-desktop-left');

    expect(hostErrors).toEqual([]);
    expect(aliceErrors).toEqual([]);
    expect(bobErrors).toEqual([]);
  });
});
