/**
 * "Room vs this laptop alone" in words (issues 18 §3, 22): the host page's and the projector's one
 * sentence, before the target (what the cost model predicts from the measured workers) and after it
 * (what was measured). "This laptop alone" is always a prediction from this laptop's measured speed,
 * and the words say so once there is a measurement beside it. No DOM: Node tests run it.
 */
import type { RoomVsAlone } from '@gradroom/core';
import { targetText } from './target.js';

export interface TtaFacts {
  /** The target accuracy, 0..1. */
  target: number;
  /** Examples exact mode needs for it (measured curve); null: none reaches it. */
  examplesExact: number | null;
  /** The cost model's latest prediction; null while nothing is measured. */
  prediction: RoomVsAlone | null;
  /** The run has workers of this tab ("This tab trains too"). */
  hasLocal: boolean;
  /** Measured: the target reached after `seconds` of training (evaluation left out), at this score. */
  reached?: { seconds: number; accuracy: number; iteration: number };
  /** The run ended without reaching it: its best test accuracy and its seconds. */
  ended?: { seconds: number; best: number };
}

/** "about 14 s", "about 8.8 s", "about 2 min 5 s". */
export function aboutSeconds(s: number): string {
  return `about ${seconds(s)}`;
}

/** A number and its unit, never split across lines. */
const NB = '\u00a0';

/** Seconds as the page writes a prediction: one decimal under 10 s, whole seconds, then minutes. */
export function seconds(s: number): string {
  if (s < 10) return `${s.toFixed(1)}${NB}s`;
  const r = Math.round(s);
  return r < 120 ? `${r}${NB}s` : `${Math.floor(r / 60)}${NB}min ${r % 60}${NB}s`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}${NB}%`;

const aloneWords = (f: TtaFacts, short: boolean): string =>
  f.prediction?.alone
    ? `this laptop alone would take ${aboutSeconds(f.prediction.alone.seconds)}`
    : f.hasLocal
      ? 'this laptop alone: measuring its speed…'
      : short
        ? 'this laptop alone: not measured (this tab does not train)'
        : 'this laptop alone: not measured (tick “This tab trains too” so it computes and is measured)';

/** The one sentence; `short` for the projector's one line (the waiting state in fewer words). */
export function ttaSentence(f: TtaFacts, short = false): string {
  const t = targetText(f.target);
  if (f.examplesExact === null) return `No measured run reaches ${t} on this data set, so no time to it is predicted.`;
  const p = f.prediction;
  const predicted = p ? ` (predicted ${seconds(p.room.seconds)})` : '';
  const alone = p?.alone
    ? ` This laptop alone would take ${aboutSeconds(p.alone.seconds)}: a prediction from its measured speed, not a measurement.`
    : '';
  const early = p ? '' : ' (too soon for a prediction: the workers were still being measured)';
  if (f.reached) {
    const r = f.reached;
    // the score that crossed it: a later epoch's may read lower (test accuracy is noisy)
    const at = short ? '' : `: ${pct(r.accuracy)} at iteration ${r.iteration.toLocaleString('en')}`;
    return `Reached ${t} in ${r.seconds.toFixed(1)}${NB}s${predicted}${early}${at}.${alone}`;
  }
  if (f.ended)
    return `Not reached: ${pct(f.ended.best)} at best after ${f.ended.seconds.toFixed(1)}${NB}s${p ? ` (${t} predicted in ${seconds(p.room.seconds)})` : ''}.${alone}`;
  if (!p)
    return short
      ? `Target ${t}: measuring the room and this laptop…`
      : `Target ${t}: the first iterations measure the room and this laptop; then this line says when the room should reach it and how long this laptop alone would take.`;
  const a = aloneWords(f, short);
  return `This room should reach ${t} in ${aboutSeconds(p.room.seconds)}; ${a}${a.endsWith('…') || a.endsWith(')') ? '' : '.'}`;
}
