/**
 * A tiny training run for the "one iteration" explainer, made of the real parts' pure halves: core's
 * planEpoch (seeded shuffle, mini-batches with a remainder) and splitShards (shards sized to the
 * workers' speeds), gradient *sums* per shard as the workers return them, the coordinator's sum and
 * division by the mini-batch size, and one step of core's optimizer. The model is a line, ŷ = w·x + b,
 * with the loss ½(ŷ − y)², so every number on the page can be checked by hand. No DOM here.
 */
import {
  createOptimizer,
  nextPosition,
  type Optimizer,
  type Position,
  planEpoch,
  rngFor,
  STREAM,
  splitShards,
} from '@gradroom/core';

export interface Example {
  x: number;
  y: number;
}

/** Twenty points near y = 2x − 1: small enough to show every one as a tile. */
export const EXAMPLES = 20;

export function lessonData(seed: number): Example[] {
  const rng = rngFor(seed, STREAM.data);
  return Array.from({ length: EXAMPLES }, () => {
    const x = Math.round((rng.next() * 4 - 2) * 100) / 100;
    const y = Math.round((2 * x - 1 + 0.3 * rng.normal()) * 100) / 100;
    return { x, y };
  });
}

export interface Worker {
  name: string;
  /** Measured examples per second (what the planner splits by). */
  speed: number;
}

export const LESSON_WORKERS: readonly Worker[] = [
  { name: 'Teacher’s laptop', speed: 3 },
  { name: 'Student tab A', speed: 2 },
  { name: 'Student tab B', speed: 1 },
];

/** One worker's answer: sums over its shard, never means (the training contract). */
export interface ShardResult {
  worker: number;
  indices: number[];
  /** The weights version the worker computed against. */
  version: number;
  /** [Σ ∂loss/∂w, Σ ∂loss/∂b] over the shard. */
  gradSum: [number, number];
  lossSum: number;
  count: number;
}

export interface IterationTrace {
  /** Where the run stands (0-based epoch and mini-batch; the iteration counts updates so far). */
  position: Position;
  batchesPerEpoch: number;
  /** The whole epoch's shuffled order, and where each mini-batch starts in it. */
  order: number[];
  batchSize: number;
  /** This mini-batch's example indices. */
  indices: number[];
  version: number;
  before: [number, number];
  /** Example counts per worker from splitShards. */
  shardSizes: number[];
  results: ShardResult[];
  gradSum: [number, number];
  lossSum: number;
  count: number;
  /** gradSum / count: the gradient of the mean loss over the mini-batch. */
  mean: [number, number];
  lr: number;
  after: [number, number];
}

/** Gradient and loss sums of ½(w·x + b − y)² over some examples. */
export function shardSums(data: readonly Example[], indices: readonly number[], w: number, b: number) {
  let gw = 0;
  let gb = 0;
  let loss = 0;
  for (const i of indices) {
    const r = w * data[i].x + b - data[i].y;
    gw += r * data[i].x;
    gb += r;
    loss += 0.5 * r * r;
  }
  return { gradSum: [gw, gb] as [number, number], lossSum: loss };
}

export class IterationLesson {
  readonly data: Example[];
  readonly seed: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly workers: readonly Worker[];
  readonly weights = new Float32Array([0, 0]);
  version = 0;
  position: Position = { epoch: 0, batch: 0, iteration: 0 };
  #opt: Optimizer;

  constructor(opts: { seed: number; batchSize: number; lr: number; workers?: readonly Worker[] }) {
    this.seed = opts.seed;
    this.batchSize = opts.batchSize;
    this.lr = opts.lr;
    this.workers = opts.workers ?? LESSON_WORKERS;
    this.data = lessonData(opts.seed);
    this.#opt = createOptimizer({ kind: 'sgd', lr: opts.lr });
  }

  /** Runs one iteration and says what each part did. */
  next(): IterationTrace {
    const pos = this.position;
    const plan = planEpoch({ seed: this.seed, epoch: pos.epoch, examples: EXAMPLES, batchSize: this.batchSize });
    const indices = Array.from(plan.batch(pos.batch));
    const shardSizes = splitShards(
      indices.length,
      this.workers.map((w) => w.speed),
    );
    const before: [number, number] = [this.weights[0], this.weights[1]];
    const results: ShardResult[] = [];
    let start = 0;
    shardSizes.forEach((n, worker) => {
      if (n === 0) return;
      const mine = indices.slice(start, start + n);
      start += n;
      const s = shardSums(this.data, mine, before[0], before[1]);
      results.push({ worker, indices: mine, version: this.version, gradSum: s.gradSum, lossSum: s.lossSum, count: n });
    });
    // The coordinator adds the sums (any order) and divides by the mini-batch size it planned.
    const gradSum: [number, number] = [0, 0];
    let lossSum = 0;
    let count = 0;
    for (const r of results) {
      gradSum[0] += r.gradSum[0];
      gradSum[1] += r.gradSum[1];
      lossSum += r.lossSum;
      count += r.count;
    }
    const mean: [number, number] = [gradSum[0] / indices.length, gradSum[1] / indices.length];
    this.#opt.step(this.weights, Float32Array.from(mean));
    const trace: IterationTrace = {
      position: { ...pos },
      batchesPerEpoch: plan.batches,
      order: Array.from(plan.order),
      batchSize: this.batchSize,
      indices,
      version: this.version,
      before,
      shardSizes,
      results,
      gradSum,
      lossSum,
      count,
      mean,
      lr: this.lr,
      after: [this.weights[0], this.weights[1]],
    };
    this.version++;
    this.position = nextPosition(pos, plan.batches);
    return trace;
  }
}

/** The epoch's mini-batches as lists of example indices, the last one holding the remainder. */
export function epochBatches(seed: number, epoch: number, batchSize: number): number[][] {
  const plan = planEpoch({ seed, epoch, examples: EXAMPLES, batchSize });
  return Array.from({ length: plan.batches }, (_, b) => Array.from(plan.batch(b)));
}
