// How an early group (overlap, mode local) should start and be counted, on a model small enough to
// reason about: M members, each minimizing its own quadratic 0.5 (x - c_j)ᵀ D (x - c_j) with its own
// minimum c_j (their partitions pull apart; the room's minimum is their mean). A round is H steps of
// gradient descent; the outer step is plain averaging (lr 1, the rule after a warm start). An early
// member starts from the weights one outer step old. Its result can be:
//   as sent:     its move from where it started, added to the newest weights (a stale pseudo-gradient);
//   from its end: counted as the newest weights minus where it ended;
//   not caught up, a quarter / a half: its move plus that share of the missed step (gradroom counts a
//                group whose catch-up came too late with half);
//   caught up:   it adds the missed outer step to its weights after half its steps ("when the new
//                weights arrive, it applies the difference"), counted from its end (gradroom's overlap);
//   eager:       (round nine's overlap) it starts from the old weights plus its own last move, counted as sent.
// Early: member B only (of two), or every member (as when all finish before the round closes). It
// prints the room's loss above its minimum after ROUNDS rounds, against plain averaging (no overlap),
// for H = 2 and 8. No noise, no tfjs: the point is the bias and the stability of each rule.
//   node bench/overlap-start.sim.mjs     (ROUNDS=40, MEMBERS=2 by default)
import { report } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 40);
const M = Number(process.env.MEMBERS ?? 2);
const N = 50;
const curvature = Array.from({ length: N }, (_, i) => 0.002 + i * 0.02);
const ETA = 0.5;
const minima = Array.from({ length: M }, (_, j) => curvature.map((_, i) => Math.sin(i * (j + 1) + j)));
const room = curvature.map((_, i) => minima.reduce((s, c) => s + c[i], 0) / M);
const above = (x) => 0.5 * x.reduce((s, v, i) => s + curvature[i] * (v - room[i]) ** 2, 0);
/** Where h steps of gradient descent on a member's quadratic (minimum c) end, from s. */
const end = (h, s, c) => s.map((v, i) => c[i] + (v - c[i]) * (1 - ETA * curvature[i]) ** h);

function run(h, rule, who) {
  let w = curvature.map(() => 1);
  let prev = w;
  const last = minima.map(() => w.map(() => 0)); // each member's last move (eager)
  for (let r = 0; r < ROUNDS; r++) {
    const counted = minima.map((c, j) => {
      const early = r > 0 && rule !== 'plain' && (who === 'every member' || j === M - 1);
      if (!early) {
        const e = end(h, w, c);
        last[j] = e.map((v, i) => v - w[i]);
        return e; // its end: the newest weights plus its move
      }
      if (rule === 'eager') {
        const s = prev.map((v, i) => v + last[j][i]);
        const e = end(h, s, c);
        last[j] = e.map((v, i) => v - s[i]);
        return w.map((v, i) => v + last[j][i]);
      }
      if (rule === 'as sent') return end(h, prev, c).map((v, i) => v - prev[i] + w[i]);
      if (rule === 'from its end') return end(h, prev, c);
      // not caught up (it ended before the missed step came), counted as its move plus a share of
      // the missed step: between as sent (none) and from its end (all); gradroom counts half
      if (rule === 'not caught up, a quarter') return end(h, prev, c).map((v, i) => v + 0.75 * (w[i] - prev[i]));
      if (rule === 'not caught up, a half') return end(h, prev, c).map((v, i) => v + 0.5 * (w[i] - prev[i]));
      // caught up: half its steps from the old weights, the missed step added, the rest
      const k = Math.floor(h / 2);
      const mid = end(k, prev, c).map((v, i) => v + w[i] - prev[i]);
      return end(h - k, mid, c);
    });
    prev = w;
    w = w.map((_, i) => counted.reduce((s, e) => s + e[i], 0) / M);
  }
  return above(w);
}

const entries = [];
for (const who of ['one member', 'every member'])
  for (const h of [2, 8]) {
    const plain = run(h, 'plain', who);
    for (const rule of [
      'eager',
      'as sent',
      'from its end',
      'not caught up, a quarter',
      'not caught up, a half',
      'caught up',
    ]) {
      const value = run(h, rule, who);
      entries.push({
        name: `${M} members, ${who} early, H = ${h}: ${rule}`,
        value,
        unit: 'loss above the minimum',
        baseline: plain,
        ratio: value / plain,
      });
    }
  }
report(M === 2 ? 'overlap-start-sim' : `overlap-start-sim-${M}`, entries, {
  rounds: ROUNDS,
  members: M,
  dimensions: N,
  eta: ETA,
});
