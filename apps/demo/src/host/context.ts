/**
 * What the host page's modules share: the coordinator worker's handle, the run's data (series,
 * charts, roster, job form) and the few mutable facts of the run. One object, passed to each module,
 * instead of page-level variables that every function reaches into.
 */
import type { EpochEvent, IterationEvent, JobConfig } from '@gradroom/coordinator/browser';
import type { Remote } from 'comlink';
import type { CoordinatorApi } from '../coordinator-worker/protocol.js';
import { el } from '../ui/dom.js';
import type { HostCharts } from './charts.js';
import type { JobForm } from './job-form.js';
import type { CreatedRoom } from './room.js';
import type { Roster } from './roster.js';
import type { RunSeries } from './series.js';
import type { TtaPanel } from './tta.js';

export type Phase = 'idle' | 'waiting' | 'running' | 'paused' | 'stopping' | 'done' | 'stopped' | 'failed';

export interface HostContext {
  readonly coordinator: Remote<CoordinatorApi>;
  readonly series: RunSeries;
  readonly charts: HostCharts;
  readonly roster: Roster;
  readonly form: JobForm;
  /** "Room vs this laptop alone": the prediction and, after the target, the measurement. */
  readonly tta: TtaPanel;
  /** The current run's target test accuracy (0..1). */
  target: number;
  phase: Phase;
  job: JobConfig;
  room: CreatedRoom | undefined;
  last: IterationEvent | undefined;
  lastEpoch: EpochEvent | undefined;
  runStarted: number;
  runSeconds: number;
  finalAccuracy: number;
  /** When each student (by peer id) last kept a drawing (Date.now() ms), from the class report. */
  drewAt: Record<string, number>;
  /** Bumped by anything the counters or the table show; the render loop redraws when it moved. */
  dirty: number;
  /** Adds a line to the page's event log (newest first, at most 200 kept). */
  log(line: string): void;
}

/** The event log's writer for this list. */
export function eventLog(list: HTMLElement): (line: string) => void {
  return (line) => {
    const time = new Date().toLocaleTimeString('en-GB');
    list.prepend(el('li', {}, el('time', {}, time), ' ', line));
    while (list.childElementCount > 200) list.lastElementChild?.remove();
  };
}

/** A reason as a person reads it: without the layers' prefixes ("left the room: left: …"). */
export function plainReason(r: string | undefined): string {
  let s = r ?? '';
  for (let i = 0; i < 4; i++) s = s.replace(/^(left the room|left|room server|channel closed): /, '');
  return s;
}
