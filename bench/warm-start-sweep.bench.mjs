// Round 8: mode local's defaults after a warm start. The sweep of bench/local-sweep ran without
// one (mode local from the first iteration), and its winners (outer sgd at lr 1.2-1.5, the inner
// rate times sqrt(workers)) are what a room ran. After exact steps they jolt the trained weights.
// This grid measures, for runs that start local rounds after the command line's warm start (160
// iterations), the outer step (sgd at lr 1, 1.2, 1.5) x the inner scale (none, sqrt-workers), and
// exact mode as the baseline: test accuracy after a fixed budget of iterations, through the real
// command line (`gradroom train`, worker threads, wasm), one seed.
//   Fashion-MNIST: 9 workers (a room of 8 volunteers and the host), int8, H = 4 and 8; budget 600
//     iterations (38,400 examples: where the host alone first stands at 85 %).
//   MNIST: 6 workers H = 8 int8, and 8 workers H = 4; budget 2 epochs (250 iterations).
// Then the efficiency the cost model needs (`efficiency`): on Fashion-MNIST, the examples a room
// of 5 and of 9 workers (4 and 8 volunteers and the host; H = 8, int8, the command line's
// defaults) needs to reach 85 % after the warm start, against exact mode, each found on one grid:
// the first of 400, 500, ..., 1,400 iterations after which the test accuracy is >= 85 %.
// Each point is one CLI run (10-15 s). Results go to bench/out/warm-start-sweep.json and
// bench/results.json after every point; a rerun skips the points results.json already has
// (WARM_SWEEP_FRESH=1 measures them again).
//
//   nice -n 10 node bench/warm-start-sweep.bench.mjs
//   node bench/warm-start-sweep.bench.mjs table     # the README's markdown table from results.json
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const cli = join(here, '..', 'packages', 'coordinator', 'dist', 'cli.js');
const bench = 'warm-start-sweep';
const WARM = 160;
const CELLS = [
  { dataset: 'fashion-mnist', workers: 9, steps: 8, compress: 'int8', budget: ['--max-iterations', '600'] },
  { dataset: 'fashion-mnist', workers: 9, steps: 4, compress: 'int8', budget: ['--max-iterations', '600'] },
  { dataset: 'mnist', workers: 6, steps: 8, compress: 'int8', budget: ['--epochs', '2'] },
  { dataset: 'mnist', workers: 8, steps: 4, compress: 'none', budget: ['--epochs', '2'] },
];
const OUTER_LRS = [1, 1.2, 1.5];
const SCALES = ['none', 'sqrt-workers'];

const resultsPath = join(here, 'results.json');
const prior = process.env.WARM_SWEEP_FRESH
  ? null
  : existsSync(resultsPath)
    ? JSON.parse(readFileSync(resultsPath, 'utf8'))[bench]
    : null;
const points = prior?.points ?? [];
/** Examples to 85 % after the warm start (see the header), per room size. */
const efficiency = prior?.efficiency ?? [];

