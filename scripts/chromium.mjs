// Debian's Chromium driven by playwright-core: the one place that knows its path and the flags that
// work here as root (PLATFORM.md). Tests (packages/coordinator/test/browser/chromium.ts) and the
// benchmarks in bench/ launch it through this module.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.GRADROOM_CHROMIUM ?? '/usr/bin/chromium';

/**
 * --enable-unsafe-webgpu is what WebGPU needs: it then runs on SwiftShader (a fallback adapter),
 * also in module Web Workers. --disable-gpu is not needed: WebGPU and WebGL fall back to SwiftShader
 * on their own when there is no GPU. The network flags keep Chromium off this machine's closed network.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

export function hasChromium() {
  return existsSync(CHROMIUM_PATH);
}

/** Launches headless Chromium; `opts` are playwright's launch options, `opts.args` adds flags. */
export function launchChromium(opts = {}) {
  if (!hasChromium()) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: run node scripts/bootstrap.mjs --browser, or set GRADROOM_CHROMIUM`,
    );
  }
  const { args = [], ...rest } = opts;
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, ...rest, args: [...CHROMIUM_ARGS, ...args] });
}
