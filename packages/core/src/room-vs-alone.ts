/**
 * "Room vs this laptop alone" (issues 18 §3 and 22): the host page's one sentence before and after a
 * run. Both sides come from measured workers (a fixed cost per shard and a cost per example, as the
 * pool measures them), through the same cost model and efficiency table as mode auto:
 * - the room: every measured member, in the run's mode (auto: chooseMode's pick);
 * - this laptop alone: the host tab's own workers (`local`) only, in exact mode, with no link. It is
 *   a prediction from this laptop's measured speed, never a measurement.
 * How many examples exact mode needs comes from a measured accuracy curve (examplesToTarget).
 */
import type { Compression, MemberCost } from './cost-model.js';
import { chooseMode, type EfficiencyPoint, type ModeChoice, predictTimeToTarget } from './efficiency.js';
import { GradroomError } from './errors.js';

/** A worker as the pool measured it. */
export interface MeasuredWorker {
  /** Cost of one shard whatever its size (its link, its overhead), ms. */
  fixedMs: number;
  /** Compute per example, ms. */
  msPerExample: number;
  /** The host tab's own worker (part of "this laptop"). */
  local?: boolean;
}

export interface RoomVsAloneInput {
  /** Every measured member of the room, the host tab's own workers marked `local`. */
  members: readonly MeasuredWorker[];
  parameters: number;
  batchSize: number;
  /** Examples exact mode needs to reach the target (examplesToTarget). */
  examplesExact: number;
  /** The run's mode (default exact); auto is chooseMode's pick. */
  mode?: ModeChoice | { kind: 'auto' };
  compress?: Compression;
  efficiency?: readonly EfficiencyPoint[];
  /** Mini-batches in an epoch: a short epoch caps mode local's rounds (roundShape). */
  epochBatches?: number;
  /** Mode local: the warm start's iterations (exact mode on the `local` members first). */
  warmup?: number;
  /** Mode local after a warm start: its efficiency table (MeasuredEfficiency.afterWarmStart). */
  efficiencyAfterWarmup?: readonly EfficiencyPoint[];
}

export interface SidePrediction {
  seconds: number;
  examplesPerSec: number;
  /** Workers with a shard. */
  used: number;
}

export interface RoomVsAlone {
  room: SidePrediction & { mode: ModeChoice };
  /** null when the host tab has no measured worker of its own. */
  alone: SidePrediction | null;
  /** room ÷ alone seconds; null without `alone`. */
  ratio: number | null;
}

function costOf(w: MeasuredWorker, i: number): MemberCost {
  if (!(Number.isFinite(w.fixedMs) && w.fixedMs >= 0 && Number.isFinite(w.msPerExample) && w.msPerExample > 0))
    throw new GradroomError(
      'BAD_CONFIG',
      `member ${i}: fixedMs must be >= 0 and msPerExample > 0, got ${w.fixedMs} and ${w.msPerExample}`,
    );
  return { examplesPerSec: 1000 / w.msPerExample, shardMs: w.fixedMs, local: w.local === true };
}

/** The predicted seconds to the target of the room and of this laptop alone (see the module comment). */
export function predictRoomVsAlone(input: RoomVsAloneInput): RoomVsAlone {
  if (input.members.length === 0) throw new GradroomError('BAD_CONFIG', 'predictRoomVsAlone: no measured member');
  const members = input.members.map(costOf);
  const base = {
    parameters: input.parameters,
    batchSize: input.batchSize,
    examplesExact: input.examplesExact,
    efficiency: input.efficiency,
    epochBatches: input.epochBatches,
  };
  const mode = input.mode ?? { kind: 'exact' };
  let room: RoomVsAlone['room'];
  if (mode.kind === 'auto') {
    const d = chooseMode({ ...base, members, compress: input.compress });
    const best = d.candidates.find((c) => JSON.stringify(c.mode) === JSON.stringify(d.choice)) ?? d.candidates[0];
    const p = best.prediction;
    room = { seconds: p.seconds, examplesPerSec: p.examplesPerSec, used: p.used, mode: d.choice };
  } else {
    const costMode =
      mode.kind === 'local' ? { kind: 'local' as const, steps: mode.steps, compress: input.compress } : mode;
    const warm =
      mode.kind === 'local' && input.warmup !== undefined
        ? { warmup: input.warmup, efficiencyAfterWarmup: input.efficiencyAfterWarmup }
        : {};
    const p = predictTimeToTarget({ ...base, members, mode: costMode, ...warm });
    room = { seconds: p.seconds, examplesPerSec: p.examplesPerSec, used: p.used, mode };
  }
  const own = members.filter((m) => m.local);
  if (own.length === 0) return { room, alone: null, ratio: null };
  const a = predictTimeToTarget({ ...base, members: own, mode: { kind: 'exact' } });
  const alone = { seconds: a.seconds, examplesPerSec: a.examplesPerSec, used: a.used };
  return { room, alone, ratio: room.seconds / alone.seconds };
}

/** Test accuracy measured after so many examples of one job (exact mode). */
export type AccuracyCurve = readonly (readonly [examples: number, accuracy: number])[];

/**
 * Examples exact mode needs to reach `target` accuracy (0..1) on a measured curve: where its running
 * best first reaches the target, interpolated linearly from the evaluation before (the first
 * evaluation's examples when that one already reaches it); null when the curve never reaches it
 * (no measured figure to predict from).
 */
export function examplesToTarget(curve: AccuracyCurve, target: number): number | null {
  if (!(target > 0 && target < 1)) throw new GradroomError('BAD_CONFIG', `target must be in (0, 1), got ${target}`);
  let before: readonly [number, number] | undefined; // the running best's last point
  for (const [examples, acc] of curve) {
    if (!(Number.isFinite(examples) && examples > (before?.[0] ?? 0) && acc >= 0 && acc <= 1))
      throw new GradroomError('BAD_CONFIG', 'a curve needs increasing examples and accuracies in [0, 1]');
    if (acc >= target) {
      if (!before) return examples;
      return before[0] + ((target - before[1]) / (acc - before[1])) * (examples - before[0]);
    }
    before = [examples, Math.max(acc, before?.[1] ?? 0)];
  }
  return null;
}
