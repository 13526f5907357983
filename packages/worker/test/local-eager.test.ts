/**
 * Overlap (eager rounds) on the worker: LocalTrainer starts an eager round from the weights sent
 * minus its own last pseudo-gradient (which those weights do not hold yet), a plain round from the
 * weights as sent, and a worker with no last pseudo-gradient from the weights as sent too. Checked
 * with a stub computer that records the weights each inner step starts from.
 */
import { describe, expect, it } from 'vitest';
import { LocalTrainer } from '../src/local.js';
import type { ShardComputer } from '../src/shard.js';

const DIM = 4;

/** Gradient sum = count * (w - target): each step pulls w toward `target`; records every start. */
function stub() {
  let w = new Float32Array(DIM);
  const seen: Float32Array[] = [];
  const computer = {
    setWeights: (p: Float32Array) => {
      w = p.slice();
      seen.push(w);
    },
    compute: async (ex: { x: Float32Array; y: Int32Array }) => {
      const n = ex.y.length;
      const gradSum = new Float32Array(DIM);
      for (let j = 0; j < DIM; j++) gradSum[j] = n * (w[j] - (j + 1));
      return { gradSum, lossSum: n, correct: 0, count: n };
    },
  };
  return { computer: computer as unknown as ShardComputer, seen };
}

const batch = (n: number) => ({ x: new Float32Array(n * DIM), y: new Int32Array(n) });
const sgd = { kind: 'sgd', lr: 0.25 } as const;
const vec = (...v: number[]) => Float32Array.from(v);

describe('LocalTrainer eager rounds', () => {
  it('an eager round starts from W - delta_prev, a plain one from W, and each answers its own move', async () => {
    const { computer, seen } = stub();
    const t = new LocalTrainer();
    const w1 = vec(0, 0, 0, 0);
    const r1 = await t.round(computer, w1, [batch(2), batch(2)], [0.25, 0.25], sgd);
    const d1 = r1.delta as Float32Array;
    // two steps of w -= 0.25 (w - target) from 0: w = target * (1 - 0.75^2)
    for (let j = 0; j < DIM; j++) expect(d1[j]).toBeCloseTo(-(j + 1) * (1 - 0.75 ** 2), 6);
    expect(Array.from(seen[0])).toEqual(Array.from(w1));

    // eager: the weights sent do not hold d1 yet; the round starts from w2 - d1
    const w2 = vec(0.5, -0.5, 1, 2);
    seen.length = 0;
    const r2 = await t.round(computer, w2, [batch(3)], [0.25], sgd, 'none', undefined, true);
    const from = w2.map((v, j) => v - d1[j]);
    for (let j = 0; j < DIM; j++) expect(seen[0][j]).toBeCloseTo(from[j], 6);
    // its answer is its own move from there: one step, 0.25 (from - target)
    const d2 = r2.delta as Float32Array;
    for (let j = 0; j < DIM; j++) expect(d2[j]).toBeCloseTo(0.25 * (from[j] - (j + 1)), 6);

    // plain: from the weights as sent, whatever came before
    const w3 = vec(3, 3, 3, 3);
    seen.length = 0;
    await t.round(computer, w3, [batch(1)], [0.25], sgd);
    expect(Array.from(seen[0])).toEqual(Array.from(w3));
    // the sent weights are never changed in place
    expect(Array.from(w2)).toEqual([0.5, -0.5, 1, 2]);
  });

  it('an eager round on a worker with no last pseudo-gradient starts from W', async () => {
    const { computer, seen } = stub();
    const w = vec(1, 2, 3, 5);
    await new LocalTrainer().round(computer, w, [batch(1)], [0.25], sgd, 'none', undefined, true);
    expect(Array.from(seen[0])).toEqual(Array.from(w));
  });

  it('the last pseudo-gradient kept is the uncompressed one, also when the answer is int8', async () => {
    const a = stub();
    const b = stub();
    const t = new LocalTrainer();
    const plain = new LocalTrainer();
    const w = vec(0.1, 0.2, 0.3, 0.4);
    await t.round(a.computer, w, [batch(2)], [0.25], sgd, 'int8');
    const r = await plain.round(b.computer, w, [batch(2)], [0.25], sgd, 'none');
    const d = r.delta as Float32Array;
    a.seen.length = 0;
    await t.round(a.computer, w, [batch(1)], [0.25], sgd, 'int8', undefined, true);
    for (let j = 0; j < DIM; j++) expect(a.seen[0][j]).toBeCloseTo(w[j] - d[j], 6);
  });
});
