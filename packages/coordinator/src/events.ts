import type { EpochRecord, MetricName, SplitScore } from './history.js';

/** Progress events, in the lecture's words (DESIGN.md contract 4). */
import type { AutoDecision } from './modes/auto.js';

export interface WorkerStatus {
  id: string;
  kind: string;
  /** The name a volunteer gave (peers), or a label for local workers. */
  name?: string;
  backend: string;
  /** Measured examples per second (EWA), 0 until measured. */
  speed: number;
  /** Fraction of the last mini-batch this worker computed. */
  share: number;
  /** Examples computed over the whole run. */
  examples: number;
  status: 'joining' | 'ready' | 'busy' | 'standby' | 'gone';
  /** Measured fixed cost of one shard on this worker (latency, weights in, result out), ms. */
  fixedMs?: number;
  /**
   * The same split by the compute the worker reports alone (ShardCostEstimate.computeCost): what
   * mode auto and steps by speed go by, where the round trips' fit can bend (examples/s, ms).
   */
  computeSpeed?: number;
  computeFixedMs?: number;
  /** Why the planner gives this worker no shard now ('standing by: its link costs more than it adds ...'). */
  standby?: string;
}

export interface IterationEvent {
  epoch: number;
  /** Mini-batch index within the epoch. */
  batch: number;
  batchesPerEpoch: number;
  /** Global iteration count after this update (= optimizer steps taken). */
  iteration: number;
  /** Examples in this mini-batch (the last of an epoch holds the remainder). */
  examples: number;
  /** Mean training loss of this mini-batch. */
  loss: number;
  /** EWA of the loss (beta 0.9) with bias correction, and without it. */
  lossSmoothed: number;
  lossSmoothedRaw: number;
  // required in IterationReport, what the Trainer emits; optional here only so that events written
  // by hand before them (the demo's tests) still type-check
  /** What `metricValue` measures: accuracy, or a regression's MSE or MAE. */
  metric?: MetricName;
  /** The metric on this mini-batch: its accuracy, or for a regression its loss (MSE or MAE). */
  metricValue?: number;
  /** @deprecated Use metricValue. Accuracy on this mini-batch; NaN for a regression. */
  accuracy: number;
  lr: number;
  examplesPerSec: number;
  /**
   * Times of this iteration, in ms, along its critical path (the shard that finished last):
   * compute on that worker, transfer (its round trip minus its compute: weights in, result out,
   * latency), waiting (replanning, idle time, waiting for workers), and the central optimizer step.
   * compute + transfer + wait + step = total.
   */
  timing: { totalMs: number; computeMs: number; transferMs: number; waitMs: number; stepMs: number };
  /** Payload bytes through the coordinator this iteration: weights sent out, results received. */
  bytes: { out: number; in: number };
  /**
   * Examples/s the fastest member alone would reach on this mini-batch (its measured fixed cost plus
   * its compute), for "room vs fastest member alone"; 0 until measured.
   */
  fastestAloneExamplesPerSec: number;
  /** Shards planned again after a worker failed or missed its deadline. */
  replanned: number;
  /**
   * Mode local: this event closes a round of `steps` inner steps per worker, in `groups` groups;
   * with overlap, `early` of them were started before the round opened, and `caughtUp` of those
   * took the outer step they missed between two inner steps.
   */
  round?: { steps: number; groups: number; early?: number; caughtUp?: number };
  /** Mode auto: the mode in force for this iteration, and why in words (modes/auto.ts). */
  auto?: AutoDecision;
  workers: WorkerStatus[];
}

/**
 * An epoch's figures. What the Trainer emits is an EpochReport, with the record's fields required;
 * they are optional here only so that events written by hand before them still type-check.
 */
export interface EpochEvent extends Partial<EpochRecord> {
  epoch: number;
  iteration: number;
  seconds: number;
  metric?: MetricName;
  trainLoss: number;
  /** @deprecated Use train.metric. NaN for a regression. */
  trainAccuracy: number;
  /** @deprecated Use test, which is null when the epoch was not scored (this is then NaN). */
  testLoss: number;
  /** @deprecated Use test, which is null when the epoch was not scored (this is then NaN; NaN for a regression). */
  testAccuracy: number;
}

/** TrainerOptions.evalEvery: the test split scored after an iteration, mid-epoch or not. */
export interface EvaluationEvent {
  /** Iterations done (after a local round: its last). */
  iteration: number;
  epoch: number;
  /** Examples computed in this run so far. */
  examples: number;
  testLoss: number;
  testAccuracy: number;
  /** How long the evaluation took, ms (not training time). */
  evalMs: number;
}

/** What the Trainer emits for each iteration: the metric is always there. */
export interface IterationReport extends IterationEvent {
  metric: MetricName;
  metricValue: number;
}

/** What the Trainer emits for each epoch: its record (train, validation and test: null where not scored). */
export type EpochReport = EpochEvent & EpochRecord & { metric: MetricName };

export interface WorkerEvent {
  type: 'joined' | 'left' | 'rejected';
  id: string;
  kind: string;
  name?: string;
  backend?: string;
  /** On joining: the faster backends this worker skipped, and why. */
  skipped?: { backend: string; reason: string }[];
  reason?: string;
}

export interface DoneEvent {
  epochs: number;
  iterations: number;
  metric: MetricName;
  /** The last test score; null when the test split was never scored. */
  test: SplitScore | null;
  /** @deprecated Use test (NaN when not scored, and for a regression). */
  testAccuracy: number;
  /** @deprecated Use test (NaN when not scored). */
  testLoss: number;
  seconds: number;
  stopped: boolean;
}

export interface TrainerEvents {
  iteration: IterationReport;
  epoch: EpochReport;
  evaluation: EvaluationEvent;
  worker: WorkerEvent;
  checkpoint: { iteration: number; epoch: number; bytes: number };
  /** 'failed': the run cannot go on (diverged, no workers); run() rejects with the reason. */
  state: { state: 'running' | 'paused' | 'waiting' | 'stopped' | 'done' | 'failed'; reason?: string };
  log: { level: 'info' | 'warn'; message: string };
  done: DoneEvent;
}
