#!/usr/bin/env node
// Installs what a fresh machine (Node 20 and npm only) lacks: pnpm, the workspace's packages and,
// with --browser, Chromium from Debian's packages for the browser tests (and Xvfb, for the benchmark
// that needs real, headful windows). Idempotent and quiet when everything is already there.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pnpm } from './pnpm.mjs';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const want = (f) => join(root, f);

function mtime(f) {
  try {
    return statSync(f).mtimeMs;
  } catch {
    return 0;
  }
}

const stamp = want('node_modules/.modules.yaml');
if (!existsSync(stamp) || mtime(want('pnpm-lock.yaml')) > mtime(stamp)) {
  console.log('[gradroom] installing packages (pnpm install --frozen-lockfile)');
  if (pnpm(['install', '--frozen-lockfile', '--reporter=append-only']) !== 0) {
    console.error('[gradroom] pnpm install failed');
    process.exit(1);
  }
}

if (process.argv.includes('--browser')) {
  const chromium = process.env.GRADROOM_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const sudo = isRoot ? [] : ['sudo', '-n'];
    console.log('[gradroom] installing Chromium from Debian packages (apt-get install chromium)');
    const run = (args) =>
      spawnSync(sudo.length ? sudo[0] : args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1), {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status;
    if (
      run(['apt-get', 'update']) !== 0 ||
      run(['apt-get', 'install', '-y', '--no-install-recommends', 'chromium']) !== 0
    ) {
      console.error(
        '[gradroom] could not install Chromium; the browser tests need it (set GRADROOM_CHROMIUM to an existing binary)',
      );
      process.exit(1);
    }
  }
}

// The network testbed (scripts/testbed, its test and bench) needs `ip` and `tc` from Debian's
// iproute2. Installed only as root, where the testbed can run at all; elsewhere it says it needs root.
if (process.argv.includes('--browser') || process.argv.includes('--testbed')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const has = (tool) => spawnSync(tool, ['-V'], { stdio: 'ignore' }).status === 0;
  if (process.platform === 'linux' && isRoot && (!has('ip') || !has('tc'))) {
    console.log('[gradroom] installing iproute2 for the network testbed (apt-get install iproute2)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const ok =
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status === 0 &&
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'iproute2'], { stdio: 'inherit', env })
        .status === 0;
    if (!ok) console.error('[gradroom] could not install iproute2; the testbed tests will be skipped');
  }
}

// The TURN test (packages/coordinator/test/room/room-turn.test.ts) runs a real coturn on loopback:
// `turnserver` from Debian's coturn. Installed only as root with apt-get; elsewhere that test says
// why it cannot run.
if (process.argv.includes('--browser') || process.argv.includes('--turn')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasTurn = spawnSync('turnserver', ['--version'], { stdio: 'ignore' }).status === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.platform === 'linux' && isRoot && hasApt && !hasTurn) {
    console.log('[gradroom] installing coturn for the TURN test (apt-get install coturn)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const ok =
      spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status === 0 &&
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'coturn'], { stdio: 'inherit', env }).status ===
        0;
    if (!ok) console.error('[gradroom] could not install coturn; the TURN test will say it was skipped');
  }
}

// Xvfb: a virtual display for headful Chromium, so bench/host-page.bench.mjs can hide a page behind
// another tab (headless Chromium reports every page visible). Only that benchmark needs it; without
// it the benchmark says so and records itself as not run.
if (process.argv.includes('--browser') && !existsSync('/usr/bin/Xvfb')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = (args) =>
    spawnSync(isRoot ? 'apt-get' : 'sudo', isRoot ? args : ['-n', 'apt-get', ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status;
  console.log('[gradroom] installing Xvfb from Debian packages (apt-get install xvfb)');
  const install = ['install', '-y', '--no-install-recommends', 'xvfb'];
  // the package lists may be missing on a fresh machine whose Chromium came with the image
  const ok = apt(install) === 0 || (apt(['update']) === 0 && apt(install) === 0);
  if (!ok) console.warn('[gradroom] could not install Xvfb; bench/host-page.bench.mjs will be recorded as not run');
}
