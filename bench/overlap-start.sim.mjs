// Where an early group (overlap, mode local) should start, on a model small enough to reason about:
// two members, each minimizing its own quadratic 0.5 (x - c)ᵀ D (x - c), with different minima c
// (+a and -a: their partitions pull apart; the room's minimum is 0). A round is H steps of
// gradient descent from the round's start; the outer step adds the members' mean move (plain
// averaging, the step after a warm start). Member A always starts from the newest weights; member B
// is always early, starting from one of:
//   plain: the newest weights too (no overlap: the baseline);
//   eager: the weights it was sent (one outer step old) plus its own last move (gradroom's overlap);
//   stale: the weights it was sent, one outer step old.
// It prints the room's loss after ROUNDS rounds, for H = 2 and 8. No noise, no tfjs: the point is
// the bias of each start, which measured runs (README "Overlap after a warm start") only show mixed
// with noise.
//   node bench/overlap-start.sim.mjs     (ROUNDS=40 by default)
import { report } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 40);
const N = 50;
const curvature = Array.from({ length: N }, (_, i) => 0.002 + i * 0.02);
const ETA = 0.5;
const a = curvature.map((_, i) => Math.sin(i));
const b = a.map((v) => -v);

const add = (x, y, k = 1) => x.map((v, i) => v + k * y[i]);
const mean = (x, y) => x.map((v, i) => (v + y[i]) / 2);
const loss = (x) => 0.5 * x.reduce((s, v, i) => s + curvature[i] * v * v, 0);
/** H steps of gradient descent on a member's quadratic with minimum c, from s: the move. */
const move = (h, s, c) => s.map((v, i) => (v - c[i]) * ((1 - ETA * curvature[i]) ** h - 1));

function run(h, start) {
  const w0 = curvature.map(() => 1);
  // round 0: both from w0
  let mB = move(h, w0, b);
  let prev = w0;
  let w = add(w0, mean(move(h, w0, a), mB));
  for (let r = 1; r < ROUNDS; r++) {
    const from = start === 'plain' ? w : start === 'eager' ? add(prev, mB) : prev;
    const mA = move(h, w, a);
    mB = move(h, from, b);
    prev = w;
    w = add(w, mean(mA, mB));
  }
  return loss(w);
}

const entries = [];
for (const h of [2, 8]) {
  const plain = run(h, 'plain');
  for (const start of ['plain', 'eager', 'stale']) {
    const value = run(h, start);
    entries.push({
      name: `H = ${h}, member B's start: ${start}`,
      value,
      unit: 'loss',
      baseline: plain,
      ratio: value / plain,
    });
  }
}
report('overlap-start-sim', entries, { rounds: ROUNDS, members: 2, dimensions: N, eta: ETA });
