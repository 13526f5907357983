#!/usr/bin/env node
// Runs every vitest suite, then ends with the one line CI reads: `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, 'test-artifacts');
mkdirSync(out, { recursive: true });
const report = join(out, 'vitest.json');
const vitest = join(root, 'node_modules/vitest/vitest.mjs');
const r = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  passed = j.numPassedTests ?? 0;
  failed =
    (j.numFailedTests ?? 0) +
    (j.testResults ?? []).filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
} else {
  failed = 1;
}
if (r.status !== 0 && failed === 0) failed = 1; // a crashed run is a failure even if no test said so

// lint and format (Biome) count as one more check, and the type checks of the demo and of the tests
// and benches as others: vitest runs TypeScript without checking types (the build checks src/)
for (const [name, args] of [
  ['lint (biome ci)', [join(root, 'node_modules/@biomejs/biome/bin/biome'), 'ci', '.']],
  ['types (tsc, demo)', [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'apps/demo/tsconfig.json']],
  ['types (tsc, tests and benches)', [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.tests.json']],
]) {
  const c = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  console.log(`${name}: ${c.status === 0 ? 'passed' : 'FAILED'}`);
  if (c.status === 0) passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
