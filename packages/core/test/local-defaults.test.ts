/**
 * The default outer optimizer of mode local is the sweep's winner. For every (H, workers) cell that
 * bench/local-sweep measured (bench/results.json, MNIST and Fashion-MNIST), an outer optimizer wins
 * on a data set when it reached the target in the fewest examples or within 10 % of the fewest (the
 * sweep's resolution: one evaluation every 1,000 MNIST / 5,000 Fashion-MNIST examples, one seed), or,
 * where no run reached it, ended within half a point of the best accuracy at the cap. defaultOuter
 * must pick a winner on every data set that measured the cell; where the data sets disagree (no outer
 * wins on all of them), a winner on one of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { defaultInnerScale, defaultOuter, NESTEROV_OUTER } from '../src/local-defaults.js';
import type { OptimizerConfig } from '../src/optimizers/types.js';

interface SweepPoint {
  key: string;
  workers: number;
  mode: { kind: 'exact' } | { kind: 'local'; steps: number; outer: OptimizerConfig };
  examplesToTarget: number | null;
  innerScale?: number;
  /** At the cap when the target was never reached. */
  accuracyAtEnd: number;
}

const results = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'bench', 'results.json'), 'utf8'));
const BENCHES = ['local-sweep-mnist', 'local-sweep-fashion'];
const TIE = 1.1;
const BASE: OptimizerConfig[] = [1, 1.2, 1.5].map((lr) => ({ kind: 'sgd', lr }));
const key = (o: OptimizerConfig) => JSON.stringify(Object.entries(o).sort());

/** Per (H, workers): for each data set that measured every outer of its sweep there, the winners' keys. */
function winners(): Map<string, { steps: number; workers: number; byData: Map<string, Set<string>> }> {
  const out = new Map<string, { steps: number; workers: number; byData: Map<string, Set<string>> }>();
  for (const bench of BENCHES) {
    const cells = new Map<string, SweepPoint[]>();
    for (const p of (results[bench]?.points ?? []) as SweepPoint[]) {
      // points with a scaled inner learning rate answer another question (issue 19 §2)
      if (p.mode.kind !== 'local' || p.innerScale !== undefined) continue;
      const k = `H=${p.mode.steps} w=${p.workers}`;
      cells.set(k, [...(cells.get(k) ?? []), p]);
    }
    // a partial run leaves its last cell open: a cell counts once the outers swept everywhere (sgd at
    // lr 1, 1.2 and 1.5) ran there; every outer measured in the cell competes
    for (const [k, ps] of cells) {
      const has = new Set(ps.map((p) => key((p.mode as { outer: OptimizerConfig }).outer)));
      if (!BASE.every((o) => has.has(key(o)))) continue;
      const reached = (p: SweepPoint) => p.examplesToTarget ?? Number.POSITIVE_INFINITY;
      const best = Math.min(...ps.map(reached));
      const top = Math.max(...ps.map((p) => p.accuracyAtEnd));
      const win = ps.filter((p) => (Number.isFinite(best) ? reached(p) <= best * TIE : p.accuracyAtEnd >= top - 0.005));
      const first = ps[0].mode as { steps: number };
      const cell = out.get(k) ?? { steps: first.steps, workers: ps[0].workers, byData: new Map() };
      cell.byData.set(bench, new Set(win.map((p) => key((p.mode as { outer: OptimizerConfig }).outer))));
      out.set(k, cell);
    }
  }
  return out;
}

