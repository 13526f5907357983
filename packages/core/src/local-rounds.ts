/**
 * How many mini-batches a local round takes, and how many inner steps each member runs, from what is
 * left of the epoch (a round never crosses an epoch's end). A full round gives H to each member; the
 * epoch's last round, with less than that left, is spread over every member rather than handed out
 * H at a time. Handed out H at a time, it left members standing by while one or a few ran all H
 * steps: measured (round 7), MNIST's 125 mini-batches with 7 members at H = 32 made 4 groups of 32
 * while 3 members stood by; spread, all 7 run 18 steps and the round takes about half the time.
 * The runner and the cost model use this one rule, so mode auto prices what runs.
 */
import { GradroomError } from './errors.js';

export interface RoundShape {
  /** Mini-batches in this round. */
  batches: number;
  /** Inner steps a member runs this round (at most H). */
  steps: number;
}

/** The next round's shape with `left` mini-batches left in the epoch, `workers` members and H `steps`. */
export function roundShape(left: number, workers: number, steps: number): RoundShape {
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new GradroomError('BAD_CONFIG', `roundShape: steps must be a positive integer, got ${steps}`);
  const w = Math.max(1, Math.floor(workers));
  if (!(left > 0)) return { batches: 0, steps };
  if (left >= w * steps) return { batches: w * steps, steps };
  return { batches: left, steps: Math.ceil(left / w) };
}

/**
 * An epoch of `epochBatches` mini-batches in rounds of roundShape: its full rounds (H steps each) and
 * its last, shorter one (0 steps where the epoch divides evenly).
 */
export function epochRounds(epochBatches: number, workers: number, steps: number): { full: number; last: RoundShape } {
  const w = Math.max(1, Math.floor(workers));
  const full = Math.floor(epochBatches / (w * steps));
  const left = epochBatches - full * w * steps;
  return { full, last: left > 0 ? roundShape(left, w, steps) : { batches: 0, steps: 0 } };
}

/**
 * Below this share of the round's median compute speed a member runs fewer than H steps (above it,
 * H: members about as fast as the rest keep the same steps, so measurement noise moves nothing).
 */
export const SLOW_SHARE = 0.8;

/**
 * The reference speed of a round's members, examples/s: the upper median of those measured (a
 * speed of 0 or less is unmeasured), or 0 with fewer than two measured (nothing to compare).
 */
export function medianSpeed(speeds: readonly number[]): number {
  const known = speeds.filter((s) => Number.isFinite(s) && s > 0).sort((a, b) => a - b);
  return known.length < 2 ? 0 : known[known.length >> 1];
}

/**
 * Inner steps for one member of a full round of H steps, by its measured compute speed against the
 * round's median (medianSpeed): H, or for a member clearly slower than the median H x its share of
 * it (at least 1), so that it ends about when the others do instead of holding the round (and, with
 * overlap, every member's next round) while they wait. A member faster than the median still runs
 * H: more steps than H would drift further than the job asked. Unmeasured members run H.
 */
export function stepsForSpeed(h: number, speed: number, median: number): number {
  if (!(Number.isFinite(speed) && speed > 0 && median > 0) || speed >= SLOW_SHARE * median) return h;
  return Math.max(1, Math.min(h, Math.round((h * speed) / median)));
}
