/**
 * What a training mode is (hivemind's Optimizer: one facade, the trainer, over parts that each own
 * their state): it turns the run's position into one round of work through the dispatch loop, counts
 * the checked results its own way, and hands back one vector for the trainer's one central step.
 * Exact mode (exact.ts) and local mode (local.ts) are the two; both go through Dispatcher.run and
 * Trainer's one step-finishing routine.
 */
import type { Counts, EpochPlan, Position } from '@gradroom/core';
import type { RoundStats } from '../dispatch.js';
import type { WorkerSession } from '../session.js';
import type { WeightsSnapshot } from '../worker-handle.js';

/** Where a round starts, and the buffers it writes into. */
export interface RoundStart {
  pos: Position;
  plan: EpochPlan;
  snapshot: WeightsSnapshot;
  paramCount: number;
  /** The optimizer's gradient buffer: the round writes the vector of the central step here. */
  grads: Float32Array;
  /** The learning rate of the iteration at a position (the run's schedule, manual changes included). */
  lrAt(pos: Position): number;
  /** The run's last iteration + 1, if it has a cap. */
  maxIterations?: number;
}

/** A round done: what the central step and the iteration event need. */
export interface RoundOutcome extends Counts {
  stats: RoundStats;
  /** Mini-batches the round covered: the position moves on by this many. */
  steps: number;
  /** Learning rate of the central step (outer lr in mode local). */
  stepLr: number;
  /** The learning rate reported in the iteration event. */
  eventLr: number;
  /** Examples each worker computed in this round (its credit), and what its share is a share of. */
  perWorker: Map<WorkerSession, number>;
  shareOf: number;
  /** Iteration-event fields only this mode knows. */
  fastestAloneExamplesPerSec: number;
  round?: { steps: number; groups: number; early?: number; caughtUp?: number };
}

export interface Mode {
  /** One round from `at`; null when the run was stopped while it waited for workers. */
  round(at: RoundStart): Promise<RoundOutcome | null>;
}

/** Adds `n` examples to `w`'s credit in `m`. */
export function addCredit(m: Map<WorkerSession, number>, w: WorkerSession, n: number): void {
  m.set(w, (m.get(w) ?? 0) + n);
}
