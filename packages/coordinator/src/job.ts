/** The serializable description of one training run, and its defaults. */
import {
  COMPRESSIONS,
  type Compression,
  createOptimizer,
  type DatasetSpec,
  DEFAULT_CODEC_LIMITS,
  defaultOuter,
  estimateBytesPerExample,
  GradroomError,
  type ModelSpec,
  type OptimizerConfig,
  type OptimizerKind,
  type ScheduleConfig,
  specLayout,
  validateSchedule,
} from '@gradroom/core';
import { checkModelForJob } from './model-checks.js';
import { topologySize } from './topology-size.js';

export interface JobConfig {
  model: ModelSpec;
  /** The data set; its `split` is ignored: training uses 'train', evaluation 'test'. */
  dataset: DatasetSpec;
  optimizer: OptimizerConfig;
  /** Learning-rate schedule; default: constant optimizer.lr. */
  schedule?: ScheduleConfig;
  batchSize: number;
  epochs: number;
  seed: number;
  /** Stop after this many iterations in all (tests, benchmarks); default: run all epochs. */
  maxIterations?: number;
  /** Evaluate on the test split after every epoch (default true). */
  evaluate?: boolean;
  /**
   * Hold out this fraction (0 to 1, exclusive) of the training set for validation, as tfjs's
   * `validationSplit`: its last examples, never trained on, scored after every epoch.
   */
  validationSplit?: number;
  /** How workers and the coordinator share the work (default exact). */
  mode?: TrainingMode;
}

/**
 * 'exact' (default): every mini-batch's gradient is summed from the shards and the optimizer steps
 * once per mini-batch; the weights equal the serial loop's.
 * 'local' (DiLoCo): each worker takes `steps` inner steps with `optimizer` (the job's, with its
 * schedule) on mini-batches of the epoch plan, returns w_start - w_end, and the coordinator takes
 * one outer step on their example-weighted mean with `outer` (default DEFAULT_OUTER: the
 * sweep's rule, defaultOuter in @gradroom/core). Far less traffic; not the serial loop's weights.
 */
export type TrainingMode =
  | { kind: 'exact' }
  | {
      kind: 'local';
      /** Inner steps per worker per round, or 'auto': chosen to keep communication under `commShare` of a round. */
      steps: number | 'auto';
      outer?: OptimizerConfig;
      /**
       * How pseudo-gradients travel back, and weights out. Default: PEER_COMPRESS for peers, none for
       * the run's own workers.
       */
      compress?: Compression;
      /**
       * With compress: send the weights compressed the same way too, as the change from what each
       * worker holds (the coordinator keeps each worker's view, so rounding is carried, not lost).
       * Default true.
       */
      compressWeights?: boolean;
      /** With steps 'auto': the largest share of a round spent communicating (default 0.1). */
      commShare?: number;
      /**
       * Warm start: the first `warmup` iterations in exact mode, with the job's optimizer as the
       * central one, then local rounds (default 0). Over partitions its shards go only to the run's
       * own workers; a run with none ends it as soon as a volunteer can train, and this field then
       * says where.
       */
      warmup?: number;
      /**
       * With warmup: its iterations run as local rounds of this many inner steps over every member
       * (the whole room trains from the first iteration, in short rounds), not in exact mode on the
       * run's own workers while volunteers wait. Unset: exact mode.
       */
      warmupSteps?: number;
      /**
       * 'sqrt-workers': each round's inner learning rates times sqrt(the workers in that round), so
       * the room's averaged step keeps pace as workers join (bench/local-sweep: MNIST to 92 % with 8
       * workers at H = 8 in 40.0k examples instead of never within 64k). Default 'none'.
       */
      innerScale?: InnerScale;
      /**
       * With a chunked data set: each member trains only its own partition of the chunks (and
       * fetches only those), shuffled within it by (seed, epoch); every example still once an
       * epoch. Default true; false takes the next mini-batches of the epoch plan, whatever chunk.
       */
      partition?: boolean;
      /**
       * Overlap (one-round-delay DiLoCo): a member that returns its group while the round is still
       * open gets its next-round group at once, from the newest weights there are; the next round
       * adopts the groups in flight, tells each the outer step it missed (added before its next
       * inner step) and counts it from where it ended. Hides the exchange and the wait for slower
       * members behind compute. Default false (README "Overlap").
       */
      overlap?: boolean;
      /**
       * Steps by speed: in a full round, a member measured clearly slower than the round's median
       * runs fewer than H inner steps (core's stepsForSpeed), so the round does not wait for it.
       * Default: on in a round with a volunteer (its members are different machines), off when
       * every member is the run's own worker (alike, and a run of threads stays reproducible).
       */
      balance?: boolean;
    }
  | AutoModeConfig;

/** How mode local's inner learning rate follows the number of workers in a round. */
export type InnerScale = 'none' | 'sqrt-workers';
export const INNER_SCALES: readonly InnerScale[] = ['none', 'sqrt-workers'];

/**
 * Mode local's encoding for peers when the job names none. On the classroom testbed (Fashion-MNIST
 * to 85 %, README "Time to accuracy"), int8 rounds took 1.15 s against 1.50 s for float32 with 4
 * volunteers, and the room reached the target first with both 4 and 8 volunteers.
 */
