/**
 * The host page's live charts, drawn with uPlot: loss per iteration (raw and EWA-smoothed, with or
 * without bias correction, linear or log axis), accuracy per epoch, learning rate, examples per
 * second, and where each iteration's time goes (compute, transfer, waiting, optimizer step).
 *
 * Charts never redraw on an event: the page calls render() from a timer, and each chart plots a
 * decimated view of the run's series (series.ts), so a redraw costs the same late in a long run as
 * early on. Legends show the latest values without hovering.
 */
import uPlot from 'uplot';
import { byId } from '../ui/dom.js';
import { SERIES_COLORS } from '../ui/theme.js';
import { tickLabels } from './format.js';
import { decimate, pick, type RunSeries } from './series.js';

/** Points a chart draws at most (more than one per pixel column of a wide chart). */
export const MAX_POINTS = 800;

const axisStyle: uPlot.Axis = { stroke: '#1d2733', grid: { stroke: '#e3e7ec' }, ticks: { stroke: '#cfd6df' } };
const iterFmt = (_u: uPlot, v: number | null) => (v == null ? '—' : `iteration ${v}`);
const num = (digits: number) => (_u: uPlot, v: number | null) => (v == null ? '—' : v.toFixed(digits));
/** Whole-number steps for iteration and epoch axes (no tick at 1.5). */
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000];
const pct = (_u: uPlot, v: number | null) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);

function width(box: HTMLElement): number {
  // the box's own fractional width, rounded down (clientWidth rounds 571.8 up to 572: 0.2 px out)
  return Math.max(240, Math.floor(box.getBoundingClientRect().width));
}
function height(box: HTMLElement, legend = 70): number {
  const w = width(box);
  // the projector view sizes the box to the screen; the legend takes the bottom of it
  // (whole pixels down: a box of 612.8 px must not get a 613 px chart, which pushes the legend out)
  if (document.body.classList.contains('projector') && box.clientHeight > 0)
    return Math.max(180, Math.floor(box.getBoundingClientRect().height) - Math.ceil(legend) - 8);
  return Math.round(Math.min(320, Math.max(200, w * (w < 560 ? 0.7 : 0.5))));
}

/** A uPlot chart fed by a function of the run's series. */
class LiveChart {
  plot: uPlot;
  private drawnVersion = -1;
  /** The last data handed to uPlot (what it draws). */
  shown: number[][] = [];

  constructor(
    readonly box: HTMLElement,
    private opts: Omit<uPlot.Options, 'width' | 'height'>,
    private readonly data: () => number[][],
  ) {
    this.plot = this.make();
    new ResizeObserver(() => this.resize()).observe(box);
    // a chart scrolled out of view (or hidden by the projector view) is not redrawn until it shows
    new IntersectionObserver((entries) => {
      this.inView = entries.some((e) => e.isIntersecting);
      if (this.inView && this.lastVersion !== this.drawnVersion) this.render(this.lastVersion);
    }).observe(box);
  }

  private inView = true;
  private lastVersion = -1;

  /** Watches the legend: it wraps to more lines with bigger fonts or longer values, and the plot makes room. */
  private legendWatch?: ResizeObserver;

  private make(): uPlot {
    const plot = new uPlot(
      { ...this.opts, width: width(this.box), height: height(this.box) },
      (this.shown.length > 0 ? this.shown : this.opts.series.map(() => [])) as unknown as uPlot.AlignedData,
      this.box,
    );
    // the first height guessed the legend's; on the projector the box is fixed, so measure it
    this.legendWatch?.disconnect();
    const legend = plot.root.querySelector('.u-legend');
    this.legendWatch = new ResizeObserver(() => this.resize());
    if (legend) this.legendWatch.observe(legend);
    return plot;
  }

  /**
   * Builds the chart again with changed options: uPlot fixes a scale's kind (linear, log) and its
   * axis ticks when it is made.
   */
  rebuild(change: (o: Omit<uPlot.Options, 'width' | 'height'>) => Omit<uPlot.Options, 'width' | 'height'>): void {
    this.opts = change(this.opts);
    this.plot.destroy();
    this.plot = this.make();
    this.drawnVersion = -1;
  }

