/**
 * Gradient aggregation for one iteration. Workers send sums over their shard (never means, DESIGN.md
 * contract 2); the coordinator adds them here and divides once by the planned batch size, so the
 * result is the gradient of the mean loss however the batch was split.
 *
 * A shard is checked completely before anything is accumulated: a rejected shard (wrong length,
 * NaN/Inf, bad counts, already added) leaves the aggregator exactly as it was.
 */
import { GradroomError } from './errors.js';

/** What the aggregator needs from a worker's result (a ResultMessage satisfies it). */
export interface ShardSums {
  shardId: number;
  gradSum: Float32Array;
  lossSum: number;
  correct: number;
  count: number;
}

/**
 * Throws BAD_LENGTH if `grad` does not hold `paramCount` values, NON_FINITE naming the first NaN or
 * Inf. `label` prefixes the message ('shard 3').
 */
export function checkGradient(grad: Float32Array, paramCount: number, label: string): void {
  if (!(grad instanceof Float32Array))
    throw new GradroomError('BAD_MESSAGE', `${label}: gradient must be a Float32Array`);
  if (grad.length !== paramCount) {
    throw new GradroomError('BAD_LENGTH', `${label}: gradient has ${grad.length} values, expected ${paramCount}`);
  }
  // x * 0 is 0 for finite x and NaN for NaN/Inf: one branch-free pass, the index search only on failure.
  let probe = 0;
  for (let i = 0; i < grad.length; i++) probe += grad[i] * 0;
  if (probe === 0) return;
  for (let i = 0; i < grad.length; i++) {
    if (!Number.isFinite(grad[i])) {
      throw new GradroomError('NON_FINITE', `${label}: gradient holds ${grad[i]} at index ${i}`);
    }
  }
}

/**
 * (g1 + g2 + ...) / batchSize in one pass, adding in float64 so that the result does not depend
 * (beyond 1e-12 or so) on how the batch was split or the order the shards arrived in.
 */
function meanOf(grads: readonly Float32Array[], batchSize: number, n: number, out: Float32Array): Float32Array {
  const inv = 1 / batchSize;
  if (grads.length === 1) {
    const a = grads[0];
    for (let i = 0; i < n; i++) out[i] = a[i] * inv;
  } else if (grads.length === 2) {
    const [a, b] = grads;
    for (let i = 0; i < n; i++) out[i] = (a[i] + b[i]) * inv;
  } else {
    const sum = new Float64Array(n);
    for (const g of grads) for (let i = 0; i < n; i++) sum[i] += g[i];
    for (let i = 0; i < n; i++) out[i] = sum[i] * inv;
  }
  return out;
}

export class Aggregator {
  readonly paramCount: number;
  /** Accepted shard gradients, in the order they were added; summed once, in mean(). */
  private readonly grads: Float32Array[] = [];
  private readonly seen = new Set<number>();
  private _count = 0;
  private _lossSum = 0;
  private _correct = 0;

  constructor(paramCount: number) {
    if (!Number.isSafeInteger(paramCount) || paramCount <= 0) {
      throw new GradroomError('BAD_CONFIG', `aggregator: paramCount must be a positive integer, got ${paramCount}`);
    }
    this.paramCount = paramCount;
  }

  /** Adds one shard's sums; throws (state unchanged) on anything unusable. Never applies a shard twice. */
  add(shard: ShardSums): void {
    const { shardId, gradSum, lossSum, correct, count } = shard;
    if (!Number.isSafeInteger(shardId) || shardId < 0) {
      throw new GradroomError('BAD_MESSAGE', `shard ${shardId}: shardId must be a non-negative integer`);
    }
    const label = `shard ${shardId}`;
    if (this.seen.has(shardId)) throw new GradroomError('BAD_STATE', `${label}: already added`);
    if (!Number.isSafeInteger(count) || count <= 0) {
      throw new GradroomError('BAD_MESSAGE', `${label}: count must be a positive integer, got ${count}`);
    }
    if (!Number.isSafeInteger(correct) || correct < 0 || correct > count) {
      throw new GradroomError('BAD_MESSAGE', `${label}: correct must be an integer in [0, ${count}], got ${correct}`);
    }
    if (typeof lossSum !== 'number' || !Number.isFinite(lossSum)) {
      throw new GradroomError('NON_FINITE', `${label}: lossSum is ${lossSum}`);
    }
    checkGradient(gradSum, this.paramCount, label);

    // kept by reference: a result belongs to the aggregator once added (the worker transferred it)
    this.grads.push(gradSum);
    this.seen.add(shardId);
    this._count += count;
    this._lossSum += lossSum;
    this._correct += correct;
  }

  has(shardId: number): boolean {
    return this.seen.has(shardId);
  }

  /** Examples counted so far, over all added shards. */
  get count(): number {
    return this._count;
  }
  get lossSum(): number {
    return this._lossSum;
  }
  get correct(): number {
    return this._correct;
  }
  /** How many shards were added. */
  get shards(): number {
    return this.seen.size;
  }

  /**
   * The gradient of the mean loss over the batch: sum / batchSize. `batchSize` is the size the
   * coordinator planned; BAD_STATE if the examples counted differ (a shard missing or extra).
   * Written into `out` when given (e.g. the optimizer's own gradient buffer), else a new array.
   */
  mean(batchSize: number, out?: Float32Array): Float32Array {
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
      throw new GradroomError('BAD_CONFIG', `aggregator: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (this._count !== batchSize) {
      throw new GradroomError(
        'BAD_STATE',
        `aggregator: ${this._count} examples counted over ${this.seen.size} shards, expected batch of ${batchSize}`,
      );
    }
    if (out && out.length !== this.paramCount) {
      throw new GradroomError(
        'BAD_LENGTH',
        `aggregator: output buffer has ${out.length} values, expected ${this.paramCount}`,
      );
    }
    return meanOf(this.grads, batchSize, this.paramCount, out ?? new Float32Array(this.paramCount));
  }

  /** Clears everything for the next iteration (keeps the buffer). */
  reset(): void {
    this.grads.length = 0;
    this.seen.clear();
    this._count = 0;
    this._lossSum = 0;
    this._correct = 0;
  }
}
