/**
 * A reusable harness for browser tests: Debian's Chromium driven by playwright-core, a static server
 * on 127.0.0.1 (a secure context, so WebGPU is there) for apps/demo/dist plus a test's own files,
 * esbuild bundling of a test page, and screenshots under test-artifacts/.
 *
 * Usage:
 *   const dir = await bundlePage(join(import.meta.dirname, 'pages', 'my-page.ts'));
 *   const server = await serve([dir, DEMO_DIST]);
 *   const browser = await launchChromium();
 *   const page = await openPage(browser, server.url('/my-page.html'));
 *
 * The demo must be built first (npm run build): the page loads dist/worker.js, dist/wasm/ and
 * dist/data/mnist.bin from the server. Chromium comes from `node scripts/bootstrap.mjs --browser`.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { staticFiles } from '../../src/server/static.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..', '..');
export const DEMO_DIST = join(REPO_ROOT, 'apps', 'demo', 'dist');
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
/** Whether the demo was built (the worker bundle, wasm files and mnist.bin the pages load). */
export function hasDemoBuild(): boolean {
  return ['worker.js', 'wasm', join('data', 'mnist.bin')].every((f) => existsSync(join(DEMO_DIST, f)));
}

export { CHROMIUM_ARGS, CHROMIUM_PATH, hasChromium, launchChromium } from '../../../../scripts/chromium.mjs';

export interface Served {
  /** e.g. http://127.0.0.1:43121 */
  origin: string;
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * Serves the given folders on 127.0.0.1 at a random port, first match wins, with the COOP/COEP
 * headers of the product's server (staticFiles).
 */
export async function serve(roots: string[]): Promise<Served> {
  const handlers = roots.map((r) => staticFiles(r));
  const server: Server = createServer(async (req, res) => {
    try {
      for (const h of handlers) if (await h(req, res)) return;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => new URL(path, origin).href,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Bundles a test page's TypeScript entry for the browser into `outdir` (default: a fresh temporary
 * folder) as NAME.js, next to a NAME.html that loads it as a module. Returns the folder.
 */
export async function bundlePage(entry: string, opts: { outdir?: string; title?: string } = {}): Promise<string> {
  const name = basename(entry).replace(/\.[cm]?tsx?$|\.[cm]?js$/, '');
  const outdir = opts.outdir ?? (await mkdtemp(join(tmpdir(), 'gradroom-page-')));
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { [name]: entry },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'warning',
    // the same as apps/demo/build.mjs: tfjs-backend-wasm names Node modules on paths a browser never takes
    external: ['fs', 'path', 'crypto', 'worker_threads', 'perf_hooks', 'os', 'util'],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const html = `<!doctype html><meta charset="utf-8"><title>${opts.title ?? name}</title><body><pre id="log"></pre><script type="module" src="./${name}.js"></script>`;
  await writeFile(join(outdir, `${name}.html`), html);
  return outdir;
}

/** Removes a folder made by bundlePage. */
export async function removeBundle(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Opens `url` in a new page; the page's console and errors (and its workers' errors) are kept in
 * `logs`, which test failures can print.
 */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; logs: string[] }> {
  const page = await browser.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.on('worker', (w) => w.on('close', () => logs.push(`[worker closed] ${w.url()}`)));
  await page.goto(url);
  return { page, logs };
}

/** Saves a screenshot as test-artifacts/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
