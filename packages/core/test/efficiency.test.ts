/** Time to target and mode auto's choice (issue 18 §3), against hand-worked figures. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chooseMode,
  DEFAULT_EFFICIENCY,
  defaultOuter,
  examplesRatio,
  GradroomError,
  type MemberCost,
  measuredEfficiency,
  predictTimeToTarget,
} from '../src/index.js';

type SweepPoint = {
  workers: number;
  mode: { kind: string; steps?: number; outer?: object };
  examplesToTarget: number | null;
  examples: number;
  innerScale?: number;
};
const results = JSON.parse(readFileSync(join(import.meta.dirname, '../../../bench/results.json'), 'utf8')) as Record<
  string,
  { dataset: string; target: number; points: SweepPoint[] }
>;

// the default MNIST MLP 784-128-10: 101,770 parameters, 407 kB of float32
const P = 784 * 128 + 128 + 128 * 10 + 10;

describe('efficiency table', () => {
  it('passes through its seed: exact 30,000 examples to 92 %, 6 workers H = 8 at epoch 7 (70,000)', () => {
    expect(examplesRatio(1, 6)).toBe(1);
    expect(examplesRatio(8, 6)).toBeCloseTo(70_000 / 30_000, 12);
    // log2-linear through those points: H = 2 is a third of the way to H = 8
    expect(examplesRatio(2, 6)).toBeCloseTo(1 + 4 / 9, 12);
    expect(examplesRatio(32, 6)).toBeCloseTo(1 + (4 / 9) * 5, 12);
    // one row for every number of workers until the sweep lands
    expect(examplesRatio(8, 2)).toBe(examplesRatio(8, 6));
  });

  it('interpolates a replacement table in log2(H) and takes its nearest row of workers', () => {
    const table = [
      { steps: 2, workers: 2, examplesRatio: 1.2 },
      { steps: 8, workers: 2, examplesRatio: 1.8 },
      { steps: 2, workers: 8, examplesRatio: 1.5 },
      { steps: 8, workers: 8, examplesRatio: 3 },
    ];
    expect(examplesRatio(4, 3, table)).toBeCloseTo(1.5, 12);
    expect(examplesRatio(4, 7, table)).toBeCloseTo(2.25, 12);
    expect(examplesRatio(32, 8, table)).toBe(3); // flat past the end
    expect(examplesRatio(1, 2, table)).toBe(1.2);
  });

  it("the measured tables are bench/local-sweep's results, with the default rule's outer step in each cell", () => {
    const sorted = (o: object) => JSON.stringify(Object.entries(o).sort());
    for (const bench of ['local-sweep-mnist', 'local-sweep-fashion']) {
      const b = results[bench];
      const table = measuredEfficiency(b.dataset);
      if (!table) throw new Error(`no measured table for ${b.dataset}`);
      const exact = b.points.find((p) => p.mode.kind === 'exact' && p.innerScale === undefined);
      expect(table.examplesExact).toBe(exact?.examplesToTarget);
      expect(table.target).toBe(b.target);
      const cap = Math.max(...b.points.map((p) => p.examples));
      let cells = 0;
      for (const p of b.points) {
        const steps = p.mode.steps ?? 1;
        if (
          p.mode.kind !== 'local' ||
          p.innerScale !== undefined ||
          sorted(p.mode.outer ?? {}) !== sorted(defaultOuter({ steps, workers: p.workers }))
        )
          continue;
        cells++;
        const row = table.points.find((t) => t.steps === steps && t.workers === p.workers);
        const want = (p.examplesToTarget ?? 1.25 * cap) / (exact?.examplesToTarget ?? Number.NaN);
        expect(row?.examplesRatio).toBeCloseTo(want, 2);
        expect(row?.reached).toBe(p.examplesToTarget !== null);
      }
      expect(table.points.length).toBe(cells);
      expect(cells).toBeGreaterThanOrEqual(6);
    }
    expect(measuredEfficiency('fashion-mnist-small')).toBeUndefined();
    expect(measuredEfficiency('__proto__')).toBeUndefined();
  });

  it('refuses bad input with a typed error', () => {
    expect(() => examplesRatio(0, 2)).toThrow(GradroomError);
    expect(() => examplesRatio(2, 2, [])).toThrow(/empty/);
    expect(() => examplesRatio(2, 2, [{ steps: 2, workers: 2, examplesRatio: Number.NaN }])).toThrow(GradroomError);
    expect(() =>
      predictTimeToTarget({
        members: [{ examplesPerSec: 1 }],
        parameters: 10,
        batchSize: 4,
        mode: { kind: 'exact' },
        examplesExact: 0,
      }),
    ).toThrow(/examplesExact/);
    expect(DEFAULT_EFFICIENCY.length).toBeGreaterThan(0);
  });
});

describe('predictTimeToTarget', () => {
  it('one member with no link: examples needed / its speed', () => {
    const base = { members: [{ examplesPerSec: 100 }], parameters: P, batchSize: 64, examplesExact: 30_000 };
    expect(predictTimeToTarget({ ...base, mode: { kind: 'exact' } }).seconds).toBeCloseTo(300, 9);
    const local = predictTimeToTarget({ ...base, mode: { kind: 'local', steps: 8 } });
    expect(local.examplesNeeded).toBeCloseTo(70_000, 6);
    expect(local.seconds).toBeCloseTo(700, 9);
  });
});

describe('chooseMode', () => {
  it('compute dominates (1 Gbit/s links, members at 150 examples/s): exact mode', () => {
    const members: MemberCost[] = Array.from({ length: 4 }, () => ({
      examplesPerSec: 150,
      upMbit: 1000,
      downMbit: 1000,
      latencyMs: 1,
    }));
    const d = chooseMode({ members, parameters: P, batchSize: 64, examplesExact: 30_000, target: '92 %' });
    expect(d.choice).toEqual({ kind: 'exact' });
    // by hand: fixed = 2 ms latency + 2 x 407,080 B at 125 kB/ms = 8.51 ms; 4 members take 16
    // examples each at 6.67 ms => 115.2 ms an iteration of 64 => 556 examples/s => 54 s
    const exact = d.candidates[0].prediction;
    expect(exact.seconds).toBeCloseTo(30_000 / (64 / ((2 + (2 * P * 4) / 125_000 + (16 * 1000) / 150) / 1000)), 3);
    expect(exact.seconds).toBeGreaterThan(50);
    expect(exact.seconds).toBeLessThan(56);
    // H = 2: 8.51 + 853 ms for 128 examples each, 1.44x the examples: 73 s
    const h2 = d.candidates[1].prediction;
    expect(h2.seconds).toBeCloseTo(
      (30_000 * (13 / 9)) / ((4 * 128) / ((2 + (2 * P * 4) / 125_000 + (128 * 1000) / 150) / 1000)),
      3,
    );
    expect(d.reason).toMatch(/^mode exact: .*predicted 54 s to 92 %/);
  });

  it('the link dominates (6 members behind one 20 Mbit/s link, 150 examples/s): mode local with H > 1', () => {
    const members: MemberCost[] = Array.from({ length: 6 }, () => ({ examplesPerSec: 150, via: 'cell' }));
    const d = chooseMode({
      members,
      parameters: P,
      batchSize: 64,
      examplesExact: 30_000,
      sharedLinks: { cell: { mbit: 20 } },
      target: '92 %',
    });
    expect(d.choice.kind).toBe('local');
    const exact = d.candidates[0].prediction;
    // exact by hand: one member alone, 407 kB each way at 2,500 B/ms = 325.7 ms, + 426.7 ms of compute
    expect(exact.seconds).toBeCloseTo(30_000 / ((64 / ((2 * (P * 4)) / 2500 + (64 * 1000) / 150)) * 1000), 3);
    expect(exact.used).toBe(1);
    const chosen = d.candidates.find(
      (c) => c.mode.kind === 'local' && d.choice.kind === 'local' && c.mode.steps === d.choice.steps,
    );
    expect(chosen).toBeDefined();
    // H = 8 by hand: 6 members share the link, 6 x 325.7 ms of transfer + 8 x 64 / 150 s of compute,
    // 3,072 examples a round, 7/3 the examples
    const h8 = d.candidates.find((c) => c.mode.kind === 'local' && c.mode.steps === 8)?.prediction;
    const roundMs = (6 * 2 * P * 4) / 2500 + (8 * 64 * 1000) / 150;
    expect(h8?.seconds).toBeCloseTo(70_000 / ((3072 / roundMs) * 1000), 3);
    expect((chosen?.prediction.seconds ?? Number.POSITIVE_INFINITY) * 2).toBeLessThan(exact.seconds);
    expect(d.reason).toMatch(/^mode local, H = \d+: .*against \d+ s in exact mode$/);
  });

  it('is never predicted slower than exact mode, over many rooms', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let locals = 0;
    for (let i = 0; i < 200; i++) {
      const members: MemberCost[] = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => ({
        examplesPerSec: 10 + rnd() * 5000,
        shardMs: rnd() * 50,
        upMbit: 1 + rnd() * 500,
        downMbit: 1 + rnd() * 500,
        latencyMs: rnd() * 40,
      }));
      const d = chooseMode({
        members,
        parameters: 1000 + Math.floor(rnd() * 500_000),
        batchSize: 16 + Math.floor(rnd() * 256),
        examplesExact: 30_000,
      });
      const best = Math.min(...d.candidates.map((c) => c.prediction.seconds));
      const chosen = d.candidates.find((c) => JSON.stringify(c.mode) === JSON.stringify(d.choice));
      expect(chosen?.prediction.seconds).toBe(best);
      expect(best).toBeLessThanOrEqual(d.candidates[0].prediction.seconds);
      if (d.choice.kind === 'local') locals++;
    }
    // both answers occur: the property is not vacuous
    expect(locals).toBeGreaterThan(0);
    expect(locals).toBeLessThan(200);
  });
});
