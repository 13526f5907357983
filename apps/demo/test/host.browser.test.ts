// The classroom demo in real Chromium: a room server (Node) serves the built demo; the host page
// creates a room and runs the coordinator in its tab; two volunteer tabs (one desktop, one phone
// sized) join through the link the host page shows. MNIST with a small MLP, 3 short epochs
// (mini-batches of 256): the loss chart grows, test accuracy rises across epochs, a learning rate
// set by hand shows in the lr series, Pause stops iterations, a volunteer pauses (leave + rejoin),
// Stop ends a second run. Screenshots of both pages at desktop and phone sizes go to
// test-artifacts/screenshots/.
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

const EPOCHS = 3;
const BATCH = 256;
const MANUAL_LR = 0.002;

type HostApi = NonNullable<Window['__host']>;
const host = <K extends keyof HostApi>(page: Page, key: K) =>
  page.evaluate((k) => {
    const api = window.__host;
    if (!api) throw new Error('no window.__host');
    return (api[k] as () => unknown)();
  }, key) as Promise<ReturnType<HostApi[K]>>;

interface VolunteerApi {
  status(): {
    backend: string;
    examples: number;
    share: number;
    iteration: number;
    epoch: number;
    loss: number;
    state: string;
  } | null;
  state(): string;
  totals(): { examples: number; shards: number };
}
const volunteer = <K extends keyof VolunteerApi>(page: Page, key: K) =>
  page.evaluate(
    (k) => (window as unknown as { gradroomVolunteer: Record<string, () => unknown> }).gradroomVolunteer[k](),
    key,
  ) as Promise<ReturnType<VolunteerApi[K]>>;

/** Inputs, selects and buttons without a visible label or text (screen readers need one). */
function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const c of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) {
      if (!c.labels || c.labels.length === 0 || !c.labels[0].textContent?.trim()) bad.push(c.id || c.outerHTML);
    }
    for (const b of document.querySelectorAll('button')) if (!b.textContent?.trim()) bad.push(b.outerHTML);
    return bad;
  });
}