/** One CLI run: the test accuracy and iterations of its done event. */
function train(args) {
  const r = spawnSync(process.execPath, [cli, 'train', '--json', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const done = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"event":"done"'))
    .map((l) => JSON.parse(l))[0];
  if (r.status !== 0 || !done)
    throw new Error(`gradroom train ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { testAccuracy: done.testAccuracy, iterations: done.iterations, seconds: Math.round(done.seconds * 10) / 10 };
}

function save() {
  const doc = {
    bench,
    at: new Date().toISOString(),
    node: process.version,
    warmStart: WARM,
    note: 'Test accuracy after the budget, one seed, worker threads (statistics, not the network). Exact: the same budget in exact mode on the same workers.',
    points,
    efficiency,
    entries: points.map((p) => ({
      name: `${p.key}: test accuracy after ${p.iterations} iterations`,
      value: p.testAccuracy,
      unit: 'accuracy',
    })),
  };
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(join(here, 'out', `${bench}.json`), JSON.stringify(doc, null, 2));
  const results = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : {};
  results[bench] = doc;
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
}

function run(key, spec, args) {
  if (points.some((p) => p.key === key)) return;
  const r = train(args);
  points.push({ key, ...spec, ...r });
  console.log(`${key}: ${(r.testAccuracy * 100).toFixed(2)} % after ${r.iterations} iterations (${r.seconds} s)`);
  save();
}

/** The README's table: per cell, accuracy for each (outer lr, inner scale); bold the cell's best, ◆ the rule. */
async function markdown() {
  const { defaultInnerScale, defaultOuter } = await import('../packages/core/dist/index.js');
  const pct = (p) => `${(p.testAccuracy * 100).toFixed(1)} %`;
  const cols = OUTER_LRS.flatMap((lr) => SCALES.map((s) => [lr, s]));
  console.log(
    `| data set, budget | H | workers | exact | ${cols.map(([lr, s]) => `sgd ${lr}, ${s === 'none' ? 'unscaled' : '× sqrt(w)'}`).join(' | ')} |`,
  );
  console.log(`|---|---|---|---|${cols.map(() => '---|').join('')}`);
  for (const c of CELLS) {
    const ps = points.filter(
      (p) => p.dataset === c.dataset && p.workers === c.workers && p.mode === 'local' && p.steps === c.steps,
    );
    if (ps.length === 0) continue;
    const exact = points.find((p) => p.dataset === c.dataset && p.workers === c.workers && p.mode === 'exact');
    const best = Math.max(...ps.map((p) => p.testAccuracy));
    const rule = [defaultOuter({ steps: c.steps, workers: c.workers, exactFirst: WARM }).lr, defaultInnerScale(WARM)];
    const cell = ([lr, s]) => {
      const p = ps.find((q) => q.outerLr === lr && q.innerScale === s);
      if (!p) return '–';
      const t = p.testAccuracy === best ? `**${pct(p)}**` : pct(p);
      return lr === rule[0] && s === rule[1] ? `◆ ${t}` : t;
    };
    const budget = c.budget[0] === '--epochs' ? `${c.budget[1]} epochs` : `${c.budget[1]} iterations`;
    console.log(
      `| ${c.dataset}, ${budget} | ${c.steps} | ${c.workers}${c.compress === 'int8' ? ', int8' : ''} | ${exact ? pct(exact) : '–'} | ${cols.map(cell).join(' | ')} |`,
    );
  }
}
if (process.argv[2] === 'table') {
  await markdown();
  process.exit(0);
}

for (const c of CELLS) {
  const base = ['--dataset', c.dataset, '--workers', String(c.workers), ...c.budget];
  run(`${c.dataset} exact w=${c.workers} ${c.budget.join(' ')}`, { ...c, mode: 'exact' }, base);
  for (const lr of OUTER_LRS)
    for (const scale of SCALES)
      run(
        `${c.dataset} H=${c.steps} w=${c.workers} ${c.compress} outer sgd ${lr} inner ${scale}`,
        { ...c, mode: 'local', outerLr: lr, innerScale: scale },
        [
          ...base,
          ...['--mode', 'local', '--local-steps', String(c.steps), '--warm-start', String(WARM)],
          ...['--compress', c.compress, '--outer-optimizer', 'sgd', '--outer-lr', String(lr), '--inner-scale', scale],
        ],
      );
}

// examples to 85 % after the warm start, on a grid of budgets (the cost model's afterWarmStart table)
const GRID = Array.from({ length: 11 }, (_, k) => 400 + 100 * k);
for (const spec of [
  { workers: 2, mode: 'exact', args: [] },
  { workers: 5, mode: 'local', args: ['--mode', 'local', '--local-steps', '8', '--compress', 'int8'] },
  { workers: 9, mode: 'local', args: ['--mode', 'local', '--local-steps', '8', '--compress', 'int8'] },
]) {
  const key = `fashion-mnist ${spec.mode} w=${spec.workers}${spec.mode === 'local' ? ` H=8 int8 warm start ${WARM}` : ''}: examples to 85 %`;
  if (efficiency.some((e) => e.key === key)) continue;
  const curve = [];
  let reached = null;
  for (const n of GRID) {
    const r = train([
      '--dataset',
      'fashion-mnist',
      '--workers',
      String(spec.workers),
      '--max-iterations',
      String(n),
      ...spec.args,
    ]);
    curve.push([n, r.testAccuracy]);
    console.log(`${key}: ${(r.testAccuracy * 100).toFixed(2)} % after ${n} iterations`);
    if (r.testAccuracy >= 0.85) {
      reached = n * 64;
      break;
    }
  }
  efficiency.push({
    key,
    dataset: 'fashion-mnist',
    target: 0.85,
    workers: spec.workers,
    mode: spec.mode,
    ...(spec.mode === 'local' ? { steps: 8, warmup: WARM } : {}),
    examplesToTarget: reached,
    curve,
  });
  save();
}

// the table, per cell: accuracy for each (outer lr, inner scale)
for (const c of CELLS) {
  const ps = points.filter(
    (p) => p.dataset === c.dataset && p.workers === c.workers && p.mode === 'local' && p.steps === c.steps,
  );
  const exact = points.find((p) => p.dataset === c.dataset && p.workers === c.workers && p.mode === 'exact');
  console.log(
    `\n${c.dataset}, H = ${c.steps}, ${c.workers} workers, ${c.compress} (exact: ${exact ? (exact.testAccuracy * 100).toFixed(2) : '-'} %)`,
  );
  console.table(
    OUTER_LRS.map((lr) => ({
      outer: `sgd ${lr}`,
      ...Object.fromEntries(
        SCALES.map((s) => {
          const p = ps.find((q) => q.outerLr === lr && q.innerScale === s);
          return [s, p ? `${(p.testAccuracy * 100).toFixed(2)} %` : '-'];
        }),
      ),
    })),
  );
}
