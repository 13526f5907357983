/**
 * The one gate every worker result passes before anything counts it (DISCO's isValidContribution):
 * counts against what was asked, then the vector, read once. That single pass checks the length,
 * finds NaN/Inf (a sum of squares is non-finite exactly when a value is: float32's largest square
 * summed over any real model stays far inside float64) and measures the norm the gradient bound
 * needs, so nothing downstream reads the vector again to check it.
 *
 * What passes is a Checked* object; the Aggregator and the local-round sum take those as they are.
 */
import { decodeUpdate, type EncodedUpdate } from './compress.js';
import { GradroomError } from './errors.js';

/** Loss and accuracy sums over some examples: what every result, evaluation and epoch carries. */
export interface Counts {
  lossSum: number;
  correct: number;
  count: number;
}

/** Checks a result's counts against the `expected` number of examples. */
export function checkCounts(r: Counts, expected: number, label: string): void {
  if (typeof r.lossSum !== 'number' || !Number.isFinite(r.lossSum))
    throw new GradroomError('NON_FINITE', `${label}: lossSum is ${r.lossSum}`);
  if (!Number.isSafeInteger(r.count) || r.count <= 0)
    throw new GradroomError('BAD_MESSAGE', `${label}: count must be a positive integer, got ${r.count}`);
  if (r.count !== expected)
    throw new GradroomError('BAD_MESSAGE', `${label}: counted ${r.count} examples, it holds ${expected}`);
  if (!(Number.isSafeInteger(r.correct) && r.correct >= 0 && r.correct <= r.count))
    throw new GradroomError('BAD_MESSAGE', `${label}: correct must be an integer in [0, ${r.count}], got ${r.correct}`);
}

/**
 * Length, finiteness and squared norm of `v` in one pass. Throws BAD_LENGTH, or NON_FINITE naming
 * the first NaN/Inf; returns the sum of squares.
 */
export function checkVector(v: Float32Array, length: number, label: string, what = 'gradient'): number {
  if (!(v instanceof Float32Array)) throw new GradroomError('BAD_MESSAGE', `${label}: ${what} must be a Float32Array`);
  if (v.length !== length)
    throw new GradroomError('BAD_LENGTH', `${label}: ${what} has ${v.length} values, expected ${length}`);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (Number.isFinite(s)) return s;
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i])) throw new GradroomError('NON_FINITE', `${label}: ${what} holds ${v[i]} at index ${i}`);
  return s; // unreachable for float32 input
}

/**
 * A shard's gradient sum that passed the gate. `normPerExample` is ||gradSum|| / sqrt(count), the
 * figure the gradient bound compares (see GradientBound).
 */
export class CheckedShard implements Counts {
  private constructor(
    readonly shardId: number,
    readonly gradSum: Float32Array,
    readonly lossSum: number,
    readonly correct: number,
    readonly count: number,
    readonly normPerExample: number,
  ) {}

  /** The gate for a gradient sum over `expected` examples of a model with `paramCount` values. */
  static check(
    r: Counts & { shardId: number; gradSum: Float32Array },
    expected: { count: number; paramCount: number },
    label = `shard ${r.shardId}`,
  ): CheckedShard {
    if (!Number.isSafeInteger(r.shardId) || r.shardId < 0)
      throw new GradroomError('BAD_MESSAGE', `shard ${r.shardId}: shardId must be a non-negative integer`);
    checkCounts(r, expected.count, label);
    const sq = checkVector(r.gradSum, expected.paramCount, label);
    return new CheckedShard(r.shardId, r.gradSum, r.lossSum, r.correct, r.count, Math.sqrt(sq / r.count));
  }
}

/** A local round's pseudo-gradient (w_start - w_end), decoded and checked: the mode-local twin of CheckedShard. */
export class CheckedUpdate implements Counts {
  private constructor(
    readonly delta: Float32Array,
    readonly lossSum: number,
    readonly correct: number,
    readonly count: number,
    /** ||delta||: the figure the update bound compares. */
    readonly norm: number,
    /** Overlap: the worker says a catch-up reached it mid-round (a count for the events, nothing more). */
    readonly caughtUp: boolean,
  ) {}

  /**
   * The gate for a pseudo-gradient sent as floats (`delta`) or compressed (`encoded`, which must be
   * the kind asked for); decoded here, once.
   */
  static check(
    r: Counts & { delta?: Float32Array; encoded?: EncodedUpdate; caughtUp?: boolean },
    expected: { count: number; paramCount: number; compress: 'none' | EncodedUpdate['kind'] },
    label: string,
  ): CheckedUpdate {
    checkCounts(r, expected.count, label);
    let delta: Float32Array;
    if (r.encoded) {
      if (expected.compress === 'none' || r.encoded.kind !== expected.compress)
        throw new GradroomError('BAD_MESSAGE', `${label}: sent ${r.encoded.kind}, asked for ${expected.compress}`);
      delta = decodeUpdate(r.encoded, expected.paramCount);
    } else {
      if (!r.delta) throw new GradroomError('BAD_MESSAGE', `${label}: no pseudo-gradient`);
      delta = r.delta;
    }
    const sq = checkVector(delta, expected.paramCount, label, 'pseudo-gradient');
    return new CheckedUpdate(delta, r.lossSum, r.correct, r.count, Math.sqrt(sq), r.caughtUp === true);
  }
}

/** An evaluation shard's sums, checked. */
export function checkEvaluation(r: Counts, expected: number, label: string): Counts {
  checkCounts(r, expected, label);
  return { lossSum: r.lossSum, correct: r.correct, count: r.count };
}
