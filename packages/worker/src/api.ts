/**
 * What a worker offers its coordinator, the same in a Node worker thread, a Web Worker and a
 * volunteer tab: set up a task, take weights of a version, compute a shard's sums against them.
 */
import type { Compression, Counts, EncodedUpdate, OptimizerConfig, ResultData, TaskSpec } from '@gradroom/core';
import type { BackendName, BackendReport } from './backends.js';
import type { ExampleBytes } from './data/dataset.js';
import type { DigitCounts, OwnExamples } from './own-data.js';

export interface WorkerInit {
  task: TaskSpec;
  /** Backends to try in order; default: the fastest available. */
  backends?: BackendName[];
  /** Browsers: where the wasm backend's files are served. */
  wasmPaths?: string;
}

export interface WorkerInfo extends BackendReport {
  /** The layout of the model this worker built; must equal the task's. */
  layout: TaskSpec['layout'];
  paramCount: number;
  /** Examples in the task's training and test data as this worker loaded it. */
  trainSize: number;
  testSize: number;
}

export interface ShardRequest {
  iteration: number;
  version: number;
  shardId: number;
  /** Indices into the training split, or into the test split when `split` is 'test'. */
  indices: Uint32Array;
  split?: 'train' | 'test';
  /** Examples sent inline (instead of indices into data the worker holds): labels, or targets for regression. */
  inline?: { x: Float32Array; y: Int32Array | Float32Array };
  /**
   * Or the examples of `indices` as bytes (an image data set's pixels and class labels), for a worker
   * that has not fetched them: exact mode's shards for peers (TrainerOptions.shardExamples).
   */
  bytes?: ExampleBytes;
  /** The weights of `version`, when this worker does not hold them yet: saves a separate call. */
  weights?: Float32Array;
}

/** A shard's sums: the wire's result message without its envelope (core's ResultData). */
export type ShardResultData = ResultData;

export interface EvalRequest {
  version: number;
  indices: Uint32Array;
  split: 'train' | 'test';
  /** As in ShardRequest: the weights of `version` when the worker does not hold them yet. */
  weights?: Float32Array;
}

/** An evaluation shard's sums. */
export type EvalResultData = Counts;

/** Mode `local`: H inner steps on the given mini-batches, answered with the pseudo-gradient. */
export interface LocalRequest {
  /** The iteration the round starts at (it names the round). */
  round: number;
  version: number;
  /** This worker's mini-batches of the round, in order: one inner step each. */
  batches: Uint32Array[];
  /** The inner learning rate of each step (the run's schedule at that mini-batch). */
  lrs: number[];
  /** The inner optimizer; its state stays on the worker across rounds. */
  inner: OptimizerConfig;
  /** How the pseudo-gradient travels back (default none). */
  compress?: Compression;
  /** The weights of `version`, when this worker does not hold them yet. */
  weights?: Float32Array;
  /**
   * Or the weights as a compressed change from this worker's view of `baseVersion` (the weights it
   * started its last round from): view += decode(weightsDelta) gives its start for `version`.
   */
  weightsDelta?: EncodedUpdate;
  baseVersion?: number;
  /**
   * Examples of the chunks this worker's next round will draw from (one per chunk): fetched in the
   * background while it trains this round, so the next round does not wait for them.
   */
  prefetch?: Uint32Array;
  /** Overlap: sent before its round opened, from weights one outer step old; a catch-up will come (catchUp). */
  early?: boolean;
}

/**
 * Overlap: the outer step an early local round missed (the newest weights - the weights it started
 * from), added before its next inner step (LocalTrainer.catchUp): `change`, or `encoded` for a peer.
 */
export interface CatchUpRequest {
  round: number;
  change?: Float32Array;
  encoded?: EncodedUpdate;
}

export interface LocalResultData extends Counts {
  round: number;
  version: number;
  /** w_start - w_end (uncompressed), or `encoded` (fp16 / int8 with error feedback on the worker). */
  delta?: Float32Array;
  encoded?: EncodedUpdate;
  computeMs: number;
  backend: string;
  /** Draw to train: the own examples (drawings) mixed into this round's inner steps; 0 or absent: none. */
  ownExamples?: number;
  /** Overlap: a catch-up reached this round between two of its inner steps. */
  caughtUp?: boolean;
}

/**
 * The one worker surface: what every worker computes, however it is reached. WorkerApi (a worker's
 * comlink API), the volunteer's ComputeEngine and the coordinator's WorkerHandle are this surface
 * plus what their side needs.
 */
export interface WorkerSurface {
  init(init: WorkerInit): Promise<WorkerInfo>;
  compute(req: ShardRequest): Promise<ShardResultData>;
  evaluate(req: EvalRequest): Promise<EvalResultData>;
  trainLocal(req: LocalRequest): Promise<LocalResultData>;
}

export interface WorkerApi extends WorkerSurface {
  setWeights(version: number, weights: Float32Array): Promise<void>;
  /**
   * Fetches the chunks holding these examples (a chunked data set) before a task needs them; a
   * failed fetch is tried again when a task needs it. Resolves at once.
   */
  prefetch(examples: Uint32Array): Promise<void>;
  /** Overlap: the catch-up of an early local round, running here or still to start (CatchUpRequest). */
  catchUp(req: CatchUpRequest): Promise<void>;
  /**
   * Class probabilities of one example (features in the data set's layout) with the weights this
   * worker holds now: a volunteer's page classifies what its student draws.
   */
  classify(features: Float32Array): Promise<number[]>;
  memory(): Promise<{ numTensors: number; numBytes: number }>;
  dispose(): Promise<void>;
  /**
   * Draw to train: the student's drawings, kept in this worker for mode local's inner steps (runs on
   * MNIST only) and for classEval; null forgets them.
   */
  setOwnExamples(own: OwnExamples | null): Promise<void>;
  /** The held-out drawings' accuracy under `weights`, per digit (a federated evaluation). */
  classEval(req: { weights: Float32Array }): Promise<DigitCounts>;
}
