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
