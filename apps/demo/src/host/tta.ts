/**
 * "Room vs this laptop alone" on the host page and the projector (issues 18 §3, 22). While the run
 * goes, the cost model predicts, from the workers measured so far, when the room reaches the target
 * and how long this laptop's own workers alone would take; the test split is scored every ~1,280
 * examples until the target is reached, and then the page says what was measured. The prediction
 * shown then is the last one made before the target was reached.
 */
import type { JobConfig, WorkerStatus } from '@gradroom/coordinator/browser';
import { predictRoomVsAlone, type RoomVsAlone, type RoomVsAloneInput } from '@gradroom/core';
import { datasetName } from '@gradroom/worker/catalog';
import { byId } from '../ui/dom.js';
import { fitOneLine } from '../ui/fit.js';
import { counted } from './format.js';
import { CURVE_JOB, examplesFor, targetText } from './target.js';
import { ttaInput } from './tta-input.js';
import { type TtaFacts, ttaSentence } from './tta-words.js';

/** Examples between two scorings of the test split while the target is not reached. */
export const EVAL_EXAMPLES = 1280;

/** Iterations between scorings for mini-batches of `batchSize` (the curves' resolution). */
export function evalEveryFor(batchSize: number): number {
  return Math.max(1, Math.round(EVAL_EXAMPLES / batchSize));
}

export interface TtaPanel {
  /**
   * Before the first run: the form's data set and target (null: the form has a bad value), shown
   * until a run starts; the numbers come once the run's first iterations are measured.
   */
  preview(dataset: string | null, target: number): void;
  /** A run starts (or goes on after a reload) with this job and target. */
  begin(job: JobConfig, target: number): void;
  /**
   * An iteration: the first one starts the clock (set-up, as in the prediction, is left out); its
   * epoch's mini-batches cap mode local's rounds in the prediction.
   */
  onIteration(totalMs: number, batchesPerEpoch?: number): void;
  /** The pool's latest view: the prediction follows it until the target is reached. */
  onWorkers(list: readonly WorkerStatus[], hasLocal: boolean): void;
  /** A test score after `iteration` (an evaluation, or an epoch's): `evalMs` is left out of the measured seconds. */
  onScore(accuracy: number, evalMs: number, iteration: number): void;
  /** The run ended (done or stopped). */
  onEnded(): void;
  render(): void;
  /**
   * What the line says and what it was computed from (tests, the console): now, and as last drawn
   * (`shown`: the page's line, with the input and prediction behind it).
   */
  state(): {
    text: string;
    input: RoomVsAloneInput | null;
    prediction: RoomVsAlone | null;
    facts: TtaFacts;
    shown: { text: string; input: RoomVsAloneInput | null; prediction: RoomVsAlone | null };
  };
}

export function ttaPanel(): TtaPanel {
  let facts: TtaFacts = { target: 0.92, examplesExact: null, prediction: null, hasLocal: false };
  let input: RoomVsAloneInput | null = null;
  let job: JobConfig | undefined;
  /** performance.now() when the run's first iteration began (undefined until then). */
  let firstAt: number | undefined;
  /** The run's mini-batches an epoch, once an iteration has said (mode local's rounds in the prediction). */
  let epochBatches: number | undefined;
  let evalMs = 0;
  let best = 0;
  let live = false;
  let previewing = false;
  let shownNow: ReturnType<TtaPanel['state']>['shown'] = { text: '', input: null, prediction: null };

  const done = () => facts.reached !== undefined || facts.ended !== undefined;
  const trained = () => (firstAt === undefined ? 0 : Math.max(0, (performance.now() - firstAt - evalMs) / 1000));

  function render(): void {
    const shown = live || done() || previewing;
    shownNow = { text: shown ? ttaSentence(facts) : '', input, prediction: facts.prediction };
    for (const id of ['tta-line', 'projector-tta']) {
      const text = shown ? ttaSentence(facts, id === 'projector-tta') : '';
      const n = byId(id);
      if (n.textContent === text) continue;
      n.textContent = text;
      n.hidden = text === '';
      if (id === 'projector-tta') fitOneLine(n, 14);
    }
    const note =
      facts.examplesExact !== null && shown
        ? `Exact mode needs about ${(Math.round(facts.examplesExact / 100) * 100).toLocaleString('en')} examples to reach ${targetText(facts.target)} here (measured with ${CURVE_JOB}; other settings may need more or fewer). The speeds are this run's, measured (${counted(input?.members.length ?? 0, 'worker')} so far); the time runs from the first iteration, without the scoring of the test split.`
        : '';
    const n = byId('tta-note');
    if (n.textContent !== note) n.textContent = note;
    n.hidden = note === '';
  }

  return {
    preview(dataset, target) {
      if (live || done()) return; // a run's measurement stays until the next run starts
      previewing = dataset !== null;
      if (dataset === null) return render();
      facts = { target, examplesExact: examplesFor(dataset, target), prediction: null, hasLocal: false };
      render();
    },
    begin(j, target) {
      previewing = false;
      job = j;
      firstAt = undefined;
      epochBatches = undefined;
      evalMs = 0;
      best = 0;
      live = true;
      input = null;
      facts = {
        target,
        examplesExact: examplesFor(datasetName(j.dataset), target),
        prediction: null,
        hasLocal: false,
      };
      render();
    },
    onIteration(totalMs, batchesPerEpoch) {
      if (live && firstAt === undefined) firstAt = performance.now() - Math.max(0, totalMs);
      if (batchesPerEpoch !== undefined) epochBatches = batchesPerEpoch;
    },
    onWorkers(list, hasLocal) {
      if (!job || done()) return;
      facts.hasLocal = hasLocal;
      try {
        const next = ttaInput(job, list, facts.examplesExact, epochBatches);
        if (next) {
          facts.prediction = predictRoomVsAlone(next);
          input = next;
        }
      } catch {
        // a figure the cost model refuses keeps the last prediction: nothing throws out of a listener
      }
    },
    onScore(accuracy, ms, iteration) {
      if (!live || done() || !Number.isFinite(accuracy)) return;
      evalMs += Math.max(0, ms);
      best = Math.max(best, accuracy);
      if (accuracy >= facts.target) facts.reached = { seconds: trained(), accuracy, iteration };
    },
    onEnded() {
      if (!live) return;
      live = false;
      if (!facts.reached) facts.ended = { seconds: trained(), best };
      render();
    },
    render,
    state: () => ({
      text: ttaSentence(facts),
      input,
      prediction: facts.prediction,
      facts: { ...facts },
      shown: shownNow,
    }),
  };
}
