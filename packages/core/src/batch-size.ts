/**
 * The lecture's advice for choosing the mini-batch size (SEED.md): with a small training set
 * (m <= 2000) use batch gradient descent; otherwise a power of two (64, 128, 256, 512, ...) such that
 * one mini-batch fits in CPU/GPU memory.
 *
 * It knows the device: a shard on a GPU pays a fixed cost (dispatching some 30-60 kernels, one
 * read-back that waits for the queue) that a CPU hardly has, while each example costs the GPU
 * little, so a GPU wants larger mini-batches (up to 2048 by default). With the workers' measured
 * cost of a shard (fixedMs + n x msPerExample, the planner's ShardSpeed), the advice is the smallest
 * power of two at which every worker's shard spends at most `fixedShare` of its time on the fixed part.
 */
import { GradroomError } from './errors.js';

/** A worker's measured cost of a shard of n examples: fixedMs + n x msPerExample (as the planner's ShardSpeed). */
export interface ShardSpeed {
  /** Paid by every shard whatever its size: latency, weights in, dispatch, read-back. */
  fixedMs: number;
  msPerExample: number;
}

/** What a worker computes on, as the advice needs it. */
export type DeviceKind = 'gpu' | 'cpu';

/** tfjs backends that run on a GPU ('webgpu', 'webgl'); everything else counts as a CPU. */
export function deviceKind(backend: string): DeviceKind {
  return backend === 'webgpu' || backend === 'webgl' ? 'gpu' : 'cpu';
}

/** The largest size to consider when none is given: the top of the lecture's list, or 2048 on a GPU. */
export const DEFAULT_MAX_SIZE: Readonly<Record<DeviceKind, number>> = { cpu: 512, gpu: 2048 };

export interface BatchSizeAdvice {
  size: number;
  /** 'batch' = the whole training set (batch GD), 'mini-batch' = a power of two. */
  mode: 'batch' | 'mini-batch';
  /** One sentence a person can read, explaining the choice. */
  reason: string;
}

export interface BatchSizeInput {
  examples: number;
  /** Memory one example needs during a gradient step (inputs, activations, their gradients). */
  bytesPerExample: number;
  /** Memory the mini-batch may use; default 256 MiB. */
  memoryBudgetBytes?: number;
  /** Largest power of two to consider; default 512, the top of the lecture's list (2048 on a GPU). */
  maxSize?: number;
  smallSetThreshold?: number;
  /** What the workers compute on; default 'cpu'. */
  device?: DeviceKind;
  /**
   * The measured cost of a shard on each worker that will compute. Given, the advice is the
   * smallest power of two (within maxSize and memory) whose shards, split as the planner splits
   * them, spend at most `fixedShare` of their time on the fixed cost.
   */
  workers?: readonly ShardSpeed[];
  /** Most of a shard's time the fixed cost may take; default 0.2. */
  fixedShare?: number;
}

/**
 * The smallest shard that spends at most `fixedShare` of its time on the fixed cost:
 * fixedMs <= share x (fixedMs + n x msPerExample), so n >= fixedMs x (1 - share) / (share x msPerExample).
 */
export function efficientShardSize(cost: ShardSpeed, fixedShare = 0.2): number {
  checkCost(cost);
  if (!(fixedShare > 0 && fixedShare < 1)) {
    throw new GradroomError('BAD_CONFIG', `efficientShardSize: fixedShare must be in (0, 1), got ${fixedShare}`);
  }
  return Math.max(1, Math.ceil((cost.fixedMs * (1 - fixedShare)) / (fixedShare * cost.msPerExample) - 1e-9));
}

function checkCost(w: ShardSpeed): void {
  if (!(Number.isFinite(w.fixedMs) && w.fixedMs >= 0 && Number.isFinite(w.msPerExample) && w.msPerExample > 0)) {
    throw new GradroomError(
      'BAD_CONFIG',
      `a worker's shard cost needs fixedMs >= 0 and msPerExample > 0, got ${JSON.stringify(w)}`,
    );
  }
}

/**
 * The largest share of a shard's time spent on the fixed cost, over the workers that get a shard
 * when `total` examples are split so that all finish together (n_i = (T - F_i) / p_i; a worker
 * whose fixed cost alone reaches T gets none, as in the planner).
 */
