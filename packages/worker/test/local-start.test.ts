/**
 * Where LocalTrainer's rounds start: every round, an early one (overlap) included, from the weights
 * as sent, whatever the worker trained before, and each answers its own move. A catch-up (the outer
 * step an early round missed) is added before the next inner step of the early round it names (its
 * first, when it came before the round started); one that comes too late reaches nothing. Checked
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

describe('LocalTrainer: where a round starts', () => {
  it('each round starts from the weights sent, whatever came before, and answers its own move', async () => {
    const { computer, seen } = stub();
    const t = new LocalTrainer();
    const w1 = vec(0, 0, 0, 0);
    const r1 = await t.round(computer, w1, [batch(2), batch(2)], [0.25, 0.25], sgd);
    const d1 = r1.delta as Float32Array;
    // two steps of w -= 0.25 (w - target) from 0: w = target * (1 - 0.75^2)
    for (let j = 0; j < DIM; j++) expect(d1[j]).toBeCloseTo(-(j + 1) * (1 - 0.75 ** 2), 6);
    expect(Array.from(seen[0])).toEqual(Array.from(w1));

    // the next round (as an early group gets: weights that do not hold d1) starts from them as sent
    const w2 = vec(0.5, -0.5, 1, 2);
    seen.length = 0;
    const r2 = await t.round(computer, w2, [batch(3)], [0.25], sgd);
    expect(Array.from(seen[0])).toEqual(Array.from(w2));
    // its answer is its own move from there: one step, 0.25 (w2 - target)
    const d2 = r2.delta as Float32Array;
    for (let j = 0; j < DIM; j++) expect(d2[j]).toBeCloseTo(0.25 * (w2[j] - (j + 1)), 6);
    // the sent weights are never changed in place
    expect(Array.from(w2)).toEqual([0.5, -0.5, 1, 2]);
  });

  it('with an int8 answer too, the next round starts from the weights sent', async () => {
    const a = stub();
    const t = new LocalTrainer();
    const w = vec(0.1, 0.2, 0.3, 0.4);
    await t.round(a.computer, w, [batch(2)], [0.25], sgd, 'int8');
    const w2 = vec(1, 2, 3, 5);
    a.seen.length = 0;
    await t.round(a.computer, w2, [batch(1)], [0.25], sgd, 'int8');
    expect(Array.from(a.seen[0])).toEqual(Array.from(w2));
  });

  it('an early round takes its catch-up before its next inner step; the answer stays start - end', async () => {
    const { computer, seen } = stub();
    const t = new LocalTrainer();
    const w = vec(0, 0, 0, 0);
    const shift = vec(1, -1, 0.5, 2);
    // the catch-up arrives while the first inner step computes (as a message would, mid-round),
    // with one for another round that this one must not take
    const compute = computer.compute.bind(computer);
    let calls = 0;
    computer.compute = async (ex) => {
      if (++calls === 1) {
        t.catchUp(8, vec(9, 9, 9, 9));
        t.catchUp(7, shift);
      }
      return compute(ex);
    };
    const r = await t.round(computer, w, [batch(1), batch(1)], [0.25, 0.25], sgd, 'none', undefined, 7, true);
    expect(r.caughtUp).toBe(true);
    // step 1 from w: w1 = w - 0.25 (w - target); step 2 from w1 + shift
    const target = [1, 2, 3, 4];
    const w1 = target.map((c, j) => w[j] - 0.25 * (w[j] - c));
    for (let j = 0; j < DIM; j++) expect(seen[1][j]).toBeCloseTo(w1[j] + shift[j], 6);
    const end = target.map((c, j) => seen[1][j] - 0.25 * (seen[1][j] - c));
    const d = r.delta as Float32Array;
    for (let j = 0; j < DIM; j++) expect(d[j]).toBeCloseTo(w[j] - end[j], 6);
  });

  it('a catch-up that comes before its round starts is taken at the first step', async () => {
    const { computer, seen } = stub();
    const t = new LocalTrainer();
    t.catchUp(5, vec(1, 1, 1, 1));
    const r = await t.round(
      computer,
      vec(0, 0, 0, 0),
      [batch(1), batch(1)],
      [0.25, 0.25],
      sgd,
      'none',
      undefined,
      5,
      true,
    );
    expect(r.caughtUp).toBe(true);
    expect(Array.from(seen[0])).toEqual([1, 1, 1, 1]);
  });

  it('a catch-up that comes once the last step has started reaches nothing, and no later round', async () => {
    const { computer, seen } = stub();
    const t = new LocalTrainer();
    const compute = computer.compute.bind(computer);
    computer.compute = async (ex) => {
      t.catchUp(3, vec(9, 9, 9, 9)); // during the round's last (only) step
      return compute(ex);
    };
    const w = vec(0, 0, 0, 0);
    const r = await t.round(computer, w, [batch(1)], [0.25], sgd, 'none', undefined, 3, true);
    expect(r.caughtUp).toBeUndefined();
    // one step from w, nothing added: delta = 0.25 (w - target)
    const d = r.delta as Float32Array;
    for (let j = 0; j < DIM; j++) expect(d[j]).toBeCloseTo(0.25 * (w[j] - (j + 1)), 6);
    // a plain round of the same name (the group given again, from new weights) does not take it
    computer.compute = compute;
    seen.length = 0;
    const p = await t.round(computer, w, [batch(1), batch(1)], [0.25, 0.25], sgd, 'none', undefined, 3, false);
    expect(p.caughtUp).toBeUndefined();
    expect(Array.from(seen[0])).toEqual([0, 0, 0, 0]);
  });
});
