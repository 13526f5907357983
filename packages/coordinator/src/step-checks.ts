/** What the trainer checks and sums around each central step: the epoch's figures, non-finite weights, divergence. */
import { type Counts, GradroomError } from '@gradroom/core';

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
