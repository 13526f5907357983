// The projector view for the back row, in Chromium with a real room: fonts and ticks scale with the
// screen (at 1920x1080 axis fonts of 20 px and more, headline figures of 48 px and more), the charts
// and controls stay on screen at 1280x720, and the students' names and what each is doing show.
import { RoomServer } from '@gradroom/coordinator';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { collectErrors, DEMO_DIST, launchChromium, screenshot, sidewaysOverflow, whyNoBrowser } from './browser.js';

const missing = whyNoBrowser();
const skip = process.env.GRADROOM_SKIP_BROWSER === '1';
if (missing && !skip) throw new Error(`the demo's browser tests cannot run: ${missing}`);

/** The smallest computed font size (px) of the elements `selector` matches. */
const minFont = (page: Page, selector: string) =>
  page.$$eval(selector, (es) => Math.min(...es.map((e) => Number.parseFloat(getComputedStyle(e).fontSize))));

describe.skipIf(skip)('host page: the projector view', () => {
  let server: RoomServer;
  let browser: Browser;
  const logs: string[] = [];
  beforeAll(async () => {
    server = await RoomServer.start({ port: 0, dist: DEMO_DIST, log: (l) => logs.push(`[server] ${l}`) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('scales with the screen and names the students with what each is doing', { timeout: 120_000 }, async () => {
    onTestFailed(() => console.error(logs.slice(-60).join('\n')));
    const hostPage = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    const errors = collectErrors(hostPage);
    await hostPage.goto(`${server.url}/host.html`);
    await hostPage.waitForFunction(() => window.__host !== undefined);
    await hostPage.click('#create-room');
    await hostPage.waitForFunction(() => window.__host?.joinUrl() != null);
    const link = new URL(await hostPage.inputValue('#join-link'));
    link.searchParams.set('backend', 'wasm');
    link.searchParams.set('name', 'Cleo');
    const student = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const studentErrors = collectErrors(student);
    await student.goto(link.href);
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 1, null, { timeout: 30_000 });
    await hostPage.check('#everyone');
    await hostPage.selectOption('#batch-size', '128');
    await hostPage.fill('#epochs', '3');
    await hostPage.click('#start');
    await hostPage.waitForFunction(() => (window.__host?.iteration() ?? 0) >= 3, null, { timeout: 60_000 });

    // laptop size, not projected: uPlot's own 12 px
    expect(Math.min(...(await hostPage.evaluate(() => window.__host?.axisFonts() ?? [0])))).toBe(12);
    await hostPage.click('#projector-toggle');
    await expect
      .poll(async () => Math.min(...(await hostPage.evaluate(() => window.__host?.axisFonts() ?? [0]))), {
        timeout: 5000,
      })
      .toBeGreaterThanOrEqual(20);
    expect(await minFont(hostPage, '.projector-figures .big')).toBeGreaterThanOrEqual(48);
    expect(await minFont(hostPage, 'body.projector .u-legend')).toBeGreaterThanOrEqual(20);
    // Cleo by name, training
    await expect
      .poll(() => hostPage.locator('#projector-names li').allTextContents(), { timeout: 5000 })
      .toEqual(['Cleo training']);
    // the room code and the short link a student types on a phone: the code lands them in the room
    const code = (await hostPage.textContent('#projector-code')) ?? '';
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    const typed = (await hostPage.textContent('#projector-link')) ?? '';
    expect(typed).toBe(`${new URL(server.url).host}/j/${code}`);
    expect(await minFont(hostPage, '#projector-code')).toBeGreaterThanOrEqual(48);
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phoneErrors = collectErrors(phone);
    await phone.goto(`http://${typed.replace(code, code.toLowerCase())}`);
    expect(new URL(phone.url()).pathname).toBe('/volunteer.html');
    await phone.waitForSelector('#join:not([hidden])');
    expect(await phone.isHidden('#token-row')).toBe(true); // the code brought the room
    await phone.fill('#name', 'Dev');
    await phone.click('#join button[type="submit"]');
    await hostPage.waitForFunction(() => window.__host?.volunteers() === 2, null, { timeout: 30_000 });
    await expect
      .poll(async () => (await hostPage.locator('#projector-names li').allTextContents()).sort(), { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining(['Cleo training', expect.stringMatching(/^Dev (training|standing by|joining)$/)]),
      );
    await screenshot(phone, 'volunteer-phone-joined-by-code', false);
    for (const sel of ['#loss-chart', '#accuracy-chart', '#projector-qr', '#projector-names', '#projector-stop'])
      expect(await hostPage.locator(sel).isVisible()).toBe(true);
    expect(await sidewaysOverflow(hostPage)).toBeLessThanOrEqual(0);
    await screenshot(hostPage, 'host-projector-1920', false);

    // a 1280x720 projector: smaller, still above the laptop's, everything on screen
    await hostPage.setViewportSize({ width: 1280, height: 720 });
    await expect
      .poll(async () => Math.min(...(await hostPage.evaluate(() => window.__host?.axisFonts() ?? [0]))), {
        timeout: 5000,
      })
      .toBe(13);
    expect(await minFont(hostPage, '.projector-figures .big')).toBeGreaterThanOrEqual(28);
    for (const sel of ['#loss-chart', '#accuracy-chart', '#projector-qr', '#projector-stop']) {
      const box = await hostPage.locator(sel).boundingBox();
      expect(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 1280 && box.y + box.height <= 720).toBe(true);
    }
    expect(await sidewaysOverflow(hostPage)).toBeLessThanOrEqual(0);
    await screenshot(hostPage, 'host-projector-1280', false);

    await hostPage.click('#projector-toggle');
    await expect
      .poll(async () => Math.min(...(await hostPage.evaluate(() => window.__host?.axisFonts() ?? [0]))), {
        timeout: 5000,
      })
      .toBe(12);
    await hostPage.click('#stop');
    await hostPage.waitForFunction(() => window.__host?.phase() === 'stopped', null, { timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(studentErrors).toEqual([]);
    expect(phoneErrors).toEqual([]);
  });
});
