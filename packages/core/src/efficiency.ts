/**
 * Time to a target accuracy (issue 18, section 3): examples needed / examples per second. Modes differ
 * in both: mode local moves more examples per second but needs more of them (its statistical
 * efficiency), so the mode that reaches the target first is not the one with the most examples/s.
 *
 * The efficiency table says how many examples a mode needs relative to exact mode. Where the job's
 * data set was swept (bench/local-sweep: MNIST to 92 %, Fashion-MNIST to 85 %), the measured table
 * is used (efficiency-measured.ts, generated from bench/results.json): efficiency depends on the job,
 * e.g. 8 workers need 5.5-8x exact's examples on MNIST's 8,000 training examples but 2.3-2.7x on
 * Fashion-MNIST's 60,000. Other jobs fall back to DEFAULT_EFFICIENCY, a seed from PLATFORM.md
 * ("Time to accuracy", "Thread workers"): 6 thread workers, H = 8, outer sgd lr 1 reached 92 % on
 * MNIST at 7/3 of exact mode's examples; other H extrapolated as 1 + a log2(H) through that point.
 */
import { type Compression, type CostMode, predictRoom, type RoomCostInput } from './cost-model.js';
import { MEASURED_EFFICIENCY, type MeasuredEfficiency } from './efficiency-measured.js';
import { GradroomError } from './errors.js';

/** One measured (or seeded) point: examples to the target in mode local ÷ exact mode's. */
export interface EfficiencyPoint {
  steps: number;
  workers: number;
  examplesRatio: number;
}

const SEED_SLOPE = (7 / 3 - 1) / Math.log2(8);

/** The measured table for a data set kind (e.g. 'mnist', 'fashion-mnist'), if bench/local-sweep swept it. */
export function measuredEfficiency(dataset: string): MeasuredEfficiency | undefined {
  return Object.hasOwn(MEASURED_EFFICIENCY, dataset) ? MEASURED_EFFICIENCY[dataset] : undefined;
}

/** The seed table (see the module comment): 6 workers, H in 1..32, through the H = 8 measurement. */
export const DEFAULT_EFFICIENCY: readonly EfficiencyPoint[] = [1, 2, 4, 8, 16, 32].map((steps) => ({
  steps,
  workers: 6,
  examplesRatio: 1 + SEED_SLOPE * Math.log2(steps),
}));

/**
 * Examples mode local with `steps` H and `workers` members needs, relative to exact mode: the table's
 * row with the nearest number of workers, interpolated linearly in log2(H) (held flat past its ends).
 * Never below 1: no mode reaches the target on fewer examples than exact mode in this model.
 */
export function examplesRatio(
  steps: number,
  workers: number,
  table: readonly EfficiencyPoint[] = DEFAULT_EFFICIENCY,
): number {
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new GradroomError('BAD_CONFIG', `steps must be an integer >= 1, got ${steps}`);
  if (table.length === 0) throw new GradroomError('BAD_CONFIG', 'the efficiency table is empty');
  for (const p of table) {
    if (!(p.steps >= 1 && p.workers >= 1 && Number.isFinite(p.examplesRatio) && p.examplesRatio > 0))
      throw new GradroomError('BAD_CONFIG', `bad efficiency point ${JSON.stringify(p)}`);
  }
  const nearest = table.reduce((a, p) =>
    Math.abs(p.workers - workers) < Math.abs(a.workers - workers) ? p : a,
  ).workers;
  const row = table.filter((p) => p.workers === nearest).sort((a, b) => a.steps - b.steps);
  const x = Math.log2(steps);
  let r = row[row.length - 1].examplesRatio;
  if (steps <= row[0].steps) r = row[0].examplesRatio;
  else
    for (let i = 1; i < row.length; i++) {
      if (steps > row[i].steps) continue;
      const x0 = Math.log2(row[i - 1].steps);
      const x1 = Math.log2(row[i].steps);
      const f = (x - x0) / (x1 - x0);
      r = row[i - 1].examplesRatio + f * (row[i].examplesRatio - row[i - 1].examplesRatio);
      break;
    }
  return Math.max(1, r);
}

export interface TimeToTargetInput extends Omit<RoomCostInput, 'mode'> {
  mode: CostMode;
  /** Examples exact mode needs to reach the target (e.g. 30,000 for MNIST to 92 %). */
  examplesExact: number;
  efficiency?: readonly EfficiencyPoint[];
  /**
   * Mode local: iterations of a warm start in exact mode before the first round, on the members
   * marked `local` (the run's own workers; every member where none is). Default 0.
   */
  warmup?: number;
  /** Mode local after a warm start: examples to the target ÷ exact's, warm start included (default `efficiency`). */
  efficiencyAfterWarmup?: readonly EfficiencyPoint[];
}

export interface TimeToTarget {
  seconds: number;
  examplesNeeded: number;
  examplesPerSec: number;
  /** Examples needed ÷ exact mode's (1 in exact mode). */
  examplesRatio: number;
  /** What limits the room's speed (the cost model's word). */
  bottleneck: string;
  /** Bytes through the coordinator's link per mini-batch. */
  bytesPerIteration: number;
  /** Members with work. */
  used: number;
  /** Inner steps a member runs per round (H, or fewer where the epoch is short); 1 in exact mode. */
  steps: number;
  /** Of `seconds`, the warm start's (0 without one). */
  warmupSeconds: number;
}