describe('defaultOuter', () => {
  it('picks the sweep’s winner in every measured (H, workers) cell', () => {
    const cells = winners();
    expect(cells.size, 'no complete cell in bench/results.json').toBeGreaterThan(0);
    for (const [name, c] of cells) {
      const pick = key(defaultOuter({ steps: c.steps, workers: c.workers }));
      const sets = [...c.byData.values()];
      const agreed = [...sets[0]].filter((o) => sets.every((s) => s.has(o)));
      const where = [...c.byData].map(([b, s]) => `${b}: ${[...s].join(' ')}`).join('; ');
      if (agreed.length > 0) expect(agreed, `${name} (${where})`).toContain(pick);
      else
        expect(
          sets.some((s) => s.has(pick)),
          `${name} (${where})`,
        ).toBe(true);
    }
  });

  it('is never DiLoCo’s Nesterov at the small H the sweep measured', () => {
    for (const steps of [2, 4, 8, 16, 32])
      for (const workers of [2, 4, 8]) expect(defaultOuter({ steps, workers })).not.toEqual(NESTEROV_OUTER);
  });

  it('answers for H auto and for one worker, and refuses bad shapes with BAD_CONFIG', () => {
    expect(defaultOuter({ steps: 'auto', workers: 1 }).kind).toBeDefined();
    for (const bad of [
      { steps: 0, workers: 2 },
      { steps: 2.5, workers: 2 },
      { steps: 4, workers: 0 },
      { steps: 4, workers: Number.NaN },
      { steps: 4, workers: 2, exactFirst: -1 },
      { steps: 4, workers: 2, exactFirst: 1.5 },
    ]) {
      let err: unknown;
      try {
        defaultOuter(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GradroomError);
      expect((err as GradroomError).code).toBe('BAD_CONFIG');
    }
  });
});

/**
 * After exact steps (a warm start, mode auto's measuring) the rule is plain averaging with the
 * unscaled inner rate. bench/warm-start-sweep measured, one seed each, the accuracy after a fixed
 * budget for the outer step (sgd at lr 1, 1.2, 1.5) x the inner scale (none, sqrt-workers) in each
 * of its cells: the rule's point must be within NOISE of the cell's best (a single seed's test
 * accuracy moves by a few tenths of a point from run to run), and no worse than any other point by
 * more than that anywhere.
 */
const NOISE = 0.005;
interface WarmPoint {
  dataset: string;
  workers: number;
  steps: number;
  mode: 'exact' | 'local';
  outerLr?: number;
  innerScale?: 'none' | 'sqrt-workers';
  testAccuracy: number;
}

describe('after a warm start', () => {
  it('the outer step is plain averaging and the inner rate unscaled, whatever H and the workers', () => {
    for (const steps of [1, 2, 4, 8, 16, 'auto'] as const)
      for (const workers of [1, 2, 8])
        expect(defaultOuter({ steps, workers, exactFirst: 160 })).toEqual({ kind: 'sgd', lr: 1 });
    expect(defaultOuter({ steps: 4, workers: 2, exactFirst: 0 })).toEqual({ kind: 'sgd', lr: 1.5 });
    expect(defaultInnerScale(160)).toBe('none');
    expect(defaultInnerScale(1)).toBe('none');
    expect(defaultInnerScale(0)).toBe('sqrt-workers');
  });

  it('the rule is within noise of the best point of every cell bench/warm-start-sweep measured', () => {
    const points = (results['warm-start-sweep']?.points ?? []) as WarmPoint[];
    const cells = new Map<string, WarmPoint[]>();
    for (const p of points.filter((q) => q.mode === 'local')) {
      const k = `${p.dataset} H=${p.steps} w=${p.workers}`;
      cells.set(k, [...(cells.get(k) ?? []), p]);
    }
    expect(cells.size, 'no cell of bench/warm-start-sweep in bench/results.json').toBeGreaterThanOrEqual(4);
    for (const [k, ps] of cells) {
      const { steps, workers } = ps[0];
      const outer = defaultOuter({ steps, workers, exactFirst: 160 });
      const scale = defaultInnerScale(160);
      const pick = ps.find((p) => p.outerLr === outer.lr && p.innerScale === scale);
      expect(pick, `${k}: the rule's point was measured`).toBeDefined();
      const best = Math.max(...ps.map((p) => p.testAccuracy));
      expect((pick as WarmPoint).testAccuracy, `${k}: the rule against the best, ${best}`).toBeGreaterThanOrEqual(
        best - NOISE,
      );
    }
  });
});
