#!/usr/bin/env node
// Installs this repository's packages into a project the way npm would deliver them once published:
// `pnpm pack` of @gradroom/core, worker and coordinator (pnpm turns their workspace:* dependencies
// into version numbers), then one `npm install` of the three tarballs together, so npm takes their
// third-party dependencies from the registry and @gradroom/* from the tarballs.
//
//   npm run build && node examples/install-local.mjs examples/node-custom-data
//
// The tarballs go to PROJECT/.gradroom-packs/; package.json is left as it is (--no-save).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pnpm } from '../scripts/pnpm.mjs';

export const PACKAGES = ['core', 'worker', 'coordinator'];

/** Packs the three packages (built dist/ first: npm run build) into `dest`; returns the tarball paths. */
export function packPackages(dest) {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const status = pnpm(['-r', '--filter', './packages/*', 'pack', '--pack-destination', dest], { stdio: 'pipe' });
  if (status !== 0) throw new Error(`pnpm pack failed (exit ${status})`);
  const tarballs = PACKAGES.map((p) => readdirSync(dest).find((f) => f.startsWith(`gradroom-${p}-`)));
  if (tarballs.some((t) => !t)) throw new Error(`pnpm pack left ${readdirSync(dest).join(', ')} in ${dest}`);
  return tarballs.map((t) => join(dest, t));
}

/**
 * npm install of the tarballs into `project` (which has a package.json). Our packages are removed
 * first so a cached project always gets the fresh tarballs; the rest stays and saves downloads.
 */
export function installTarballs(project, tarballs) {
  rmSync(join(project, 'node_modules', '@gradroom'), { recursive: true, force: true });
  const r = spawnSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs],
    { cwd: project, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } },
  );
  if (r.status !== 0) throw new Error(`npm install in ${project} failed (exit ${r.status}):\n${r.stderr}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const project = process.argv[2];
  if (!project) {
    console.error('usage: node examples/install-local.mjs PROJECT_DIR');
    process.exit(2);
  }
  const dir = resolve(project);
  installTarballs(dir, packPackages(join(dir, '.gradroom-packs')));
  console.log(`installed @gradroom/${PACKAGES.join(', @gradroom/')} into ${dir}`);
}
