// Prints bench/local-sweep's results (bench/results.json) as the README's markdown tables: per
// (H, workers) cell, each outer's examples to the target and its accuracy after one epoch; bold:
// the cell's winners (fewest examples, or within 10 %; where no run reached the target, within
// half a point of the best accuracy at the cap); ◆: what defaultOuter picks there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOuter } from '../packages/core/dist/index.js';

const results = JSON.parse(readFileSync(join(import.meta.dirname, 'results.json'), 'utf8'));
const same = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
const NAMES = [
  ['avg', { kind: 'sgd', lr: 1 }],
  ['nesterov', { kind: 'momentum', lr: 0.7, momentum: 0.9, nesterov: true, form: 'classic' }],
  ['sgd1.2', { kind: 'sgd', lr: 1.2 }],
  ['sgd1.5', { kind: 'sgd', lr: 1.5 }],
  ['sgd2', { kind: 'sgd', lr: 2 }],
  ['sgd2.8', { kind: 'sgd', lr: 2.83 }],
  ['nesterov-restart', { kind: 'momentum', lr: 0.7, momentum: 0.9, nesterov: true, form: 'classic', restartEvery: 8 }],
];
const LABEL = {
  avg: 'averaging (sgd 1)',
  nesterov: 'Nesterov 0.7/0.9',
  'sgd1.2': 'sgd 1.2',
  'sgd1.5': 'sgd 1.5',
  sgd2: 'sgd 2',
  'sgd2.8': 'sgd 2.83',
  'nesterov-restart': 'Nesterov, restarts every 8',
};
for (const bench of ['local-sweep-mnist', 'local-sweep-fashion']) {
  const b = results[bench];
  if (!b) continue;
  const exact = b.points.find((p) => p.mode.kind === 'exact' && p.innerScale === undefined);
  const k = (n) => (n === null ? 'never' : `${(n / 1000).toFixed(1)}k`);
  const pct = (a) => (a === null ? '–' : (a * 100).toFixed(1));
  console.log(
    `\n${b.dataset}, target ${b.target * 100} %, cap ${b.budgetEpochs} epochs. Exact mode: ${k(exact?.examplesToTarget ?? null)} examples, ${pct(exact?.accuracyAtEpoch1 ?? null)} % after 1 epoch.\n`,
  );
  const cells = new Map();
  for (const p of b.points.filter((p) => p.mode.kind === 'local' && p.innerScale === undefined)) {
    const key = `${p.mode.steps}|${p.workers}`;
    cells.set(key, [...(cells.get(key) ?? []), p]);
  }
  const names = NAMES.filter(([, o]) => b.points.some((p) => p.mode.outer && same(p.mode.outer, o)));
  console.log(`| H | workers | ${names.map(([n]) => LABEL[n]).join(' | ')} |`);
  console.log(`|---|---|${names.map(() => '---|').join('')}`);
  for (const [key, ps] of [...cells].sort(
    (a, c) => a[0].split('|')[0] - c[0].split('|')[0] || a[0].split('|')[1] - c[0].split('|')[1],
  )) {
    const [H, w] = key.split('|').map(Number);
    const best = Math.min(...ps.map((p) => p.examplesToTarget ?? Number.POSITIVE_INFINITY));
    const top = Math.max(...ps.map((p) => p.accuracyAtEnd));
    const pick = defaultOuter({ steps: H, workers: w });
    const row = names.map(([, o]) => {
      const p = ps.find((q) => same(q.mode.outer, o));
      if (!p) return 'not run';
      const n = p.examplesToTarget ?? Number.POSITIVE_INFINITY;
      let s = `${k(p.examplesToTarget)} (${pct(p.accuracyAtEpoch1)} %${p.examplesToTarget === null ? `; ${pct(p.accuracyAtEnd)} % at cap` : ''})`;
      // winners: within 10 % of the fewest examples; where none reached the target, within half a point at the cap
      if (Number.isFinite(best) ? n <= best * 1.1 : p.accuracyAtEnd >= top - 0.005) s = `**${s}**`;
      return same(o, pick) ? `◆ ${s}` : s;
    });
    console.log(`| ${H} | ${w} | ${row.join(' | ')} |`);
  }
}
