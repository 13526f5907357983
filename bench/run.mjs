#!/usr/bin/env node
// Runs every bench/*.bench.mjs (or those named on the command line), then merges bench/out/*.json
// into bench/results.json and prints the markdown table that the README shows.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './lib.mjs';

const here = import.meta.dirname;
const only = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
let failedToRun = 0;
for (const s of scripts) {
  console.log(`\n# ${s}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, s)], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${s} exited with ${r.status}`);
    failedToRun++;
  }
}
const resultsFile = join(here, 'results.json');
const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
const outDir = join(here, 'out');
if (existsSync(outDir)) {
  for (const f of readdirSync(outDir).filter((f) => f.endsWith('.json'))) {
    const b = JSON.parse(readFileSync(join(outDir, f), 'utf8'));
    results[b.bench] = b;
  }
}
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
const rows = ['| benchmark | measure | value | baseline | ratio | target | pass |', '|---|---|---|---|---|---|---|'];
for (const b of Object.values(results)) {
  // some results (testbed runs, tables) hold no entries: the README table lists only entries
  for (const e of b.entries ?? []) {
    const v = (x) => (x === undefined ? '' : `${round(x)} ${e.unit ?? ''}`.trim());
    rows.push(
      `| ${b.bench} | ${e.name} | ${v(e.value)} | ${v(e.baseline)} | ${e.ratio === undefined ? '' : round(e.ratio)} | ${e.target ?? ''} | ${e.pass === undefined ? '' : e.pass ? 'yes' : 'no'} |`,
    );
  }
}
console.log(`\n${rows.join('\n')}`);
// the README shows the latest table between its bench markers
const readme = join(here, '..', 'README.md');
if (existsSync(readme)) {
  const text = readFileSync(readme, 'utf8');
  const updated = text.replace(
    /<!-- bench:start -->[\s\S]*<!-- bench:end -->/,
    `<!-- bench:start -->\n${rows.join('\n')}\n<!-- bench:end -->`,
  );
  if (updated !== text) writeFileSync(readme, updated);
}
process.exit(failedToRun ? 1 : 0);
