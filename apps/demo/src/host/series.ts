/**
 * The host page's record of a run: every iteration's figures in full (for CSV export and for
 * continuing a saved run with its history), and decimated views for the charts, so one redraw
 * costs the same at iteration 100 and at iteration 100,000.
 */
import type { EpochEvent, IterationEvent } from '@gradroom/coordinator/browser';

/** Columns kept per iteration, in CSV order. */
export const ITERATION_COLUMNS = [
  'iteration',
  'epoch',
  'examples',
  'loss',
  'lossSmoothed',
  'lossSmoothedRaw',
  'accuracy',
  'lr',
  'examplesPerSec',
  'fastestAloneExamplesPerSec',
  'totalMs',
  'computeMs',
  'transferMs',
  'waitMs',
  'stepMs',
  'bytesOut',
  'bytesIn',
] as const;
export type IterationColumn = (typeof ITERATION_COLUMNS)[number];

export const EPOCH_COLUMNS = [
  'epoch',
  'iteration',
  'trainLoss',
  'trainAccuracy',
  'testLoss',
  'testAccuracy',
  'seconds',
] as const;

export interface SeriesRecord {
  iterations: Record<IterationColumn, number[]>;
  epochs: EpochEvent[];
  steps: number;
}

function emptyColumns(): Record<IterationColumn, number[]> {
  return Object.fromEntries(ITERATION_COLUMNS.map((c) => [c, [] as number[]])) as unknown as Record<
    IterationColumn,
    number[]
  >;
}

export class RunSeries {
  cols = emptyColumns();
  epochs: EpochEvent[] = [];
  /** Examples seen over the run (steps, in the lecture's words). */
  steps = 0;
  /** Bumped on every change, so renderers know whether to redraw. */
  version = 0;

  get length(): number {
    return this.cols.iteration.length;
  }

  push(e: IterationEvent): void {
    const c = this.cols;
    c.iteration.push(e.iteration);
    c.epoch.push(e.epoch + 1);
    c.examples.push(e.examples);
    c.loss.push(e.loss);
    c.lossSmoothed.push(e.lossSmoothed);
    c.lossSmoothedRaw.push(e.lossSmoothedRaw);
    c.accuracy.push(e.accuracy);
    c.lr.push(e.lr);
    c.examplesPerSec.push(e.examplesPerSec);
    c.fastestAloneExamplesPerSec.push(e.fastestAloneExamplesPerSec ?? 0);
    const t = e.timing;
    c.totalMs.push(t?.totalMs ?? Number.NaN);
    c.computeMs.push(t?.computeMs ?? Number.NaN);
    c.transferMs.push(t?.transferMs ?? Number.NaN);
    c.waitMs.push(t?.waitMs ?? Number.NaN);
    c.stepMs.push(t?.stepMs ?? Number.NaN);
    c.bytesOut.push(e.bytes?.out ?? Number.NaN);
    c.bytesIn.push(e.bytes?.in ?? Number.NaN);
    this.steps += e.examples;
    this.version++;
  }

  pushEpoch(e: EpochEvent): void {
    this.epochs.push(e);
    this.version++;
  }

  clear(): void {
    this.cols = emptyColumns();
    this.epochs = [];
    this.steps = 0;
    this.version++;
  }

  /** Drops what comes after `iteration` (a saved run continues from its checkpoint, not from later). */
  truncate(iteration: number): void {
    const keep = this.cols.iteration.findIndex((i) => i > iteration);
    if (keep >= 0) {
      for (const c of ITERATION_COLUMNS) this.cols[c].length = keep;
      this.steps = this.cols.examples.reduce((a, b) => a + b, 0);
    }
    this.epochs = this.epochs.filter((e) => e.iteration <= iteration);
    this.version++;
  }

  record(): SeriesRecord {
    return { iterations: this.cols, epochs: this.epochs, steps: this.steps };
  }

  /** Restores a record saved with a run (checked: equal column lengths, numbers only). */
  load(r: SeriesRecord): void {
    const n = r?.iterations?.iteration?.length;
    if (typeof n !== 'number') throw new Error('the saved chart history is not readable');
    for (const c of ITERATION_COLUMNS) {
      const col = r.iterations[c];
      if (!Array.isArray(col) || col.length !== n) throw new Error('the saved chart history is not readable');
    }
    this.cols = Object.fromEntries(ITERATION_COLUMNS.map((c) => [c, [...r.iterations[c]]])) as typeof this.cols;
    this.epochs = Array.isArray(r.epochs) ? [...r.epochs] : [];
    this.steps = Number(r.steps) || 0;
    this.version++;
  }

  /** One row per iteration, with the test figures of the epoch it ended (if it ended one). */
  iterationsCsv(): string {
    const byIteration = new Map(this.epochs.map((e) => [e.iteration, e]));
    const head = [...ITERATION_COLUMNS, 'testAccuracy', 'testLoss'].join(',');
    const rows: string[] = [head];
    for (let i = 0; i < this.length; i++) {
      const ep = byIteration.get(this.cols.iteration[i]);
      const cells = ITERATION_COLUMNS.map((c) => csvNumber(this.cols[c][i]));
      cells.push(ep ? csvNumber(ep.testAccuracy) : '', ep ? csvNumber(ep.testLoss) : '');
      rows.push(cells.join(','));
    }
    return `${rows.join('\n')}\n`;
  }
}

export function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

/** A CSV cell for text: quoted when it holds a comma, quote or line break; formula starts defused. */
export function csvText(s: string): string {
  let t = s;
  if (/^[=+\-@]/.test(t)) t = `'${t}`;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/**
 * Indices that keep a series' shape with at most about `max` points: the range is cut into max/2
 * buckets and each keeps its lowest and highest point of `key` (spikes survive), plus the first and
 * last points. Below `max` points every index is kept.
 */
export function decimate(key: readonly number[], max: number): number[] {
  const n = key.length;
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.max(1, Math.floor((max - 2) / 2));
  const out: number[] = [0];
  const size = (n - 2) / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor(b * size);
    const to = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      const v = key[i];
      if (v < key[lo]) lo = i;
      if (v > key[hi]) hi = i;
    }
    if (from >= to) continue;
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(n - 1);
  return out;
}

/** The columns at `idx`. */
export function pick(cols: readonly (readonly number[])[], idx: readonly number[]): number[][] {
  return cols.map((c) => idx.map((i) => c[i]));
}
