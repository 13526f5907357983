/**
 * "Room vs fastest member alone": the room's examples/s against what its fastest member would reach
 * training alone (its measured fixed cost plus its compute), both averaged over the last iterations,
 * and a sentence that says why when communication, not compute, sets the pace.
 */
import type { RunSeries } from './series.js';

/** Iterations averaged (noise of single iterations would make the ratio flicker). */
const WINDOW = 20;

export interface SpeedRatio {
  room: number;
  alone: number;
  ratio: number;
}

function meanOfLast(xs: readonly number[], n: number): number {
  let sum = 0;
  let k = 0;
  for (let i = xs.length - 1; i >= 0 && k < n; i--) {
    if (!Number.isFinite(xs[i]) || xs[i] <= 0) continue;
    sum += xs[i];
    k++;
  }
  return k > 0 ? sum / k : 0;
}

export function speedRatio(s: RunSeries): SpeedRatio {
  const room = meanOfLast(s.cols.examplesPerSec, WINDOW);
  const alone = meanOfLast(s.cols.fastestAloneExamplesPerSec, WINDOW);
  return { room, alone, ratio: alone > 0 ? room / alone : 0 };
}

/** A sentence for the class: where the iteration's time goes, when that explains the ratio. */
export function explainSpeed(s: RunSeries, r: SpeedRatio): string {
  const c = s.cols;
  const compute = meanOfLast(c.computeMs, WINDOW);
  const transfer = meanOfLast(c.transferMs, WINDOW);
  const wait = meanOfLast(c.waitMs, WINDOW);
  const step = meanOfLast(c.stepMs, WINDOW);
  if (compute + transfer + wait + step === 0) return '';
  const comm = transfer + wait;
  const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
  if (comm > compute) {
    const slower =
      r.alone > 0 && r.ratio < 0.95
        ? ` That is why the room is slower than its fastest member would be alone (${r.ratio.toFixed(2)}×).`
        : '';
    return `Communication dominates: each iteration spends ${ms(comm)} sending weights out, getting gradients back and waiting, against ${ms(compute)} computing.${slower} Bigger mini-batches, or fewer members on a slow link, make the room faster.`;
  }
  const faster =
    r.alone > 0 && r.ratio > 1.05 ? ` The room is ${r.ratio.toFixed(2)}× as fast as its fastest member alone.` : '';
  return `Compute dominates: ${ms(compute)} computing against ${ms(comm)} moving weights and gradients per iteration.${faster}`;
}
