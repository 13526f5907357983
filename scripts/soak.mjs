#!/usr/bin/env node
// `npm run soak`: bundles bench/soak.ts with esbuild (the TypeScript of the soak and of the
// exactness tests' fixtures and serial oracle) into bench/out/, runs it with --expose-gc, checks its
// figures, prints them and writes bench/out/soak.json (bench/lib.mjs report()), merged into
// bench/results.json. Exits non-zero when a figure misses its target. Needs `npm run build` first.
//
// Our packages and every node_modules import stay outside the bundle, at their real paths, so
// `import.meta.resolve('@gradroom/worker/node-thread')` in the coordinator still finds the thread
// entry, and tfjs is loaded once.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { report } from '../bench/lib.mjs';

const root = join(import.meta.dirname, '..');
const outDir = join(root, 'bench', 'out');
// the bundle and the raw figures in a folder of their own: bench/run.mjs reads every bench/out/*.json
const workDir = join(outDir, 'soak');
const bundle = join(workDir, 'soak.bundle.mjs');
const raw = process.env.SOAK_RAW ?? join(workDir, 'raw.json');

if (!existsSync(join(root, 'packages', 'coordinator', 'dist', 'index.js'))) {
  console.error('build first: npm run build');
  process.exit(2);
}

/** Bare imports (packages) and our packages' dist/ stay external, resolved to absolute paths. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.inner || args.kind === 'entry-point') return undefined;
      const bare = !args.path.startsWith('.') && !args.path.startsWith('/');
      const inDist = /\/dist\//.test(join(args.resolveDir, args.path));
      if (!bare && !inDist) return undefined; // our TypeScript: bundled
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const r = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: { inner: true },
      });
      if (r.errors.length > 0) return { errors: r.errors };
      return { path: r.path, external: true };
    });
  },
};

if (!process.argv.includes('--report-only'))
  await build({
    entryPoints: [join(root, 'bench', 'soak.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [externals],
    logLevel: 'warning',
  });

// --report-only: the table and checks again from the last run's figures
if (!process.argv.includes('--report-only')) {
  const run = spawnSync(process.execPath, ['--expose-gc', bundle, raw], { stdio: 'inherit', cwd: root });
  if (run.status !== 0) {
    console.error(`the soak run exited with ${run.status}`);
    process.exit(1);
  }
}
const f = JSON.parse(readFileSync(raw, 'utf8'));
// JSON writes NaN as null: figures that were not measured
for (const k of ['relativeDifferenceBase', 'relativeDifference', 'relativeDifferenceClean'])
  if (f[k] === null) f[k] = Number.NaN;
const faults = f.faults ?? f.hostile.sent + f.nan.sent > 0;
// the fault-free twin (SOAK_FAULTS=0) is reported apart, so it never replaces the soak's figures
const bench = faults ? 'soak' : 'soak-clean';

// per-sample table: the memory curve
console.log(`\n## soak${faults ? '' : ' without faults'}: memory every 500 iterations (after gc)`);
console.table(
  f.samples.map((s) => {
    const t = Object.values(s.tensors);
    return {
      iteration: s.iteration,
      'rss MiB': Math.round(s.rssMiB * 10) / 10,
      'heap MiB': Math.round(s.heapMiB * 10) / 10,
      workers: s.workers,
      'tensors/worker': t.length
        ? Math.min(...t) === Math.max(...t)
          ? t[0]
          : `${Math.min(...t)}-${Math.max(...t)}`
        : '',
    };
  }),
);

const base = f.samples.find((s) => s.iteration === 1000) ?? f.samples[0];
const end = f.samples[f.samples.length - 1];
const maxTensors = (s) => Math.max(0, ...Object.values(s.tensors));
const flat = (name, a, b, unit) => ({
  name: `${name} at ${end.iteration} / at ${base.iteration}`,
  value: b,
  baseline: a,
  unit,
  ratio: b / a,
  target: '<= 1.1',
});
const zero = (name, v, note) => ({ name, value: v, unit: '', pass: v === 0, target: '0', note });
const entries = [
  flat('host RSS', base.rssMiB, end.rssMiB, 'MiB'),
  flat('host heap after gc', base.heapMiB, end.heapMiB, 'MiB'),
  flat('tfjs tensors per worker (max)', maxTensors(base), maxTensors(end), 'tensors'),
  ...f.steadyTensors.map((s) => ({
    name: `tfjs tensors of ${s.id} (in the run throughout)`,
    value: s.last,
    baseline: s.base,
    unit: 'tensors',
    ratio: s.last / s.base,
    target: '<= 1.1',
  })),
  zero('examples lost', f.lost),
  zero('examples counted twice', f.countedTwice),
  zero('iterations whose examples differ from their mini-batch', f.iterationsMiscounted),
  {
    name: `weights at iteration ${base.iteration} vs the serial oracle: relative difference, in 1e-6`,
    value: f.relativeDifferenceBase * 1e6,
    unit: '',
    pass: f.relativeDifferenceBase <= 1e-5,
    target: '<= 10',
    note: f.relativeDifferenceBase.toExponential(3),
  },
  {
    // float32 drift between the engine and the tfjs oracle grows with the iterations, faults or
    // not (a run with SOAK_FAULTS=0 shows the same figure): the fault-free twin below is the check
    name: `final weights vs the serial oracle: relative difference, in 1e-6`,
    value: f.relativeDifference * 1e6,
    unit: '',
    pass: f.finite && f.relativeDifference <= 1e-4,
    target: '<= 100',
    note: f.relativeDifference.toExponential(3),
  },
  ...(Number.isNaN(f.relativeDifferenceClean)
    ? []
    : [
        {
          name: 'final weights vs the same run without faults (SOAK_FAULTS=0): relative difference, in 1e-6',
          value: f.relativeDifferenceClean * 1e6,
          unit: '',
          // the same engine; only the shard splits (float32 summation order) differ
          pass: f.relativeDifferenceClean <= 1e-5,
          target: '<= 10',
          note: f.relativeDifferenceClean.toExponential(3),
        },
      ]),
  {
    name: 'iterations',
    value: f.iterations,
    unit: '',
    pass: f.iterations === Number(process.env.SOAK_ITERATIONS ?? 10000),
  },
  { name: 'run time', value: f.seconds, unit: 's' },
  { name: 'volunteers left mid-shard', value: f.churn.killedMidShard, unit: '' },
  { name: 'volunteers closed between iterations', value: f.churn.closedIdle, unit: '' },
  { name: 'volunteers joined', value: f.churn.joined, unit: '' },
  {
    name: 'hostile results (x1e30) refused / sent',
    value: f.hostile.refused,
    baseline: f.hostile.sent,
    unit: '',
    pass: (!faults || f.hostile.sent > 0) && f.hostile.refused === f.hostile.sent,
  },
  { name: 'honest shards of the peer refused by the gradient bound (recomputed)', value: f.honestRefused, unit: '' },
  {
    name: 'NaN results refused / sent',
    value: f.nan.refused,
    baseline: f.nan.sent,
    unit: '',
    pass: (!faults || f.nan.sent > 0) && f.nan.refused === f.nan.sent,
  },
  { name: 'shards planned again', value: f.replanned, unit: '' },
  zero('workers dropped other than by churn', f.dropped.length, f.dropped.join('; ')),
];
report(bench, entries, {
  samples: f.samples,
  command: faults ? 'npm run soak' : 'SOAK_FAULTS=0 npm run soak',
});

// bench/run.mjs merges bench/out/*.json into results.json; the soak is not one of its benches
const results = join(root, 'bench', 'results.json');
const all = existsSync(results) ? JSON.parse(readFileSync(results, 'utf8')) : {};
all[bench] = JSON.parse(readFileSync(join(outDir, `${bench}.json`), 'utf8'));
writeFileSync(results, `${JSON.stringify(all, null, 2)}\n`);

const failed = entries.filter((e) => e.pass === false);
if (failed.length > 0) {
  console.error(`soak: ${failed.length} figure(s) missed their target: ${failed.map((e) => e.name).join('; ')}`);
  process.exit(1);
}
console.log('soak: every figure met its target');