/**
 * Predicted seconds to the target: examples needed (exact's × the mode's ratio) / predicted
 * examples/s. With a warm start (mode local), its examples go at exact mode's pace on the run's own
 * workers, and the ratio is the one measured after a warm start.
 */
export function predictTimeToTarget(input: TimeToTargetInput): TimeToTarget {
  if (!(Number.isFinite(input.examplesExact) && input.examplesExact > 0))
    throw new GradroomError('BAD_CONFIG', `examplesExact must be > 0, got ${input.examplesExact}`);
  const warmup = input.mode.kind === 'local' ? (input.warmup ?? 0) : 0;
  if (!(Number.isInteger(warmup) && warmup >= 0))
    throw new GradroomError('BAD_CONFIG', `warmup must be a non-negative integer of iterations, got ${input.warmup}`);
  const room = predictRoom(input);
  const table = warmup > 0 ? (input.efficiencyAfterWarmup ?? input.efficiency) : input.efficiency;
  const ratio = input.mode.kind === 'local' ? examplesRatio(room.steps, room.used, table) : 1;
  const examplesNeeded = input.examplesExact * ratio;
  let warmupSeconds = 0;
  let warmExamples = 0;
  if (warmup > 0) {
    // the warm start's shards go to the run's own workers (over partitions) while it has any
    const own = input.members.filter((m) => m.local);
    const pace = predictRoom({ ...input, members: own.length > 0 ? own : input.members, mode: { kind: 'exact' } });
    warmExamples = Math.min(examplesNeeded, warmup * input.batchSize);
    warmupSeconds = warmExamples / pace.examplesPerSec;
  }
  return {
    seconds: warmupSeconds + (examplesNeeded - warmExamples) / room.examplesPerSec,
    warmupSeconds,
    examplesNeeded,
    examplesPerSec: room.examplesPerSec,
    examplesRatio: ratio,
    bottleneck: room.bottleneck,
    bytesPerIteration: room.bytesPerIteration,
    used: room.used,
    steps: room.steps,
  };
}

/** The H mode auto tries. */
export const AUTO_STEPS = [2, 4, 8, 16, 32] as const;

export type ModeChoice = { kind: 'exact' } | { kind: 'local'; steps: number };

export interface ModeDecision {
  choice: ModeChoice;
  /** Every candidate with its prediction, exact first. */
  candidates: { mode: ModeChoice; prediction: TimeToTarget }[];
  /** The choice and why, in words. */
  reason: string;
}

export interface ChooseModeInput extends Omit<TimeToTargetInput, 'mode'> {
  /** The encoding mode local would use (exact mode sends float32 both ways here). */
  compress?: Compression;
  steps?: readonly number[];
  /** The target's name in the reason, e.g. '92 %' (default 'the target'). */
  target?: string;
}

const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${Math.round(b / 1e3)} kB`);
const limits = (b: string) => (b === 'compute' ? '' : ` and the ${b} limits it`);
const secs = (s: number) => (s >= 10 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`);

/**
 * Exact mode or mode local with the H that reaches the target first. Exact mode is a candidate, and
 * local must be strictly sooner to be chosen, so the choice is never predicted slower than exact.
 */
export function chooseMode(input: ChooseModeInput): ModeDecision {
  const { compress = 'none', steps = AUTO_STEPS, target = 'the target', ...rest } = input;
  const exact = predictTimeToTarget({ ...rest, mode: { kind: 'exact' } });
  const candidates: ModeDecision['candidates'] = [{ mode: { kind: 'exact' }, prediction: exact }];
  for (const h of steps)
    candidates.push({
      mode: { kind: 'local', steps: h },
      prediction: predictTimeToTarget({ ...rest, mode: { kind: 'local', steps: h, compress } }),
    });
  let best = candidates[0];
  for (const c of candidates) if (c.prediction.seconds < best.prediction.seconds) best = c;
  const p = best.prediction;
  const eBytes = exact.bytesPerIteration;
  const reason =
    best.mode.kind === 'exact'
      ? `mode exact: the link carries ${kb(eBytes)} an iteration${limits(exact.bottleneck)}; predicted ${secs(exact.seconds)} to ${target} at ${Math.round(exact.examplesPerSec)} examples/s, against ${secs(Math.min(...candidates.slice(1).map((c) => c.prediction.seconds)))} at best in mode local, which needs more examples (x${candidates[1]?.prediction.examplesRatio.toFixed(2) ?? '?'} at H = ${candidates[1]?.mode.kind === 'local' ? candidates[1].mode.steps : '?'})`
      : `mode local, H = ${best.mode.steps}${p.steps < best.mode.steps ? ` (${p.steps} steps a round: the epoch is short)` : ''}: exact mode's link carries ${kb(eBytes)} an iteration${limits(exact.bottleneck)} (${Math.round(exact.examplesPerSec)} examples/s); local moves ${Math.round(p.examplesPerSec)} examples/s over ${p.used} member${p.used === 1 ? '' : 's'} and needs x${p.examplesRatio.toFixed(2)} the examples; predicted ${secs(p.seconds)} to ${target} against ${secs(exact.seconds)} in exact mode`;
  return { choice: best.mode, candidates, reason };
}