describe.skipIf(skip)('host and volunteer pages: a classroom room in Chromium', () => {
  let server: RoomServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const serverLog: string[] = [];
  const pageLogs: string[] = [];

  beforeAll(async () => {
    server = await RoomServer.start({ port: 0, dist: DEMO_DIST, log: (l) => serverLog.push(l) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(url: string, name: string, view: keyof typeof VIEWPORTS) {
    const context = await browser.newContext(VIEWPORTS[view]);
    contexts.push(context);
    const page = await context.newPage();
    const errors = collectErrors(page);
    page.on('console', (m) => pageLogs.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => pageLogs.push(`[${name} pageerror] ${e.message}`));
    await page.goto(url);
    return { page, errors };
  }

  it('creates a room, two volunteers join by its link, trains MNIST: loss chart grows, accuracy rises, manual α, pause, stop', {
    timeout: 150_000,
  }, async () => {
    onTestFailed(() => console.error(['server:', ...serverLog, 'pages:', ...pageLogs.slice(-80)].join('\n')));
    const t0 = performance.now();
    const { page: hostPage, errors: hostErrors } = await open(`${server.url}/host.html`, 'host', 'desktop');
    await hostPage.waitForFunction(() => window.__host !== undefined);

    // the lecture's advice for 7,996 examples, shown before anything runs
    // (in a teacher's words, no arithmetic; it advises the list's start, the default, until workers are measured)
    expect(await hostPage.textContent('#batch-advice')).toMatch(
      /^7,996 training examples is more than 2,000, so the lecture says: mini-batches of a power of two that fit in memory \(64, 128, 256, 512 do here\)\. 64 gives the most updates per epoch/,
    );
    expect(await hostPage.isDisabled('#use-advice')).toBe(true);
    await hostPage.selectOption('#batch-size', '512');
    await hostPage.click('#use-advice');
    expect(await hostPage.inputValue('#batch-size')).toBe('64');
    await hostPage.selectOption('#batch-size', String(BATCH));
    expect(await hostPage.textContent('#per-epoch')).toBe('32 iterations per epoch');
    await hostPage.fill('#epochs', String(EPOCHS));
    // the optimizer's own fields follow the choice
    await hostPage.selectOption('#optimizer', 'momentum');
    expect(await hostPage.isVisible('#momentum-beta')).toBe(true);
    expect(await hostPage.isVisible('#beta2')).toBe(false);
    await hostPage.selectOption('#optimizer', 'adam');
    expect(await hostPage.inputValue('#lr')).toBe('0.005');
    expect(await hostPage.isVisible('#beta2')).toBe(true);

    // the room and its link
    await hostPage.click('#create-room');
    await hostPage.waitForFunction(() => window.__host?.joinUrl() != null);
    const link = await hostPage.inputValue('#join-link');
    expect(link).toMatch(new RegExp(`^${server.url}/volunteer\\.html#room=[\\w-]{20,}$`));
    const qrDark = await hostPage.evaluate(() => {
      const c = document.getElementById('qr') as HTMLCanvasElement;
      const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 100) dark++;
      return dark / (d.length / 4);
    });
    expect(qrDark).toBeGreaterThan(0.2); // a QR code is about half dark modules
    expect(qrDark).toBeLessThan(0.8);

    const join = (name: string) => {
      const u = new URL(link);
      u.searchParams.set('backend', 'wasm');
      u.searchParams.set('name', name);
      return u.href;
    };
    expect(await unlabelled(hostPage)).toEqual([]);
    const { page: alice, errors: aliceErrors } = await open(join('alice'), 'alice', 'desktop');
    const { page: bob, errors: bobErrors } = await open(join('bob'), 'bob', 'phone');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 2, null, { timeout: 30_000 });
    expect(await hostPage.textContent('#room-people')).toContain('2 volunteers in the room');
    // the table redraws at most once a second
    await expect.poll(() => hostPage.locator('#workers tr').count(), { timeout: 5000 }).toBe(2);

    // train
    await hostPage.click('#start');
    await hostPage.waitForFunction(() => (window.__host?.iteration() ?? 0) >= 3, null, { timeout: 30_000 });
    const early = (await host(hostPage, 'loss'))[0].length;
    await hostPage.waitForFunction((n) => (window.__host?.loss()[0].length ?? 0) >= n + 5, early);
    const loss = await host(hostPage, 'loss');
    expect(loss[0].length).toBeGreaterThanOrEqual(early + 5);
    expect(loss[0]).toEqual(loss[0].map((_, i) => i + 1)); // one point per iteration
    expect(loss[1].every((x) => Number.isFinite(x) && x > 0)).toBe(true);
    // charts redraw while in view (a chart scrolled away waits until it shows)
    await hostPage.locator('#loss-chart').scrollIntoViewIfNeeded();
    await expect.poll(() => host(hostPage, 'drawn').then((d) => d.loss)).toBeGreaterThanOrEqual(early + 5);

    // Pause: the iteration in flight finishes, then no more
    await hostPage.click('#pause');
    await hostPage.waitForFunction(() => window.__host?.phase() === 'paused');
    expect(await hostPage.textContent('#pause')).toBe('Resume');
    // the iteration in flight (if any) finishes: wait until the count holds still, then watch it for a second
    let pausedAt = await host(hostPage, 'iteration');
    for (let i = 0; i < 20; i++) {
      await hostPage.waitForTimeout(250);
      const now = await host(hostPage, 'iteration');
      if (now === pausedAt) break;
      pausedAt = now;
    }
    await hostPage.waitForTimeout(1000);
    expect(await host(hostPage, 'iteration')).toBe(pausedAt);
    // the pause reaches the volunteers, in words
    for (const p of [alice, bob])
      await expect.poll(() => p.textContent('#status'), { timeout: 10_000 }).toMatch(/^Paused by the teacher/);
    await hostPage.click('#pause');
    await hostPage.waitForFunction((n) => (window.__host?.iteration() ?? 0) > n, pausedAt);

    // manual decay, in epoch 2
    await hostPage.waitForFunction(() => (window.__host?.iteration() ?? 0) > 36, null, { timeout: 30_000 });
    await hostPage.fill('#manual-lr', String(MANUAL_LR));
    const setAt = await host(hostPage, 'iteration');
    await hostPage.click('#set-lr');
    await expect.poll(() => host(hostPage, 'lrChanges').then((c) => c.length)).toBe(1);

    await hostPage.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 90_000 });
    // the first iteration that used it (one in flight when α changed keeps its α)
    const [change] = await host(hostPage, 'lrChanges');
    expect(change.lr).toBe(MANUAL_LR);
    expect(change.iteration).toBeGreaterThan(setAt);
    // the page's count lags the coordinator's by the events in flight (a few at 50 iterations a second)
    expect(change.iteration).toBeLessThanOrEqual(setAt + 10);
    const [its, lrs] = await host(hostPage, 'lr');
    expect(its.length).toBe(EPOCHS * 32);
    for (let i = 0; i < its.length; i++) {
      if (its[i] >= change.iteration) expect(lrs[i]).toBe(MANUAL_LR);
      else expect(lrs[i]).toBeCloseTo(0.005 / (1 + 0.3 * Math.floor((its[i] - 1) / 32)), 12); // inverse-time decay
    }
    const [epochs, testAcc] = await host(hostPage, 'accuracy');
    expect(epochs).toEqual([1, 2, 3]);
    expect(testAcc[EPOCHS - 1]).toBeGreaterThan(testAcc[0]);
    expect(testAcc[EPOCHS - 1]).toBeGreaterThan(0.85);
    await expect.poll(() => host(hostPage, 'drawn').then((d) => d.accuracy)).toBe(EPOCHS);
    expect(await hostPage.textContent('#count-epoch')).toBe(`${EPOCHS} of ${EPOCHS}`);
    expect(await hostPage.textContent('#count-iteration')).toBe(String(EPOCHS * 32));
    expect(await hostPage.textContent('#count-steps')).toBe((EPOCHS * 7996).toLocaleString('en'));
    expect(await hostPage.textContent('#run-state')).toMatch(/^Done\. Test accuracy \d+\.\d%\.$/);
    // and the end of the run, with its accuracy
    for (const p of [alice, bob])
      await expect
        .poll(() => p.textContent('#status'), { timeout: 10_000 })
        .toMatch(/^Finished: test accuracy \d+\.\d %/);

    // every worker has a backend, a measured speed and a share
    const workers = await host(hostPage, 'workers');
    expect(workers.map((w) => w.name).sort()).toEqual(['alice', 'bob']);
    for (const w of workers) {
      expect(w.backend).toBe('wasm');
      expect(w.speed).toBeGreaterThan(0);
      expect(w.examples).toBeGreaterThan(0);
    }
    // the last mini-batch was split among them (the planner may leave one standing by)
    expect(workers.reduce((a, w) => a + w.share, 0)).toBeCloseTo(1, 6);
    // bias correction toggles the smoothed series between lossSmoothed and lossSmoothedRaw
    const corrected = (await host(hostPage, 'loss'))[2][0];
    await hostPage.click('label[for="bias-correction"]');
    const raw = (await host(hostPage, 'loss'))[2][0];
    expect(raw).toBeCloseTo(0.1 * corrected, 9); // v1 = (1 - beta) * loss1, corrected v1 = loss1

    // the volunteers saw the room's progress and their own share
    for (const p of [alice, bob]) {
      // the share of the last iteration may arrive just after the host finished
      await expect.poll(() => p.textContent('#room-iteration')).toBe(String(EPOCHS * 32));
      const s = await volunteer(p, 'status');
      expect(s?.backend).toBe('wasm');
      expect(s?.examples).toBeGreaterThan(0);
      expect(s?.iteration).toBe(EPOCHS * 32);
      // the room's smoothed loss came with it: well below ln(10) = 2.30, the loss of a blind guess
      expect(s?.epoch).toBe(EPOCHS - 1);
      expect(s?.loss).toBeGreaterThan(0);
      expect(s?.loss).toBeLessThan(1);
      expect(await p.textContent('#room-loss')).toBe(Number(s?.loss).toFixed(4));
    }
    expect(await unlabelled(bob)).toEqual([]);
    const bobFirst = (await volunteer(bob, 'totals')).examples;

    // a student draws on the volunteer page: its own tab classifies it with the weights it holds
    await alice.locator('#draw-pad').scrollIntoViewIfNeeded();
    const box = await alice.locator('#draw-pad').boundingBox();
    if (!box) throw new Error('no draw pad on the volunteer page');
    await alice.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await alice.mouse.down();
    for (let i = 1; i <= 10; i++)
      await alice.mouse.move(box.x + box.width * 0.52, box.y + box.height * (0.15 + 0.07 * i));
    await alice.mouse.up();
    await expect.poll(() => alice.textContent('#draw-result')).toMatch(/^Looks like 1 \(\d+%\), then \d \(\d+%\)\.$/);

    // screenshots: host and volunteers, desktop and phone
    await screenshot(hostPage, 'host-desktop');
    await screenshot(alice, 'volunteer-desktop');
    await screenshot(bob, 'volunteer-phone');
    await screenshot(bob, 'volunteer-phone-first-screen', false);
    expect(await sidewaysOverflow(bob)).toBeLessThanOrEqual(0);

    // a volunteer pauses (leaves for now) and resumes (joins again)
    await bob.click('#pause');
    expect(await volunteer(bob, 'state')).toBe('paused');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 1);
    await bob.click('#pause');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 2, null, { timeout: 30_000 });

    // a second run with the same room: Stop ends it after the iteration in flight
    await hostPage.click('#start');
    await hostPage.waitForFunction(() => (window.__host?.iteration() ?? 0) >= 2, null, { timeout: 30_000 });
    await hostPage.click('#stop');
    await hostPage.waitForFunction(() => window.__host?.phase() === 'stopped', null, { timeout: 30_000 });
    expect(await host(hostPage, 'iteration')).toBeLessThan(32);
    // the page's totals survive the pause (a new session counts from zero)
    expect((await volunteer(bob, 'totals')).examples).toBeGreaterThanOrEqual(bobFirst);

    await hostPage.setViewportSize(VIEWPORTS.phone.viewport);
    await hostPage.waitForTimeout(300); // the charts follow their boxes (ResizeObserver)
    expect(await sidewaysOverflow(hostPage)).toBeLessThanOrEqual(0);
    await screenshot(hostPage, 'host-phone');
    await screenshot(hostPage, 'host-phone-first-screen', false);

    expect(hostErrors).toEqual([]);
    expect(aliceErrors).toEqual([]);
    expect(bobErrors).toEqual([]);
    console.log(`host test: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('a lone teacher: "this tab trains too" runs without volunteers; a stopped run continues after a reload', {
    timeout: 60_000,
  }, async () => {
    // what `gradroom serve` prints (the server's root) is the landing page, which links the host page
    const { page, errors } = await open(`${server.url}/`, 'lone', 'desktop');
    await page.click('main a[href="host.html"]');
    await page.waitForFunction(() => window.__host !== undefined);
    expect(await unlabelled(page)).toEqual([]);
    await page.goto(`${server.url}/host.html?backend=wasm`);
    await page.waitForFunction(() => window.__host !== undefined);
    await page.click('#start');
    expect(await page.textContent('#run-error')).toMatch(/Create a room .* or tick/);
    await page.check('#local-workers');
    await page.fill('#local-count', '2');
    await page.selectOption('#batch-size', '512');
    await page.fill('#epochs', '1');
    await page.click('#start');
    await page.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 45_000 });
    const workers = await host(page, 'workers');
    expect(workers.map((w) => w.name)).toEqual(['This tab, Web Worker 1', 'This tab, Web Worker 2']);
    expect((await host(page, 'accuracy'))[1][0]).toBeGreaterThan(0.7);
    // a finished run is not offered for continuing
    expect(await page.isHidden('#continue-run')).toBe(true);

    // a run stopped mid-way is saved in the browser and continues after a reload
    await page.fill('#epochs', '2');
    await page.click('#start');
    await page.waitForFunction(() => (window.__host?.iteration() ?? 0) >= 4, null, { timeout: 45_000 });
    await page.click('#stop');
    await page.waitForFunction(() => window.__host?.phase() === 'stopped', null, { timeout: 30_000 });
    const stoppedAt = await page.evaluate(() => window.__host?.iteration() ?? 0);
    await page.waitForSelector('#continue-run:not([hidden])'); // offered at once, and after a reload
    await page.reload();
    await page.waitForFunction(() => window.__host !== undefined);
    await page.waitForSelector('#continue-run:not([hidden])');
    expect(await page.textContent('#continue-run')).toMatch(
      new RegExp(`Continue the saved run \\(epoch [12] of 2, iteration ${stoppedAt}\\)`),
    );
    await page.check('#local-workers');
    await page.click('#continue-run');
    await page.waitForFunction(() => window.__host?.phase() === 'done', null, { timeout: 45_000 });
    // 7,996 examples in mini-batches of 512: 16 iterations an epoch, 32 in all, none repeated
    expect(await page.evaluate(() => window.__host?.iteration())).toBe(32);
    // the charts keep the run's history from before the reload: every iteration once, in order
    // (what came after the last checkpoint is done again, exactly, and shown once)
    expect((await host(page, 'loss'))[0]).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(await page.textContent('#count-steps')).toBe((2 * 7996).toLocaleString('en'));
    expect(await page.isHidden('#continue-run')).toBe(true);
    expect(errors).toEqual([]);
  });
});
