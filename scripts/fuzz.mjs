#!/usr/bin/env node
// `npm run fuzz [-- INPUTS [SEED]]`: 1,000,000 frames and messages (bench/fuzz-lib.mjs) against the
// wire decoder, framing/reassembly, schema validation and the room server's control-message
// validator. Prints the outcomes per target and rejection code, writes bench/out/fuzz.json
// (bench/lib.mjs report(), merged into bench/results.json), and exits non-zero on any crash (an
// error that is not a GradroomError) or broken invariant. Needs `npm run build` first.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzz } from '../bench/fuzz-lib.mjs';
import { report } from '../bench/lib.mjs';

// rejections are the common case here; their stack traces are not needed and cost most of the time
Error.stackTraceLimit = 0;
const total = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const t0 = performance.now();
const r = fuzz(total, seed);
const seconds = (performance.now() - t0) / 1000;

console.log(
  `\n## fuzz: ${r.total} inputs (${r.frames} of them frames) in ${r.cases} cases, seed ${seed}, ${seconds.toFixed(1)} s`,
);
const codes = [...new Set(Object.values(r.counts).flatMap((c) => Object.keys(c)))].sort();
console.table(
  Object.fromEntries(
    Object.entries(r.counts).map(([target, c]) => [target, Object.fromEntries(codes.map((k) => [k, c[k] ?? 0]))]),
  ),
);
for (const c of r.crashes) console.error(`CRASH ${c.target} case ${c.case}: ${c.error}`);
for (const b of r.broken.slice(0, 20)) console.error(`BROKEN ${b}`);

const entries = [
  { name: 'inputs (frames and messages)', value: r.total, unit: '', pass: r.total >= total },
  {
    name: 'crashes (anything thrown but a GradroomError)',
    value: r.crashCount,
    unit: '',
    target: '0',
    pass: r.crashCount === 0,
  },
  { name: 'broken invariants', value: r.broken.length, unit: '', target: '0', pass: r.broken.length === 0 },
  { name: 'run time', value: seconds, unit: 's' },
  ...Object.entries(r.counts).flatMap(([target, c]) =>
    Object.entries(c).map(([code, n]) => ({ name: `${target}: ${code}`, value: n, unit: '' })),
  ),
];
report('fuzz', entries, { seed, counts: r.counts, command: 'npm run fuzz' });

// bench/run.mjs merges bench/out/*.json into results.json; the fuzz is not one of its benches
const results = join(import.meta.dirname, '..', 'bench', 'results.json');
const all = existsSync(results) ? JSON.parse(readFileSync(results, 'utf8')) : {};
all.fuzz = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'bench', 'out', 'fuzz.json'), 'utf8'));
writeFileSync(results, `${JSON.stringify(all, null, 2)}\n`);

if (r.crashCount > 0 || r.broken.length > 0) {
  console.error(`fuzz: ${r.crashCount} crash(es), ${r.broken.length} broken invariant(s)`);
  process.exit(1);
}
console.log('fuzz: no crash; every rejection a typed GradroomError');
