/**
 * Gradient aggregation for one iteration. Workers send sums over their shard (never means, DESIGN.md
 * contract 2); the coordinator adds them here and divides once by the planned batch size, so the
 * result is the gradient of the mean loss however the batch was split.
 *
 * A shard is checked completely before anything is accumulated (by the result gate, result-gate.ts):
 * a rejected shard (wrong length, NaN/Inf, bad counts, already added) leaves the aggregator exactly
 * as it was.
 */
import { GradroomError } from './errors.js';
import { CheckedShard, checkVector } from './result-gate.js';

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
 * Inf. `label` prefixes the message ('shard 3'). The result gate's vector check (result-gate.ts).
 */
export function checkGradient(grad: Float32Array, paramCount: number, label: string): void {
  checkVector(grad, paramCount, label);
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

  /**
   * Adds one shard's sums; throws (state unchanged) on anything unusable. Never applies a shard twice.
   * A CheckedShard has passed the result gate already and is not read again; anything else goes
   * through the same gate here.
   */
  add(shard: ShardSums | CheckedShard): void {
    const c =
      shard instanceof CheckedShard
        ? shard
        : CheckedShard.check(shard, { count: shard.count, paramCount: this.paramCount });
    if (this.seen.has(c.shardId)) throw new GradroomError('BAD_STATE', `shard ${c.shardId}: already added`);
    if (c.gradSum.length !== this.paramCount)
      throw new GradroomError(
        'BAD_LENGTH',
        `shard ${c.shardId}: gradient has ${c.gradSum.length} values, expected ${this.paramCount}`,
      );
    // kept by reference: a result belongs to the aggregator once added (the worker transferred it)
    this.grads.push(c.gradSum);
    this.seen.add(c.shardId);
    this._count += c.count;
    this._lossSum += c.lossSum;
    this._correct += c.correct;
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
