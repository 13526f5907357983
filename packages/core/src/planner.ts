/**
 * Epoch planning (SEED.md): each epoch is shuffled by (seed, epoch), partitioned into mini-batches
 * whose last one holds the remainder, and each mini-batch is split into shards sized to the workers'
 * measured speeds. Everything here is a pure function of its inputs, so a resumed coordinator and
 * the serial oracle plan exactly the same batches.
 */
import { GradroomError } from './errors.js';
import { rngFor, STREAM } from './prng.js';

/** Fisher-Yates permutation of 0..n-1 determined by (seed, epoch). */
export function shuffleEpoch(seed: number, epoch: number, n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = rngFor(seed, STREAM.shuffle, epoch);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

export function iterationsPerEpoch(examples: number, batchSize: number): number {
  return Math.ceil(examples / batchSize);
}

export interface EpochPlan {
  epoch: number;
  /** The shuffled example indices of the whole epoch. */
  order: Uint32Array;
  batchSize: number;
  /** Number of mini-batches (iterations) in this epoch; the last may be smaller. */
  batches: number;
  /** The indices of mini-batch `b` (0-based within the epoch), a view into `order`. */
  batch(b: number): Uint32Array;
}

export function planEpoch(opts: { seed: number; epoch: number; examples: number; batchSize: number }): EpochPlan {
  const { seed, epoch, examples, batchSize } = opts;
  if (!Number.isInteger(examples) || examples <= 0) {
    throw new GradroomError('BAD_CONFIG', `planEpoch: examples must be a positive integer, got ${examples}`);
  }
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new GradroomError('BAD_CONFIG', `planEpoch: batchSize must be a positive integer, got ${batchSize}`);
  }
  const order = shuffleEpoch(seed, epoch, examples);
  const batches = iterationsPerEpoch(examples, batchSize);
  return {
    epoch,
    order,
    batchSize,
    batches,
    batch(b: number) {
      if (!Number.isInteger(b) || b < 0 || b >= batches) {
        throw new GradroomError('BAD_CONFIG', `epoch ${epoch} has mini-batches 0..${batches - 1}, asked for ${b}`);
      }
      return order.subarray(b * batchSize, Math.min(examples, (b + 1) * batchSize));
    },
  };
}

/** Where a run stands, in the lecture's words: iteration counts mini-batches over the whole run. */
export interface Position {
  epoch: number;
  /** Mini-batch index within the epoch. */
  batch: number;
  /** Global iteration count since the start of training (= optimizer updates taken). */
  iteration: number;
}

export function nextPosition(pos: Position, batchesPerEpoch: number): Position {
  const last = pos.batch + 1 >= batchesPerEpoch;
  return { epoch: last ? pos.epoch + 1 : pos.epoch, batch: last ? 0 : pos.batch + 1, iteration: pos.iteration + 1 };
}

/**
 * Splits `total` examples into shards proportional to `speeds` (examples per second, or any weights),
 * by the largest-remainder method so the sizes add up exactly. A worker with speed 0 gets nothing;
 * `minShard` keeps tiny shards from being planned (their share goes to the others).
 */
export function splitShards(total: number, speeds: readonly number[], opts: { minShard?: number } = {}): number[] {
  if (!Number.isInteger(total) || total < 0) throw new GradroomError('BAD_CONFIG', `splitShards: bad total ${total}`);
  if (speeds.length === 0) throw new GradroomError('BAD_CONFIG', 'splitShards: no workers to split among');
  if (!speeds.every((s) => Number.isFinite(s) && s >= 0)) {
    throw new GradroomError('BAD_CONFIG', `splitShards: speeds must be finite and >= 0, got [${speeds}]`);
  }
  let weights = [...speeds];
  if (weights.every((s) => s === 0)) weights = weights.map(() => 1);
  const minShard = opts.minShard ?? 1;
  for (;;) {
    const sizes = largestRemainder(total, weights);
    // drop the slowest worker that would get a shard below minShard, then split again
    let drop = -1;
    for (let i = 0; i < sizes.length; i++) {
      if (sizes[i] > 0 && sizes[i] < minShard && weights.filter((w) => w > 0).length > 1) {
        if (drop < 0 || weights[i] < weights[drop]) drop = i;
      }
    }
    if (drop < 0) return sizes;
    weights[drop] = 0;
  }
}

function largestRemainder(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / sum) * total);
  const sizes = exact.map(Math.floor);
  let left = total - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left === 0) break;
    if (weights[i] > 0) {
      sizes[i]++;
      left--;
    }
  }
  return sizes;
}

/** What planning needs to know of one worker: the time of a shard of n examples is fixedMs + n * msPerExample. */
export interface ShardCost {
  /** Cost of a shard whatever its size: latency, weights in, result out, dispatch and read-back. */
  fixedMs: number;
  msPerExample: number;
}

export interface CostPlan {
  /** Examples for each worker, in the order given; they add up to `total`. */
  sizes: number[];
  /** Predicted time of the iteration: the latest finish among the workers that got a shard. */
  makespanMs: number;
}

