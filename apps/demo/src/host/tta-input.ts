/**
 * The cost model's input for "room vs this laptop alone", from what the page has measured: each
 * worker's fixed cost per shard and its speed, once the work behind that speed can be timed
 * (PREDICT_MS of compute). No DOM: Node tests run it.
 */
import { type JobConfig, PEER_COMPRESS, type WorkerStatus } from '@gradroom/coordinator/browser';
import { type MeasuredWorker, type RoomVsAloneInput, specLayout } from '@gradroom/core';
import { TIMED_MS, timedSpeed } from './format.js';

/**
 * Compute behind a speed before it is predicted from: a quarter of what the table asks before it
 * shows one (a fast laptop reaches a low target within the table's second), still dozens of shards.
 */
export const PREDICT_MS = TIMED_MS / 4;

/** The workers measured well enough to predict from; the host tab's own Web Workers marked local. */
export function measuredMembers(list: readonly WorkerStatus[]): MeasuredWorker[] {
  const out: MeasuredWorker[] = [];
  for (const w of list) {
    if (w.status === 'gone' || w.fixedMs === undefined || !(w.fixedMs >= 0)) continue;
    const speed = timedSpeed(w.speed, w.examples, PREDICT_MS);
    if (speed === 'measuring') continue;
    out.push({ fixedMs: w.fixedMs, msPerExample: 1000 / speed, local: w.kind === 'web-worker' });
  }
  return out;
}

/** Parameters of the job's model (a zoo spec); null where the spec alone does not say. */
export function parametersOf(job: JobConfig): number | null {
  const layout = specLayout(job.model);
  return layout ? layout.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0) : null;
}

/** The run's mode as the cost model takes it (mode local with H 'auto' is predicted as auto). */
export function modeOf(job: JobConfig): RoomVsAloneInput['mode'] {
  const m = job.mode;
  if (!m || m.kind === 'exact') return { kind: 'exact' };
  if (m.kind === 'local' && typeof m.steps === 'number') return { kind: 'local', steps: m.steps };
  return { kind: 'auto' };
}

/** The whole input, or null while nothing is measured or the job's size is unknown. */
export function ttaInput(
  job: JobConfig,
  list: readonly WorkerStatus[],
  examplesExact: number | null,
  /** Mini-batches in an epoch (the run's iterations say): a short epoch caps mode local's rounds. */
  epochBatches?: number,
): RoomVsAloneInput | null {
  const members = measuredMembers(list);
  const parameters = parametersOf(job);
  if (members.length === 0 || parameters === null || examplesExact === null) return null;
  // not named: the students' laptops send int8 (PEER_COMPRESS), and only their links are priced
  const compress = job.mode && job.mode.kind !== 'exact' ? (job.mode.compress ?? PEER_COMPRESS) : undefined;
  return {
    members,
    parameters,
    batchSize: job.batchSize,
    examplesExact,
    mode: modeOf(job),
    ...(compress ? { compress } : {}),
    ...(epochBatches !== undefined && Number.isInteger(epochBatches) && epochBatches >= 1 ? { epochBatches } : {}),
    // the warm start runs at this laptop's pace before the rounds (the model prices it apart)
    ...(job.mode?.kind === 'local' && job.mode.warmup ? { warmup: job.mode.warmup } : {}),
  };
}
