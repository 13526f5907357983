/**
 * What the trainer checks, sums and reports around each central step: the epoch's figures,
 * non-finite weights, divergence, each worker's credit, and the iteration event.
 */
import { type Counts, GradroomError, type Position } from '@gradroom/core';
import type { IterationReport, WorkerStatus } from './events.js';
import type { MetricName } from './history.js';
import type { RoundOutcome } from './modes/mode.js';
import type { WorkerSession } from './session.js';

/** Loss, accuracy and time of the epoch so far. */
export class EpochStats {
  private lossSum = 0;
  private correct = 0;
  private count = 0;
  private started = performance.now();

  add(r: Counts): void {
    this.lossSum += r.lossSum;
    this.correct += r.correct;
    this.count += r.count;
  }

  /** The epoch's figures; the next epoch starts now. */
  close(): { trainLoss: number; trainAccuracy: number; seconds: number } {
    const out = {
      trainLoss: this.lossSum / this.count,
      trainAccuracy: this.correct / this.count,
      seconds: (performance.now() - this.started) / 1000,
    };
    this.lossSum = this.correct = this.count = 0;
    this.started = performance.now();
    return out;
  }
}

/** Index of the first NaN or infinite value, or -1. */
export function firstNonFinite(a: Float32Array): number {
  let probe = 0;
  for (let i = 0; i < a.length; i++) probe += a[i] * 0;
  if (probe === 0) return -1;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** A divergence, in words that say what to do about it; any other error as it was. */
export function diverged(e: unknown, iteration: number, lr: number): unknown {
  if (!(e instanceof GradroomError && e.code === 'DIVERGED')) return e;
  return new GradroomError(
    'DIVERGED',
    `the loss became NaN at iteration ${iteration + 1} (learning rate ${lr}): lower the learning rate. The last good checkpoint is kept. (${e.message})`,
  );
}

/** Credits each worker with what it computed in the round, and its share; the others with nothing. */
export function creditWorkers(r: RoundOutcome, ready: WorkerSession[]): void {
  for (const [s, n] of r.perWorker) s.credit(n, n / r.shareOf);
  for (const s of ready) if (!r.perWorker.has(s)) s.credit(0, 0);
}

/** The iteration event of a round that started at `pos` (the loss's EWAs and auto's decision apart). */
export function iterationEvent(
  pos: Position,
  r: RoundOutcome,
  metric: MetricName,
  loss: number,
  t: { totalMs: number; stepMs: number; batchesPerEpoch: number; workers: WorkerStatus[] },
): Omit<IterationReport, 'lossSmoothed' | 'lossSmoothedRaw'> {
  const { stats } = r;
  const accuracy = r.correct / r.count;
  return {
    epoch: pos.epoch,
    batch: pos.batch + r.steps - 1,
    batchesPerEpoch: t.batchesPerEpoch,
    iteration: pos.iteration + r.steps,
    examples: r.count,
    loss,
    metric,
    metricValue: metric === 'accuracy' ? accuracy : loss,
    accuracy: metric === 'accuracy' ? accuracy : Number.NaN,
    lr: r.eventLr,
    examplesPerSec: (r.count / t.totalMs) * 1000,
    timing: {
      totalMs: t.totalMs,
      computeMs: stats.criticalComputeMs,
      transferMs: stats.criticalTransferMs,
      waitMs: Math.max(0, t.totalMs - stats.criticalComputeMs - stats.criticalTransferMs - t.stepMs),
      stepMs: t.stepMs,
    },
    bytes: { out: stats.bytesOut, in: stats.bytesIn },
    fastestAloneExamplesPerSec: r.fastestAloneExamplesPerSec,
    replanned: stats.replanned,
    workers: t.workers,
    ...(r.round ? { round: r.round } : {}),
  };
}