export const PEER_COMPRESS: Compression = 'int8';

/**
 * 'auto' (issue 18 §3): exact mode while the members are measured, then exact or mode local with the
 * H that core's chooseMode predicts reaches the target first; decided again when members join or
 * leave, at most once an epoch.
 */
export interface AutoModeConfig {
  kind: 'auto';
  /** Mode local's outer optimizer, when chosen (default DEFAULT_OUTER). */
  outer?: OptimizerConfig;
  /** Mode local's pseudo-gradient encoding, when chosen (default as mode local's). */
  compress?: Compression;
  /** Mode local's inner learning rate against the workers in a round, when chosen (default 'none'). */
  innerScale?: InnerScale;
  /** Examples exact mode needs to reach the target, for the predicted seconds (default 3 epochs). */
  examplesExact?: number;
  /** The target's name in the decision's words, e.g. '92 %' (default 'the target'). */
  target?: string;
  /** Mode local's steps by speed, when chosen (default as mode local's: on in a room). */
  balance?: boolean;
}

/**
 * The outer optimizer of a local job that names none: bench/local-sweep's rule (defaultOuter) for
 * H 'auto'. The trainer picks it before any worker has joined; the CLI names the rule's answer for
 * the job's own H.
 */
export const DEFAULT_OUTER: OptimizerConfig = defaultOuter({ steps: 'auto', workers: 1 });

/**
 * The outer optimizer of a job's mode local (or auto) that names none: after a warm start the rule's
 * answer after exact steps (plain averaging), else DEFAULT_OUTER. Mode auto's few measuring
 * iterations (about 30) are not a warm start: after them averaging left a classroom MNIST room short
 * of 92 % for 5 epochs, where DEFAULT_OUTER and the scaled inner rate reached it in 20 s (round 8).
 */
export function outerOf(mode: Extract<TrainingMode, { kind: 'local' | 'auto' }>): OptimizerConfig {
  return (
    mode.outer ??
    defaultOuter({ steps: 'auto', workers: 1, exactFirst: mode.kind === 'local' ? (mode.warmup ?? 0) : 0 })
  );
}

/** The product's default job (`npm start`): MNIST, a small MLP, Adam with 1/(1+decay*epoch) decay. */
export const DEFAULT_JOB: JobConfig = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  schedule: { kind: 'inverse-time', lr0: 0.005, decayRate: 0.3 },
  batchSize: 64,
  epochs: 5,
  seed: 1,
};

export function validateJob(job: JobConfig): void {
  const bad = (m: string) => {
    throw new GradroomError('BAD_CONFIG', m);
  };
  if (!Number.isInteger(job.batchSize) || job.batchSize <= 0)
    bad(`batchSize must be a positive integer, got ${job.batchSize}`);
  if (!Number.isInteger(job.epochs) || job.epochs <= 0) bad(`epochs must be a positive integer, got ${job.epochs}`);
  if (!Number.isInteger(job.seed) || job.seed < 0) bad(`seed must be a non-negative integer, got ${job.seed}`);
  if (job.maxIterations !== undefined && (!Number.isInteger(job.maxIterations) || job.maxIterations <= 0)) {
    bad(`maxIterations must be a positive integer, got ${job.maxIterations}`);
  }
  if (job.validationSplit !== undefined && !(job.validationSplit > 0 && job.validationSplit < 1))
    bad(`validationSplit must be between 0 and 1 (exclusive), got ${job.validationSplit}`);
  createOptimizer(job.optimizer); // validates the optimizer config
  if (job.schedule) validateSchedule(job.schedule);
  const mode = job.mode;
  if (mode?.kind === 'auto') validateAuto(mode, bad);
  else if (mode && mode.kind !== 'exact') {
    if (mode.kind !== 'local')
      bad(`mode must be 'exact', 'local' or 'auto', got ${JSON.stringify((mode as { kind: unknown }).kind)}`);
    if (mode.steps !== 'auto' && !(Number.isInteger(mode.steps) && mode.steps >= 1 && mode.steps <= 10_000))
      bad(`local steps must be 'auto' or an integer from 1 to 10000, got ${mode.steps}`);
    if (mode.outer) createOptimizer(mode.outer);
    if (mode.compress !== undefined && !COMPRESSIONS.includes(mode.compress))
      bad(`compress must be one of ${COMPRESSIONS.join(', ')}, got ${mode.compress}`);
    if (mode.commShare !== undefined && !(mode.commShare > 0 && mode.commShare < 1))
      bad(`commShare must be between 0 and 1, got ${mode.commShare}`);
    if (mode.warmup !== undefined && !(Number.isInteger(mode.warmup) && mode.warmup >= 0))
      bad(`warmup must be a non-negative integer of iterations, got ${mode.warmup}`);
    if (mode.warmupSteps !== undefined) {
      if (!(Number.isInteger(mode.warmupSteps) && mode.warmupSteps >= 1))
        bad(`warmupSteps must be a positive integer of inner steps, got ${mode.warmupSteps}`);
      if (!mode.warmup) bad('warmupSteps needs a warm start (warmup > 0) to shape');
    }
    checkInnerScale(mode.innerScale, bad);
    if (mode.partition !== undefined && typeof mode.partition !== 'boolean')
      bad(`partition must be true or false, got ${JSON.stringify(mode.partition)}`);
    if (mode.overlap !== undefined && typeof mode.overlap !== 'boolean')
      bad(`overlap must be true or false, got ${JSON.stringify(mode.overlap)}`);
    checkBalance(mode.balance, bad);
  }
  checkJobSize(job);
  checkModelForJob(job);
}

