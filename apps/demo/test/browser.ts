/**
 * The demo's browser tests use the project's one Chromium harness
 * (packages/coordinator/test/browser/chromium.ts: Debian's Chromium through playwright-core, static
 * serving on 127.0.0.1, artifacts under test-artifacts/). This file only adds what the demo's pages
 * need on top: the pages that must be built, viewports (desktop and phone), screenshots under
 * test-artifacts/screenshots/, and a collector of page errors.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RoomServer } from '@gradroom/coordinator';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import {
  ARTIFACTS,
  DEMO_DIST,
  hasChromium,
  hasDemoBuild,
  launchChromium,
  serve,
} from '../../../packages/coordinator/test/browser/chromium.js';

export {
  ARTIFACTS,
  CHROMIUM_PATH,
  DEMO_DIST,
  hasChromium,
  hasDemoBuild,
  launchChromium,
  openPage,
  REPO_ROOT,
  type Served,
  serve,
} from '../../../packages/coordinator/test/browser/chromium.js';

export const SCREENSHOTS = join(ARTIFACTS, 'screenshots');
const PAGES = ['index.html', 'playground.js', 'ewa.js', 'host.js', 'volunteer.js'];

/** Why the browser tests cannot run here, or null when they can. */
export function whyNoBrowser(): string | null {
  if (!hasChromium()) return 'no Chromium (node scripts/bootstrap.mjs --browser, or set GRADROOM_CHROMIUM)';
  if (!hasDemoBuild()) return 'apps/demo/dist lacks the worker bundle, wasm files or mnist.bin (npm run build)';
  for (const p of PAGES) if (!existsSync(join(DEMO_DIST, p))) return `apps/demo/dist/${p} is missing (npm run build)`;
  return null;
}

/**
 * For one describe block: a room server serving the built demo on 127.0.0.1 and one Chromium, both
 * closed after the block. Read `server` and `browser` inside the tests (they are set in beforeAll).
 */
export function roomAndBrowser(): { server: RoomServer; browser: Browser } {
  const f = { server: undefined as unknown as RoomServer, browser: undefined as unknown as Browser };
  beforeAll(async () => {
    f.server = await RoomServer.start({ port: 0, dist: DEMO_DIST, log: () => {} });
    f.browser = await launchChromium();
  });
  afterAll(async () => {
    await f.browser?.close();
    await f.server?.close();
  });
  return f;
}

/** apps/demo/dist on 127.0.0.1 at a random port (pages that need no room server). */
export function serveDemo() {
  return serve([DEMO_DIST]);
}

/** Page errors, console errors and failed requests, which every test checks are absent. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return errors;
}

export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
} as const;

/** Saves test-artifacts/screenshots/NAME.png: the whole page, or only what the viewport shows. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** How far the page scrolls sideways (0 when it fits its viewport). */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}
