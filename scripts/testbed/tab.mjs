#!/usr/bin/env node
// One testbed volunteer as a Chromium tab: Debian's Chromium (playwright-core) opens the demo's
// volunteer page from the room server and joins over WebRTC. The testbed starts it inside the tab's
// own network namespace and cgroup. The page is served over plain http from the coordinator's
// private address, so that origin is marked secure (the page checks data with crypto.subtle).
// Usage: node tab.mjs '{"url":"http://10.213.0.1:port","token":"...","name":"tab0"}'
import { launchChromium } from '../chromium.mjs';

const o = JSON.parse(process.argv[2] ?? '{}');
const say = (line) => console.log(`TBV ${o.name} ${line}`);
// bounded: the testbed ends a run long before this
const MAX_MS = 2 * 60 * 60 * 1000;
let browser;
try {
  browser = await launchChromium({
    args: [
      `--unsafely-treat-insecure-origin-as-secure=${o.url}`,
      // host candidates as plain addresses: the Node coordinator then needs no mDNS to reach the tab
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
  const page = await browser.newPage();
  page.on('pageerror', (e) => say(`pageerror ${e.message}`));
  await page.goto(`${o.url}/volunteer.html?backend=${o.backend ?? 'wasm'}&name=${o.name}#room=${o.token}`);
  say('opened');
  const start = Date.now();
  let connected = false;
  while (Date.now() - start < MAX_MS) {
    const s = await page.evaluate(() => window.gradroomVolunteer?.status?.()).catch(() => undefined);
    if (s?.via && !connected) {
      connected = true;
      say(`connected via ${s.via}`);
    }
    if (s?.state === 'left') {
      say(`done: ${s.reason ?? 'left'} (examples ${s.examples}, shards ${s.shards})`);
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await browser.close();
  process.exit(0);
} catch (e) {
  say(`failed: ${e.message}`);
  await browser?.close().catch(() => {});
  process.exit(2);
}
