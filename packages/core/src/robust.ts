/**
 * Robust aggregation, an opt-in mode for untrusted rooms (DESIGN.md, trust; issue 10 item 6).
 *
 * Exact mode adds the shards' gradient sums, so one peer that sends a wrong value inside the
 * GradientBound moves the step by its whole share. Here each shard is first turned into its MEAN
 * (gradSum / count) and the step takes, coordinate by coordinate, the median of those means or
 * their trimmed mean (the smallest and largest `trim` share dropped). A minority of hostile shards
 * then moves a coordinate at most to the edge of the honest values.
 *
 * The price: the result is not the mini-batch's gradient any more (shards of different sizes count
 * the same, and trimming drops honest data too), so the run leaves the serial loop's path; and it
 * defends nothing when hostile shards are half or more of an iteration's. Pure, no allocation per
 * coordinate: O(params x shards x log shards) with a small insertion sort.
 */
import { GradroomError } from './errors.js';

/** 'sum' is exact mode (core's Aggregator); the others are robust means of per-shard means. */
export type Aggregation = 'sum' | 'trimmed-mean' | 'median';
export const AGGREGATIONS: readonly Aggregation[] = ['sum', 'trimmed-mean', 'median'];

/** What robust aggregation needs from a shard (a ShardSums or a worker's result satisfies it). */
export interface ShardGradient {
  gradSum: Float32Array;
  count: number;
}

/** Share of the shards dropped at EACH end of a coordinate's sorted means by default. */
export const DEFAULT_TRIM = 0.25;

/**
 * Shards dropped at each end for `shards` of them: floor(trim x shards), but at least one from 3
 * shards on (otherwise 3 or 4 workers, a typical room, would trim nothing), and always leaving one.
 */
export function trimCount(shards: number, trim = DEFAULT_TRIM): number {
  if (!(Number.isSafeInteger(shards) && shards > 0))
    throw new GradroomError('BAD_CONFIG', `robust aggregation: shards must be a positive integer, got ${shards}`);
  if (!(trim >= 0 && trim < 0.5))
    throw new GradroomError('BAD_CONFIG', `robust aggregation: trim must be in [0, 0.5), got ${trim}`);
  if (shards < 3 || trim === 0) return 0;
  return Math.min(Math.max(1, Math.floor(trim * shards)), (shards - 1) >> 1);
}

/**
 * The coordinate-wise median (mode 'median') or trimmed mean ('trimmed-mean') of the shards' means,
 * written into `out` when given. Throws BAD_CONFIG for another mode, BAD_STATE with no shard,
 * BAD_LENGTH for gradients of different lengths, BAD_MESSAGE for a count that is not a positive integer.
 */
export function robustMean(
  shards: readonly ShardGradient[],
  mode: Aggregation,
  out?: Float32Array,
  opts: { trim?: number } = {},
): Float32Array {
  if (mode !== 'median' && mode !== 'trimmed-mean')
    throw new GradroomError(
      'BAD_CONFIG',
      `robust aggregation: mode must be 'median' or 'trimmed-mean', got ${String(mode)}`,
    );
  const k = shards.length;
  if (k === 0) throw new GradroomError('BAD_STATE', 'robust aggregation: no shard to aggregate');
  const n = shards[0].gradSum.length;
  const inv = new Float64Array(k);
  shards.forEach((s, j) => {
    if (!(Number.isSafeInteger(s.count) && s.count > 0))
      throw new GradroomError('BAD_MESSAGE', `robust aggregation: shard ${j} counts ${s.count} examples`);
    if (s.gradSum.length !== n)
      throw new GradroomError(
        'BAD_LENGTH',
        `robust aggregation: shard ${j} has ${s.gradSum.length} values, shard 0 has ${n}`,
      );
    inv[j] = 1 / s.count;
  });
  const result = out ?? new Float32Array(n);
  if (result.length !== n)
    throw new GradroomError('BAD_LENGTH', `robust aggregation: output has ${result.length} values, expected ${n}`);
  const t = mode === 'median' ? 0 : trimCount(k, opts.trim);
  const g = shards.map((s) => s.gradSum);
  if (k <= 2) {
    // one or two shards: median and trimmed mean are both the mean of the means
    const [a, b] = [g[0], g[k - 1]];
    const [ia, ib] = [inv[0], inv[k - 1]];
    for (let i = 0; i < n; i++) result[i] = (a[i] * ia + b[i] * ib) / 2;
    return result;
  }
  const v = new Float64Array(k);
  const lo = t;
  const hi = k - t; // the kept values are v[lo..hi)
  const mid = k >> 1;
  for (let i = 0; i < n; i++) {
    // insertion sort of k means: k is the number of shards of one iteration, a handful
    for (let j = 0; j < k; j++) {
      const x = g[j][i] * inv[j];
      let p = j;
      while (p > 0 && v[p - 1] > x) {
        v[p] = v[p - 1];
        p--;
      }
      v[p] = x;
    }
    if (mode === 'median') result[i] = k % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    else {
      let s = 0;
      for (let j = lo; j < hi; j++) s += v[j];
      result[i] = s / (hi - lo);
    }
  }
  return result;
}