/**
 * Splits `total` examples so that the iteration finishes earliest, when worker i needs
 * fixedMs_i + n * msPerExample_i for n examples. A worker whose fixed cost alone reaches the time the
 * others need without it gets nothing: giving it a shard could only delay the iteration. So the plan
 * is never slower (by the model) than the fastest worker alone, which is one of the plans considered.
 *
 * Continuous optimum: every worker that gets a shard finishes at the same time T, with
 * n_i = (T - F_i) / p_i; the workers used are those with F_i < T. Then whole examples are handed out
 * one at a time to whoever would finish earliest, and shards below `minShard` are dropped.
 */
export function planShardsByCost(
  total: number,
  workers: readonly ShardCost[],
  opts: { minShard?: number } = {},
): CostPlan {
  if (!Number.isInteger(total) || total < 0)
    throw new GradroomError('BAD_CONFIG', `planShardsByCost: bad total ${total}`);
  if (workers.length === 0) throw new GradroomError('BAD_CONFIG', 'planShardsByCost: no workers to plan for');
  for (const w of workers) {
    if (!(Number.isFinite(w.fixedMs) && w.fixedMs >= 0 && Number.isFinite(w.msPerExample) && w.msPerExample > 0)) {
      throw new GradroomError(
        'BAD_CONFIG',
        `planShardsByCost: fixedMs must be finite and >= 0 and msPerExample finite and > 0, got ${JSON.stringify(w)}`,
      );
    }
  }
  const minShard = Math.max(1, opts.minShard ?? 1);
  const usable = workers.map(() => true);
  for (;;) {
    const sizes = waterFill(total, workers, usable);
    // a shard below minShard is not worth its fixed cost: drop the worker that would finish it latest
    let drop = -1;
    for (let i = 0; i < sizes.length; i++) {
      if (sizes[i] > 0 && sizes[i] < minShard && usable.filter(Boolean).length > 1) {
        if (drop < 0 || finish(workers[i], sizes[i]) > finish(workers[drop], sizes[drop])) drop = i;
      }
    }
    if (drop < 0) {
      const makespanMs = sizes.reduce((a, n, i) => (n > 0 ? Math.max(a, finish(workers[i], n)) : a), 0);
      // whole examples can leave the split a hair slower than the fastest worker alone (the water
      // level is fractional): never plan slower than that worker
      let solo = -1;
      for (let i = 0; i < workers.length; i++)
        if (usable[i] && (solo < 0 || finish(workers[i], total) < finish(workers[solo], total))) solo = i;
      if (total > 0 && solo >= 0 && finish(workers[solo], total) < makespanMs) {
        const only = workers.map((_, i) => (i === solo ? total : 0));
        return { sizes: only, makespanMs: finish(workers[solo], total) };
      }
      return { sizes, makespanMs };
    }
    usable[drop] = false;
  }
}

/** Examples/s of a worker computing all `total` examples alone. */
export function aloneExamplesPerSec(total: number, w: ShardCost): number {
  return total > 0 ? (total / finish(w, total)) * 1000 : 0;
}

function finish(w: ShardCost, n: number): number {
  return w.fixedMs + n * w.msPerExample;
}

function waterFill(total: number, workers: readonly ShardCost[], usable: boolean[]): number[] {
  const sizes = workers.map(() => 0);
  if (total === 0) return sizes;
  const order = workers
    .map((_, i) => i)
    .filter((i) => usable[i])
    .sort((a, b) => workers[a].fixedMs - workers[b].fixedMs || a - b);
  // the common finish time T with the k cheapest-to-start workers; valid when worker k+1 starts after T
  let t = Number.POSITIVE_INFINITY;
  let used = 0;
  let sumInv = 0;
  let sumFOverP = 0;
  for (let k = 0; k < order.length; k++) {
    const w = workers[order[k]];
    if (k > 0 && w.fixedMs >= t) break;
    sumInv += 1 / w.msPerExample;
    sumFOverP += w.fixedMs / w.msPerExample;
    t = (total + sumFOverP) / sumInv;
    used = k + 1;
  }
  const active = order.slice(0, used);
  let given = 0;
  for (const i of active) {
    sizes[i] = Math.max(0, Math.floor((t - workers[i].fixedMs) / workers[i].msPerExample));
    given += sizes[i];
  }
  // hand out what flooring left (or take back an excess) one example at a time, earliest finish first
  while (given < total) {
    let best = active[0];
    for (const i of active) if (finish(workers[i], sizes[i] + 1) < finish(workers[best], sizes[best] + 1)) best = i;
    sizes[best]++;
    given++;
  }
  while (given > total) {
    let worst = -1;
    for (const i of active)
      if (sizes[i] > 0 && (worst < 0 || finish(workers[i], sizes[i]) > finish(workers[worst], sizes[worst]))) worst = i;
    sizes[worst]--;
    given--;
  }
  return sizes;
}
