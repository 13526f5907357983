/**
 * The host page's live charts, drawn with uPlot: loss per iteration (raw and EWA-smoothed, with or
 * without bias correction), test accuracy per epoch, learning rate and examples per second per
 * iteration. Data grows in plain arrays; the charts redraw at most once per animation frame.
 */
import type { EpochEvent, IterationEvent } from '@gradroom/coordinator/browser';
import uPlot from 'uplot';
import { byId } from '../ui/dom.js';
import { SERIES_COLORS } from '../ui/theme.js';

const axisStyle: uPlot.Axis = { stroke: '#1d2733', grid: { stroke: '#e3e7ec' }, ticks: { stroke: '#cfd6df' } };
const iterFmt = (_u: uPlot, v: number | null) => (v == null ? '—' : `iteration ${v}`);
const num = (digits: number) => (_u: uPlot, v: number | null) => (v == null ? '—' : v.toFixed(digits));
/** Whole-number steps for iteration and epoch axes (no tick at 1.5). */
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];
const pct = (_u: uPlot, v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);

function width(box: HTMLElement): number {
  return Math.max(240, Math.floor(box.clientWidth));
}
function height(box: HTMLElement): number {
  const w = width(box);
  return Math.round(Math.min(320, Math.max(200, w * (w < 560 ? 0.7 : 0.5))));
}

/** A uPlot chart whose columns grow; redraws are batched to one per frame. */
class LiveChart {
  readonly plot: uPlot;
  readonly columns: number[][];
  private pending = false;

  constructor(boxId: string, opts: Omit<uPlot.Options, 'width' | 'height'>) {
    const box = byId(boxId);
    this.columns = opts.series.map(() => []);
    this.plot = new uPlot({ ...opts, width: width(box), height: height(box) }, this.columns as uPlot.AlignedData, box);
    new ResizeObserver(() => this.plot.setSize({ width: width(box), height: height(box) })).observe(box);
  }

  push(row: number[]): void {
    row.forEach((v, i) => this.columns[i].push(v));
    this.redraw();
  }

  clear(): void {
    for (const c of this.columns) c.length = 0;
    this.redraw();
  }

  redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot.setData(this.columns as uPlot.AlignedData);
    });
  }

  /** What is plotted, as plain arrays (tests read it). */
  data(): number[][] {
    return this.columns.map((c) => [...c]);
  }
}

export class HostCharts {
  readonly loss: LiveChart;
  readonly accuracy: LiveChart;
  readonly lr: LiveChart;
  readonly speed: LiveChart;
  private corrected: number[] = [];
  private raw: number[] = [];
  private biasCorrection = true;

  constructor() {
    this.loss = new LiveChart('loss-chart', {
      scales: { x: { time: false } },
      axes: [
        { ...axisStyle, label: 'iteration (mini-batch)', incrs: WHOLE },
        { ...axisStyle, size: 50 },
      ],
      series: [
        { label: 'Iteration', value: iterFmt },
        { label: 'Loss of the mini-batch', stroke: '#8a94a3', width: 1, value: num(4) },
        { label: 'EWA, β = 0.9 (bias-corrected)', stroke: SERIES_COLORS.blue, width: 2.25, value: num(4) },
      ],
    });
    this.accuracy = new LiveChart('accuracy-chart', {
      scales: {
        x: { time: false, range: (_u, min, max) => (min == null ? [1, 2] : [min, Math.max(max, min + 1)]) },
        // from a round 5% below the lowest point to 100%, and 0-100% before the first epoch
        y: { range: (_u, min) => [min == null ? 0 : Math.max(0, Math.floor(Math.min(min, 0.8) * 20 - 1) / 20), 1] },
      },
      axes: [
        { ...axisStyle, label: 'epoch', incrs: WHOLE },
        { ...axisStyle, size: 52, values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`) },
      ],
      series: [
        { label: 'Epoch', value: (_u, v) => (v == null ? '—' : `epoch ${v}`) },
        {
          label: 'Test accuracy',
          stroke: SERIES_COLORS.green,
          width: 2.5,
          points: { show: true, size: 8 },
          value: pct,
        },
        {
          label: 'Training accuracy',
          stroke: SERIES_COLORS.orange,
          width: 1.5,
          dash: [6, 4],
          points: { show: true, size: 6 },
          value: pct,
        },
      ],
    });
    this.lr = new LiveChart('lr-chart', {
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max == null ? 1 : Math.max(max * 1.1, 1e-9)] } },
      axes: [
        { ...axisStyle, label: 'iteration', incrs: WHOLE },
        { ...axisStyle, size: 60 },
      ],
      series: [
        { label: 'Iteration', value: iterFmt },
        {
          label: 'Learning rate α',
          stroke: SERIES_COLORS.purple,
          width: 2,
          value: (_u, v) => (v == null ? '—' : v.toPrecision(3)),
        },
      ],
    });
    this.speed = new LiveChart('speed-chart', {
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { ...axisStyle, label: 'iteration', incrs: WHOLE },
        { ...axisStyle, size: 56 },
      ],
      series: [
        { label: 'Iteration', value: iterFmt },
        { label: 'Examples per second', stroke: SERIES_COLORS.orange, width: 1.5, value: num(0) },
      ],
    });
  }

  /** Bias correction of the smoothed loss: lossSmoothed (on) or lossSmoothedRaw (off). */
  setBiasCorrection(on: boolean): void {
    this.biasCorrection = on;
    const cols = this.loss.columns;
    cols[2].splice(0, cols[2].length, ...(on ? this.corrected : this.raw));
    // uPlot has no call to rename a series: its label lives in the series and the legend's cell
    const label = `EWA, β = 0.9 (${on ? 'bias-corrected' : 'no bias correction'})`;
    this.loss.plot.series[2].label = label;
    const cell = this.loss.plot.root.querySelectorAll('.u-legend .u-series')[2]?.querySelector('.u-label');
    if (cell) cell.textContent = label;
    this.loss.redraw();
  }

  iteration(e: IterationEvent): void {
    this.corrected.push(e.lossSmoothed);
    this.raw.push(e.lossSmoothedRaw);
    this.loss.push([e.iteration, e.loss, this.biasCorrection ? e.lossSmoothed : e.lossSmoothedRaw]);
    this.lr.push([e.iteration, e.lr]);
    this.speed.push([e.iteration, e.examplesPerSec]);
  }

  epoch(e: EpochEvent): void {
    this.accuracy.push([e.epoch + 1, e.testAccuracy, e.trainAccuracy]);
  }

  clear(): void {
    this.corrected = [];
    this.raw = [];
    for (const c of [this.loss, this.accuracy, this.lr, this.speed]) c.clear();
  }
}
