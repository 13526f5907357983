/**
 * Browser test helpers for the demo: Debian's Chromium through playwright-core, apps/demo/dist served
 * on 127.0.0.1 at a random port by @gradroom/coordinator's staticFiles, screenshots under
 * test-artifacts/screenshots/.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { staticFiles } from '@gradroom/coordinator';
import { type Browser, chromium, type Page } from 'playwright-core';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
export const DIST = join(REPO_ROOT, 'apps', 'demo', 'dist');
export const SCREENSHOTS = join(REPO_ROOT, 'test-artifacts', 'screenshots');
export const CHROMIUM = process.env.GRADROOM_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or null when they can. */
export function whyNoBrowser(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (node scripts/bootstrap.mjs --browser)`;
  for (const page of ['playground', 'ewa']) {
    if (!existsSync(join(DIST, `${page}.js`))) return `apps/demo/dist/${page}.js is missing (npm run build)`;
  }
  return null;
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

export async function serveDist(): Promise<{ url(path: string): string; close(): Promise<void> }> {
  const handler = staticFiles(DIST);
  const server = createServer(async (req, res) => {
    if (!(await handler(req, res))) res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path) => new URL(path, origin).href,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Page errors and console errors, which every test checks are absent. */
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
