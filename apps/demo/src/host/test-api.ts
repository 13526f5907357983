/** window.__host: the host page's data and state, for tests, the bench and the console. */
import type { JobConfig } from '@gradroom/coordinator/browser';
import type { RunOptions, RunTruth } from '../coordinator-worker/protocol.js';
import { legendOf } from './charts.js';
import type { ClassEvent, ClassPanel } from './class-panel.js';
import type { HostContext, Phase } from './context.js';
import type { LearnedPanel } from './learned-panel.js';
import type { RunControls } from './run-controls.js';
import type { SummaryPanel } from './summary.js';
import type { TtaPanel } from './tta.js';

declare global {
  interface Window {
    __host?: {
      phase(): Phase;
      joinUrl(): string | null;
      volunteers(): number;
      /** The full series: [iterations, loss, smoothed loss] */
      loss(): number[][];
      /** [epochs, test accuracy, training accuracy] */
      accuracy(): number[][];
      /** [iterations, learning rate] */
      lr(): number[][];
      /** [iterations, room examples/s, fastest member alone] */
      speed(): number[][];
      /** [iterations, compute, transfer, wait, step] (ms) */
      timing(): number[][];
      /** What each chart draws now: its points, and its last point. */
      drawn(): Record<'loss' | 'accuracy' | 'lr' | 'speed' | 'timing', number> & { last: Record<string, number[]> };
      iteration(): number;
      steps(): number;
      lrChanges(): { iteration: number; lr: number }[];
      workers(): {
        id?: string;
        name: string;
        backend?: string;
        speed: number;
        share: number;
        examples: number;
        status: string;
      }[];
      /** The last panel of test digits with the model's answers, the confusion matrix, the drawn digit's probabilities. */
      predictions(): { labels: number[]; predicted: number[]; confidence: number[] } | null;
      confusion(): number[][] | null;
      drawing(): number[] | null;
      seriesCsv(): string;
      /** CSS px of every chart's tick and axis-label fonts, as uPlot draws them. */
      axisFonts(): number[];
      /** Each chart's legend as the exported PNG draws it (label, colour). */
      pngLegends(): { label: string; color: string }[][];
      summaryCsv(): string;
      /** The loss chart's y scale as drawn: kind (1 linear, 3 log) and range. */
      lossScale(): { distr: number; min: number; max: number };
      /** The trainer's own account, from the coordinator worker (iteration times from `since`). */
      truth(since?: number): Promise<RunTruth>;
      /** Starts a run of `job` as the Start button does, without the form (bench, console). */
      startJob(job: JobConfig, opts: RunOptions): Promise<void>;
      /** Times the charts were redrawn since the page loaded. */
      redraws(): number;
      /** "Room vs this laptop alone": the line, the cost model's input and its prediction. */
      tta(): ReturnType<TtaPanel['state']>;
      /** Draw to train: the class's drawings and accuracy as last shown, and an evaluation now. */
      classData(): ClassEvent | null;
      evaluateClass(): Promise<void>;
      /** With `wiretap=1` in the address: every message the coordinator received from students. */
      wiretap(): Promise<{ from: string; m: unknown }[]>;
      /** Worker -> page -> worker through the WebRTC bridge (bench). */
      measureBridge(mb: number): Promise<{ mbPerSec: number; msPerChunk: number }>;
    };
  }
}
export function exposeHostApi(
  ctx: HostContext,
  run: RunControls,
  learned: LearnedPanel,
  summary: SummaryPanel,
  classData: ClassPanel,
): void {
  const { series, charts, roster } = ctx;
  window.__host = {
    phase: () => ctx.phase,
    joinUrl: () => ctx.room?.joinUrl ?? null,
    volunteers: () => roster.present().length,
    loss: () => {
      const c = series.cols;
      return [
        c.iteration,
        c.loss,
        charts.loss.plot.series[2].label?.toString().includes('no bias') ? c.lossSmoothedRaw : c.lossSmoothed,
      ].map((x) => [...x]);
    },
    accuracy: () => [
      series.epochs.map((e) => e.epoch + 1),
      series.epochs.map((e) => e.testAccuracy),
      series.epochs.map((e) => e.trainAccuracy),
    ],
    lr: () => [[...series.cols.iteration], [...series.cols.lr]],
    speed: () => [
      [...series.cols.iteration],
      [...series.cols.examplesPerSec],
      [...series.cols.fastestAloneExamplesPerSec],
    ],
    timing: () => {
      const c = series.cols;
      return [c.iteration, c.computeMs, c.transferMs, c.waitMs, c.stepMs].map((x) => [...x]);
    },
    drawn: () => {
      const n = (c: { shown: number[][] }) => c.shown[0]?.length ?? 0;
      const lastOf = (c: { shown: number[][] }) => c.shown.map((col) => Number(col.at(-1)));
      return {
        loss: n(charts.loss),
        accuracy: n(charts.accuracy),
        lr: n(charts.lr),
        speed: n(charts.speed),
        timing: n(charts.timing),
        last: {
          loss: lastOf(charts.loss),
          accuracy: lastOf(charts.accuracy),
          lr: lastOf(charts.lr),
          speed: lastOf(charts.speed),
          timing: lastOf(charts.timing),
        },
      };
    },
    iteration: () => ctx.last?.iteration ?? 0,
    steps: () => series.steps,
    lrChanges: run.lrChanges,
    workers: () =>
      roster.list().map((p) => ({
        id: p.id,
        name: p.name,
        backend: p.backend,
        speed: p.status?.speed ?? 0,
        share: p.status?.share ?? 0,
        examples: roster.examples(p),
        status: p.left ? 'left' : (p.status?.status ?? 'waiting'),
      })),
    predictions: learned.predictions,
    confusion: learned.confusion,
    drawing: learned.drawing,
    seriesCsv: () => series.iterationsCsv(),
    axisFonts: () =>
      charts.all.flatMap((c) =>
        c.plot.axes.flatMap((a) => [a.font, a.labelFont].map((f) => Number((f as unknown as unknown[])?.[2]))),
      ),
    pngLegends: () => charts.all.map((c) => legendOf(c.plot)),
    summaryCsv: summary.csv,
    lossScale: () => {
      const y = charts.loss.plot.scales.y;
      return { distr: y.distr ?? 1, min: y.min ?? Number.NaN, max: y.max ?? Number.NaN };
    },
    truth: (since) => ctx.coordinator.truth(since),
    startJob: run.startJob,
    redraws: () => charts.redraws,
    measureBridge: (mb) => ctx.coordinator.measureBridge(mb),
    tta: () => ctx.tta.state(),
    classData: classData.last,
    evaluateClass: () => ctx.coordinator.evaluateClass(),
    wiretap: () => ctx.coordinator.wiretap(),
  };
}
