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

// Learning rate and workers (issue 19 §2): per swept cell, examples to the target with the default
// outer step and the inner rate scaled, and with the outer rate scaled instead. The README keeps
// this between its inner-scale markers.
const SCALES = [0.5, 1, 1.41, 2, 2.83, 4];
for (const bench of ['local-sweep-mnist', 'local-sweep-fashion']) {
  const b = results[bench];
  const scaled = b?.points.filter((p) => p.innerScale !== undefined && p.mode.kind === 'local') ?? [];
  if (scaled.length === 0) continue;
  const k = (n) => (n === null ? 'never' : `${(n / 1000).toFixed(1)}k`);
  const exact = (s) => b.points.find((p) => p.mode.kind === 'exact' && (p.innerScale ?? 1) === s);
  console.log(
    `\n${b.dataset}, to ${b.target * 100} %: exact mode ${k(exact(1)?.examplesToTarget ?? null)} examples${exact(2) ? `, ${k(exact(2).examplesToTarget)} at twice the rate` : ''}.\n`,
  );
  console.log(`| H | workers | ${SCALES.map((s) => `inner ×${s}`).join(' | ')} | outer sgd 2 | outer sgd 2.83 |`);
  console.log(`|---|---|${SCALES.map(() => '---|').join('')}---|---|`);
  const cells = [...new Set(scaled.map((p) => `${p.mode.steps}|${p.workers}`))].sort(
    (a, c) => a.split('|')[0] - c.split('|')[0] || a.split('|')[1] - c.split('|')[1],
  );
  for (const cell of cells) {
    const [H, w] = cell.split('|').map(Number);
    const at = (p) => p.mode.kind === 'local' && p.mode.steps === H && p.workers === w;
    const pick = defaultOuter({ steps: H, workers: w });
    const cellOf = (s) => {
      const p = b.points.find((q) => at(q) && same(q.mode.outer, pick) && (q.innerScale ?? 1) === s);
      if (!p) return '–';
      const t = k(p.examplesToTarget);
      return Math.abs(s - Math.sqrt(w)) < 0.01 ? `**${t}**` : t;
    };
    const outer = (lr) => {
      const p = b.points.find((q) => at(q) && q.innerScale === undefined && same(q.mode.outer, { kind: 'sgd', lr }));
      return p ? k(p.examplesToTarget) : '–';
    };
    console.log(`| ${H} | ${w} | ${SCALES.map(cellOf).join(' | ')} | ${outer(2)} | ${outer(2.83)} |`);
  }
}