  resize(): void {
    if (!this.plot) return; // the legend's first report can come before the constructor is done
    const legend = this.plot.root.querySelector<HTMLElement>('.u-legend')?.getBoundingClientRect().height;
    const size = { width: width(this.box), height: height(this.box, legend) };
    // a change of height leaves the legend's size as it is, so this does not call itself again
    if (size.width !== this.plot.width || size.height !== this.plot.height) this.plot.setSize(size);
  }

  redraws = 0;

  render(version: number, force = false): void {
    this.lastVersion = version;
    if ((version === this.drawnVersion || !this.inView) && !force) return;
    this.drawnVersion = version;
    this.redraws++;
    this.shown = this.data();
    this.plot.setData(this.shown as uPlot.AlignedData);
    // legends show the newest values until someone hovers
    const n = this.shown[0]?.length ?? 0;
    // after uPlot's own commit of the new data (a microtask), which resets the legend
    if (n > 0)
      queueMicrotask(() => {
        if ((this.plot.cursor.left ?? -1) < 0) this.plot.setLegend({ idx: n - 1 });
      });
  }
}

export class HostCharts {
  readonly loss: LiveChart;
  readonly accuracy: LiveChart;
  readonly lr: LiveChart;
  readonly speed: LiveChart;
  readonly timing: LiveChart;
  private biasCorrection = true;
  private logScale = false;
  private version = 0;