function validateAuto(mode: AutoModeConfig, bad: (m: string) => never): void {
  if (mode.outer) createOptimizer(mode.outer);
  if (mode.compress !== undefined && !COMPRESSIONS.includes(mode.compress))
    bad(`compress must be one of ${COMPRESSIONS.join(', ')}, got ${mode.compress}`);
  if (mode.examplesExact !== undefined && !(Number.isFinite(mode.examplesExact) && mode.examplesExact > 0))
    bad(`examplesExact must be a positive number, got ${mode.examplesExact}`);
  if (mode.target !== undefined && typeof mode.target !== 'string') bad('target must be a string');
  checkInnerScale(mode.innerScale, bad);
  checkBalance(mode.balance, bad);
}

function checkBalance(v: unknown, bad: (m: string) => never): void {
  if (v !== undefined && typeof v !== 'boolean') bad(`balance must be true or false, got ${JSON.stringify(v)}`);
}

function checkInnerScale(v: unknown, bad: (m: string) => never): void {
  if (v !== undefined && !INNER_SCALES.includes(v as InnerScale))
    bad(`innerScale must be one of ${INNER_SCALES.join(', ')}, got ${JSON.stringify(v)}`);
}

/** Weights the wire protocol carries in one message (the codec's limit). */
export const MAX_PARAMS = DEFAULT_CODEC_LIMITS.maxParams;
/** Memory one process may need: what a browser tab, or the wasm backend's 32-bit heap, can hold. */
export const MAX_PROCESS_BYTES = 4 * 1024 ** 3;

/** Per-parameter buffers each optimizer keeps (its slots). */
const SLOTS: Record<OptimizerKind, number> = {
  sgd: 0,
  momentum: 1,
  rmsprop: 2,
  adam: 2,
  adagrad: 1,
  adamax: 2,
};

export interface JobSize {
  /** Parameters of the model; null for a layers topology (known once a worker has built it). */
  params: number | null;
  /** The coordinator: weights, mean gradient, optimizer slots, and a checkpoint's copies of them. */
  coordinatorBytes: number;
  /** One worker given a whole mini-batch: model weights, gradients, weights in flight, activations. */
  workerBytes: number;
  /** Activations, their gradients and temporaries of one example (float32). */
  bytesPerExample: number;
}

/**
 * A size estimate from the spec alone, before anything is built (issue 10, item 14). A layers
 * topology is read from its JSON where topology-size.ts knows its layers; else its size is unknown.
 */
export function estimateJobSize(job: JobConfig): JobSize {
  const layout = specLayout(job.model);
  const topology = job.model.kind === 'layers' ? topologySize(job.model.topology) : null;
  const params = layout
    ? layout.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)
    : (topology?.params ?? null);
  const perExample = topology ? topology.activationsPerExample * 4 * 3 : estimateBytesPerExample(job.model);
  const slots = SLOTS[job.optimizer.kind] + (job.optimizer.kind === 'adam' && job.optimizer.amsgrad ? 1 : 0);
  const p = (params ?? 0) * 4;
  return {
    params,
    coordinatorBytes: p * (2 + slots) * 2,
    workerBytes: p * 4 + job.batchSize * perExample,
    bytesPerExample: perExample,
  };
}

const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;

/**
 * Refuses a model too large to train before anything is built: a 314 M parameter MLP used to grow
 * past 3 GB before the protocol's limit stopped it, or the process was killed.
 */
export function checkJobSize(job: JobConfig): void {
  const size = estimateJobSize(job);
  if (size.params !== null && size.params > MAX_PARAMS) {
    throw new GradroomError(
      'TOO_LARGE',
      `the model has ${size.params.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMS.toLocaleString('en-US')} the protocol carries in one message: make the model smaller`,
    );
  }
  if (size.coordinatorBytes > MAX_PROCESS_BYTES) {
    throw new GradroomError(
      'TOO_LARGE',
      `the coordinator would need about ${gib(size.coordinatorBytes)} for this model and optimizer, more than the ${gib(MAX_PROCESS_BYTES)} a process can hold: make the model smaller`,
    );
  }
  if (size.workerBytes > MAX_PROCESS_BYTES) {
    throw new GradroomError(
      'TOO_LARGE',
      `a worker would need about ${gib(size.workerBytes)} for a mini-batch of ${job.batchSize} (${Math.round(size.bytesPerExample / 1024)} KiB per example), more than the ${gib(MAX_PROCESS_BYTES)} a browser tab or the wasm backend can hold: lower the batch size or the model's size`,
    );
  }
}
