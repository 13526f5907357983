/** What `new Trainer` takes (beyond the job itself) and what `run()` returns. */
import { type Aggregation, GradroomError, type Position, type TensorShape } from '@gradroom/core';
import type { BackendName } from '@gradroom/worker';
import type { CheckpointStore } from './checkpoint.js';
import type { EpochRecord, MetricName, SplitScore } from './history.js';
import type { JobConfig } from './job.js';
import type { LayersModelLike, ModelInput } from './model-input.js';
import type { PoolOptions } from './pool.js';
import type { DatasetInput } from './tensor-input.js';

export interface TrainerOptions extends PoolOptions {
  /** Backends the workers should try, in order (default: each picks its fastest). */
  backends?: BackendName[];
  /** Browsers: where workers find the wasm backend's files. */
  wasmPaths?: string;
  checkpoint?: {
    store: CheckpointStore /** also save every N iterations (default: each epoch only) */;
    everyIterations?: number;
  };
  /** With no worker left: wait for one to join (rooms), or fail the run (default, local workers). */
  waitForWorkers?: boolean;
  /** Smallest shard worth sending (default 1). */
  minShard?: number;
  /** See PlanningOptions.planning (planning.ts): 'cost' (default) or 'all' (every worker takes part). */
  planning?: 'cost' | 'all';
  /**
   * The data set's sizes, when the spec alone does not tell them (MNIST and synthetic data do).
   * Otherwise the first of the run's own workers (a thread or Web Worker, never a peer) tells them;
   * peers that report other sizes are refused.
   */
  dataSizes?: { train: number; test: number };
  /**
   * A peer's shard is refused when its gradient norm per example exceeds this many times the median
   * of recent shards (default 50): a poisoned but finite gradient never reaches the optimizer.
   */
  gradientBound?: number;
  /**
   * Before the bound has seen its first shards (a room with no worker of the run's own starts so), a
   * peer's shard is refused when its gradient norm per example (||sum|| / sqrt n) exceeds this
   * (default 1e4, 100x the largest honest value measured; raise it for regression on unscaled targets).
   */
  gradientBoundStart?: number;
  /**
   * 'sum' (default, exact: the serial loop's step). For untrusted rooms, 'median' or 'trimmed-mean'
   * of the per-shard mean gradients (core's robustMean): a minority of hostile shards within the
   * gradient bound moves the step at most to the edge of the honest ones, at the price of exactness.
   */
  aggregation?: Aggregation;
  /**
   * Also evaluate on the test split when the iteration count reaches a multiple of this (an
   * 'evaluation' event each time), so time to a target accuracy is known to within N iterations.
   * Evaluation only reads the weights: the run is the same with or without it.
   */
  evalEvery?: number;
  /**
   * Fine-tuning: start from these weights (flat, in the layout's order: `getLayout()`, tfjs's
   * `model.weights`) instead of the seeded initializers.
   */
  initialWeights?: Float32Array;
  /** Fine-tuning: start from this tfjs model's current weights; its layout must be the job's model's. */
  initModel?: LayersModelLike;
}

/**
 * A job as `new Trainer` takes it: the model may also be a `tf.LayersModel` or its `toJSON()` output,
 * the data set also tf.Tensors (`{ kind: 'tensors', xs, ys, test }`).
 */
export type JobInput = Omit<JobConfig, 'model' | 'dataset'> & { model: ModelInput; dataset: DatasetInput };

/** Checks the options a Trainer cannot run with, at construction. */
export function checkOptions(opts: TrainerOptions): TrainerOptions {
  const every = opts.evalEvery;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1))
    throw new GradroomError('BAD_CONFIG', `evalEvery must be a positive integer, got ${every}`);
  return opts;
}

export interface TrainResult {
  weights: Float32Array;
  layout: TensorShape[];
  position: Position;
  /** What every `metric` measures: accuracy, or a regression's MSE or MAE. */
  metric: MetricName;
  /** The last test score; null when the test split was never scored (`evaluate: false`). */
  test: SplitScore | null;
  /** The epochs this run() trained, one record each (train, validation and test scores). */
  history: EpochRecord[];
  /** @deprecated Use test (NaN when not scored, and for a regression). */
  testAccuracy: number;
  /** @deprecated Use test (NaN when not scored). */
  testLoss: number;
  stopped: boolean;
}