  constructor(private readonly s: RunSeries) {
    const lossIdx = () => decimate(s.cols.loss, MAX_POINTS);
    this.loss = new LiveChart(
      byId('loss-chart'),
      {
        scales: { x: { time: false }, y: { distr: 1 } },
        axes: [
          { ...axisStyle, label: 'iteration (mini-batch)', incrs: WHOLE },
          { ...axisStyle, size: 60, label: 'loss (cross-entropy)', values: (_u, t) => tickLabels(t) },
        ],
        series: [
          { label: 'Iteration', value: iterFmt },
          { label: 'Loss of the mini-batch', stroke: '#8a94a3', width: 1, value: num(4) },
          { label: 'EWA, β = 0.9 (bias-corrected)', stroke: SERIES_COLORS.blue, width: 2.25, value: num(4) },
        ],
      },
      () => {
        const c = s.cols;
        return pick([c.iteration, c.loss, this.biasCorrection ? c.lossSmoothed : c.lossSmoothedRaw], lossIdx());
      },
    );
    this.accuracy = new LiveChart(
      byId('accuracy-chart'),
      {
        scales: {
          x: { time: false, range: (_u, min, max) => (min == null ? [1, 2] : [min, Math.max(max, min + 1)]) },
          // from a round 5% below the lowest point to 100%, and 0-100% before the first epoch
          y: {
            range: (_u, min) => [min == null ? 0 : Math.max(0, Math.floor(Math.min(min, 0.8) * 20 - 1) / 20), 1],
          },
        },
        axes: [
          { ...axisStyle, label: 'epoch', incrs: WHOLE },
          {
            ...axisStyle,
            size: 52,
            label: 'accuracy',
            values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 100)}%`),
          },
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
            label: 'Training accuracy (while learning)',
            stroke: SERIES_COLORS.orange,
            width: 1.5,
            dash: [6, 4],
            points: { show: true, size: 6 },
            value: pct,
          },
        ],
      },
      () => [
        s.epochs.map((e) => e.epoch + 1),
        s.epochs.map((e) => e.testAccuracy),
        s.epochs.map((e) => e.trainAccuracy),
      ],
    );
    this.lr = new LiveChart(
      byId('lr-chart'),
      {
        scales: {
          x: { time: false },
          y: { range: (_u, _min, max) => [0, max == null ? 1 : Math.max(max * 1.1, 1e-9)] },
        },
        axes: [
          { ...axisStyle, label: 'iteration', incrs: WHOLE },
          { ...axisStyle, size: 70, label: 'α', values: (_u, t) => tickLabels(t) },
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
      },
      () => pick([s.cols.iteration, s.cols.lr], decimate(s.cols.lr, MAX_POINTS)),
    );
    this.speed = new LiveChart(
      byId('speed-chart'),
      {
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
        axes: [
          { ...axisStyle, label: 'iteration', incrs: WHOLE },
          { ...axisStyle, size: 60, label: 'examples/s' },
        ],
        series: [
          { label: 'Iteration', value: iterFmt },
          { label: 'The room', stroke: SERIES_COLORS.orange, width: 1.5, value: num(0) },
          { label: 'Fastest member alone', stroke: SERIES_COLORS.gray, width: 1.5, dash: [4, 4], value: num(0) },
        ],
      },
      () =>
        pick(
          [s.cols.iteration, s.cols.examplesPerSec, s.cols.fastestAloneExamplesPerSec],
          decimate(s.cols.examplesPerSec, MAX_POINTS),
        ),
    );
    // stacked: each series is the sum of its part and those below it, filled down to the axis;
    // drawn top first so each lower band paints over the one above
    const part =
      (name: 'computeMs' | 'transferMs' | 'waitMs' | 'stepMs') =>
      (u: uPlot, _v: number | null, _si: number, i: number | null) => {
        const idx = i ?? (u.data[0]?.length ?? 0) - 1;
        const iter = u.data[0]?.[idx];
        const at = iter == null ? -1 : timingAt(iter);
        const v = at >= 0 ? s.cols[name][at] : Number.NaN;
        return Number.isFinite(v) ? `${v.toFixed(1)} ms` : '—';
      };
    let lastIter = -1;
    let lastAt = -1;
    const timingAt = (iter: number) => {
      if (iter === lastIter) return lastAt;
      lastIter = iter;
      lastAt = s.cols.iteration.lastIndexOf(iter);
      return lastAt;
    };
    this.timing = new LiveChart(
      byId('timing-chart'),
      {
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
        axes: [
          { ...axisStyle, label: 'iteration', incrs: WHOLE },
          { ...axisStyle, size: 60, label: 'ms per iteration' },
        ],
        series: [
          { label: 'Iteration', value: iterFmt },
          { label: 'Optimizer step', stroke: SERIES_COLORS.purple, fill: '#ecd5e3', width: 1, value: part('stepMs') },
          { label: 'Waiting', stroke: SERIES_COLORS.gray, fill: '#dde1e6', width: 1, value: part('waitMs') },
          { label: 'Transfer', stroke: SERIES_COLORS.orange, fill: '#f4d9bd', width: 1, value: part('transferMs') },
          { label: 'Compute', stroke: SERIES_COLORS.blue, fill: '#c4dcef', width: 1, value: part('computeMs') },
        ],
      },
      () => {
        const c = s.cols;
        const idx = decimate(c.totalMs, MAX_POINTS);
        const comp = idx.map((i) => c.computeMs[i]);
        const tr = idx.map((i, k) => comp[k] + c.transferMs[i]);
        const wait = idx.map((i, k) => tr[k] + c.waitMs[i]);
        const step = idx.map((i, k) => wait[k] + c.stepMs[i]);
        return [idx.map((i) => c.iteration[i]), step, wait, tr, comp];
      },
    );
  }

  get all(): LiveChart[] {
    return [this.loss, this.accuracy, this.lr, this.speed, this.timing];
  }

  /** Chart redraws so far (one per chart whose data changed, per render). */
  get redraws(): number {
    return this.all.reduce((a, c) => a + c.redraws, 0);
  }

  /** Redraws the charts whose data changed since their last redraw. */
  render(force = false): void {
    for (const c of this.all) c.render(this.s.version + this.version, force);
  }

  /** Bias correction of the smoothed loss: lossSmoothed (on) or lossSmoothedRaw (off). */
  setBiasCorrection(on: boolean): void {
    this.biasCorrection = on;
    // uPlot has no call to rename a series: its label lives in the series and the legend's cell
    const label = `EWA, β = 0.9 (${on ? 'bias-corrected' : 'no bias correction'})`;
    this.loss.plot.series[2].label = label;
    const cell = this.loss.plot.root.querySelectorAll('.u-legend .u-series')[2]?.querySelector('.u-label');
    if (cell) cell.textContent = label;
    this.version++;
    this.render();
  }

  /**
   * Axis fonts of `px` CSS pixels (uPlot's default is 12), the axes' room growing with them: the
   * projector view scales them with the screen so the back row reads the ticks. uPlot sets fonts
   * when a chart is made, so each chart is made again (keeping a renamed loss legend).
   */
  setFontSize(px: number): void {
    if (px === this.fontPx) return;
    const k = px / this.fontPx;
    this.fontPx = px;
    const label = this.loss.plot.series[2].label;
    for (const c of this.all)
      c.rebuild((o) => ({
        ...o,
        axes: o.axes?.map((a) => ({
          ...a,
          font: `${px}px system-ui, -apple-system, sans-serif`,
          labelFont: `bold ${px}px system-ui, -apple-system, sans-serif`,
          labelSize: Math.round(px * 1.6),
          size: Math.round((typeof a.size === 'number' ? a.size : 50) * k),
        })),
        series: c === this.loss ? o.series.map((x, i) => (i === 2 ? { ...x, label } : x)) : o.series,
      }));
    this.version++;
    this.render(true);
  }

  private fontPx = 12;

  /** The loss axis on a log scale (base 10), where late small improvements stay visible. */
  setLogScale(on: boolean): void {
    this.logScale = on;
    const label = this.loss.plot.series[2].label; // the bias-correction toggle may have renamed it
    this.loss.rebuild((o) => ({
      ...o,
      scales: { ...o.scales, y: { distr: on ? 3 : 1, log: 10 } },
      series: o.series.map((x, i) => (i === 2 ? { ...x, label } : x)),
    }));
    this.version++;
    this.render(true);
  }

  get log(): boolean {
    return this.logScale;
  }

  /** All charts as one PNG image (title above each, legend below), for the end-of-run summary. */
  async png(title: string): Promise<Blob> {
    const pad = 16;
    const canvases = this.all.map((c) => ({
      canvas: c.plot.root.querySelector('canvas') as HTMLCanvasElement,
      title: c.box.closest('figure')?.querySelector('figcaption')?.textContent ?? '',
      legend: legendOf(c.plot),
    }));
    const w = Math.max(...canvases.map((c) => c.canvas.width)) + 2 * pad;
    const h = canvases.reduce((a, c) => a + c.canvas.height + 40 + LEGEND_H, 50) + pad;
    const out = document.createElement('canvas');
    out.width = w;
    out.height = h;
    const g = out.getContext('2d');
    if (!g) throw new Error('this browser cannot draw the image');
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#1d2733';
    g.font = 'bold 22px system-ui, sans-serif';
    g.fillText(title, pad, 32);
    let y = 50;
    g.font = '16px system-ui, sans-serif';
    for (const c of canvases) {
      g.font = 'bold 16px system-ui, sans-serif';
      g.fillStyle = '#1d2733';
      g.fillText(c.title, pad, y + 18);
      g.drawImage(c.canvas, pad, y + 28);
      // the legend under its chart: a swatch of each line's colour and its name
      g.font = '15px system-ui, sans-serif';
      let x = pad;
      const ly = y + 28 + c.canvas.height + LEGEND_H / 2 + 4;
      for (const item of c.legend) {
        g.fillStyle = item.color;
        g.fillRect(x, ly - 4, 22, 4);
        g.fillStyle = '#1d2733';
        g.fillText(item.label, x + 28, ly + 1);
        x += Math.round(28 + g.measureText(item.label).width + 24); // whole pixels: crisp swatches
      }
      y += c.canvas.height + 40 + LEGEND_H;
    }
    return new Promise((resolve, reject) =>
      out.toBlob((b) => (b ? resolve(b) : reject(new Error('the image could not be made'))), 'image/png'),
    );
  }
}

/** Height of a chart's legend row in the exported PNG. */
const LEGEND_H = 28;

/** A chart's shown series as the exported PNG's legend: label and line colour (uPlot resolves both). */
export function legendOf(plot: uPlot): { label: string; color: string }[] {
  return plot.series.slice(1).flatMap((s, k) => {
    if (s.show === false) return [];
    const stroke = typeof s.stroke === 'function' ? s.stroke(plot, k + 1) : s.stroke;
    return [{ label: String(s.label ?? ''), color: typeof stroke === 'string' ? stroke : '#1d2733' }];
  });
}