export function fixedShareOfSplit(total: number, workers: readonly ShardSpeed[]): number {
  workers.forEach(checkCost);
  const order = [...workers].sort((a, b) => a.fixedMs - b.fixedMs);
  let sumInv = 0;
  let sumFOverP = 0;
  let t = 0;
  let used = 0;
  for (const w of order) {
    const tWith = (total + sumFOverP + w.fixedMs / w.msPerExample) / (sumInv + 1 / w.msPerExample);
    if (used > 0 && w.fixedMs >= t) break;
    sumInv += 1 / w.msPerExample;
    sumFOverP += w.fixedMs / w.msPerExample;
    t = tWith;
    used++;
  }
  // every used worker finishes at t, so its fixed share is F_i / t
  return order.slice(0, used).reduce((m, w) => Math.max(m, t > 0 ? w.fixedMs / t : 0), 0);
}

export function adviseBatchSize(input: BatchSizeInput): BatchSizeAdvice {
  const { examples, bytesPerExample } = input;
  const device = input.device ?? 'cpu';
  const budget = input.memoryBudgetBytes ?? 256 * 2 ** 20;
  const maxSize = input.maxSize ?? DEFAULT_MAX_SIZE[device];
  const small = input.smallSetThreshold ?? 2000;
  const fixedShare = input.fixedShare ?? 0.2;
  if (!Number.isInteger(examples) || examples <= 0) {
    throw new GradroomError('BAD_CONFIG', `adviseBatchSize: examples must be a positive integer, got ${examples}`);
  }
  if (!(bytesPerExample > 0) || !(budget > 0)) {
    throw new GradroomError('BAD_CONFIG', 'adviseBatchSize: bytesPerExample and memoryBudgetBytes must be positive');
  }
  if (device !== 'cpu' && device !== 'gpu') {
    throw new GradroomError('BAD_CONFIG', `adviseBatchSize: device must be 'cpu' or 'gpu', got ${String(device)}`);
  }
  if (!(fixedShare > 0 && fixedShare < 1)) {
    throw new GradroomError('BAD_CONFIG', `adviseBatchSize: fixedShare must be in (0, 1), got ${fixedShare}`);
  }
  if (input.workers) {
    if (input.workers.length === 0) throw new GradroomError('BAD_CONFIG', 'adviseBatchSize: workers is empty');
    input.workers.forEach(checkCost);
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (examples <= small && examples * bytesPerExample <= budget) {
    return {
      size: examples,
      mode: 'batch',
      reason: `The training set is small (m = ${examples} <= ${small}), so use batch gradient descent: one mini-batch of all ${examples} examples (${mib(examples * bytesPerExample)}).`,
    };
  }
  let largest = 1;
  while (largest * 2 <= maxSize && largest * 2 * bytesPerExample <= budget && largest * 2 <= examples) largest *= 2;
  const why =
    examples <= small
      ? `The set is small (m = ${examples}) but does not fit the ${mib(budget)} budget at once`
      : `The training set is large (m = ${examples} > ${small})`;
  const iterations = (size: number) => `${Math.ceil(examples / size)} iterations per epoch`;
  const on = device === 'gpu' ? ' on a GPU' : '';
  if (!input.workers) {
    return {
      size: largest,
      mode: 'mini-batch',
      reason: `${why}, so use mini-batches of a power of two: ${largest} is the largest up to ${maxSize}${on} whose ${mib(largest * bytesPerExample)} fit the ${mib(budget)} memory budget (${iterations(largest)}).`,
    };
  }
  const workers = input.workers;
  // the lecture's list starts at 64: below it, updates get noisy for little gain in iterations
  let size = Math.min(64, largest);
  while (fixedShareOfSplit(size, workers) > fixedShare && size < largest) size *= 2;
  const worst = fixedShareOfSplit(size, workers);
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const fixed = Math.max(...workers.map((w) => w.fixedMs));
  const whom = workers.length === 1 ? 'the worker' : `${workers.length} workers`;
  const reason =
    worst <= fixedShare
      ? `${why}, so use mini-batches of a power of two: ${size} is the smallest from 64 at which ${whom}${on} spend at most ${pct(fixedShare)} of each shard on the fixed cost (up to ${fixed.toFixed(1)} ms for dispatch, weights and read-back; ${pct(worst)} here), and it fits the ${mib(budget)} memory budget (${iterations(size)}).`
      : `${why}, so use mini-batches of a power of two: ${size} is the largest up to ${maxSize}${on} that fits the ${mib(budget)} memory budget, though ${whom} still spend ${pct(worst)} of a shard on the fixed cost (up to ${fixed.toFixed(1)} ms; the aim is ${pct(fixedShare)}): fewer workers would waste less (${iterations(size)}).`;
  return { size, mode: 'mini-batch', reason };
}
