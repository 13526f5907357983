/**
 * Learning-rate schedules: serializable configs and pure functions of the training position, so a
 * coordinator resumed from a checkpoint computes the same rate as the run it replaces.
 *
 * Positions are 0-based: `epoch` counts finished epochs, `iteration` counts optimizer updates over the
 * whole run. Every decay trains its first epoch (or iteration) at the undecayed rate: the lecture's
 * 1-based epoch_num is epoch + 1, so 'inverse-sqrt-epoch' is k/sqrt(epoch+1)*lr0 and
 * 'inverse-sqrt-iteration' is k/sqrt(iteration+1)*lr0 (never a division by sqrt(0)), while
 * 'inverse-time' and 'exponential' use the 0-based epoch directly (lr0 in epoch 0).
 */
import { GradroomError } from './errors.js';

export interface TrainingPosition {
  /** 0-based epoch number. */
  epoch: number;
  /** 0-based global iteration (optimizer update) count. */
  iteration: number;
}

/**
 * Epoch-based decays accept `itersPerEpoch`: when set, the epoch is taken as the fraction
 * iteration/itersPerEpoch, so the rate decays smoothly within an epoch instead of at its boundary.
 */
interface EpochBased {
  itersPerEpoch?: number;
}

export interface ConstantSchedule {
  kind: 'constant';
  lr: number;
}
/** lr0 / (1 + decayRate*epoch) */
export interface InverseTimeSchedule extends EpochBased {
  kind: 'inverse-time';
  lr0: number;
  decayRate: number;
}
/** base^epoch * lr0 */
export interface ExponentialSchedule extends EpochBased {
  kind: 'exponential';
  lr0: number;
  /** Default 0.95. */
  base?: number;
}
/** k/sqrt(epoch + 1) * lr0 */
export interface InverseSqrtEpochSchedule extends EpochBased {
  kind: 'inverse-sqrt-epoch';
  lr0: number;
  k: number;
}
/** k/sqrt(iteration + 1) * lr0 */
export interface InverseSqrtIterationSchedule {
  kind: 'inverse-sqrt-iteration';
  lr0: number;
  k: number;
}
/** lr0 * factor^floor(epoch/every): the discrete staircase. */
export interface StaircaseSchedule extends EpochBased {
  kind: 'staircase';
  lr0: number;
  factor: number;
  /** Epochs per stair (> 0). */
  every: number;
}
export interface ManualChange {
  epoch: number;
  iteration: number;
  lr: number;
}
/**
 * lr (or `base`'s rate, when given) until the first change; then the rate of the last change at or
 * before the position: the lecture's manual decay, on top of any schedule.
 */
export interface ManualSchedule {
  kind: 'manual';
  lr: number;
  base?: ScheduleConfig;
  changes: ManualChange[];
}
/**
 * Keras PiecewiseConstantDecay over iterations: values[0] while iteration <= boundaries[0],
 * values[i] while boundaries[i-1] < iteration <= boundaries[i], values[n] after boundaries[n-1].
 */
export interface PiecewiseSchedule {
  kind: 'piecewise';
  boundaries: number[];
  values: number[];
}
/** Keras CosineDecayRestarts over iterations (SGDR). */
export interface CosineRestartsSchedule {
  kind: 'cosine-restarts';
  lr0: number;
  /** Iterations in the first period (> 0). */
  firstPeriod: number;
  /** Each period is tMul times longer than the one before; default 2, must be >= 1. */
  tMul?: number;
  /** Each restart starts at mMul times the previous peak; default 1. */
  mMul?: number;
  /** Floor of the decay as a fraction of the peak; default 0. */
  alpha?: number;
}
/** inner(pos) * min(1, (iteration+1)/warmupIterations): a linear warm-up over the first iterations. */
export interface WarmupSchedule {
  kind: 'warmup';
  warmupIterations: number;
  inner: ScheduleConfig;
}

export type ScheduleConfig =
  | ConstantSchedule
  | InverseTimeSchedule
  | ExponentialSchedule
  | InverseSqrtEpochSchedule
  | InverseSqrtIterationSchedule
  | StaircaseSchedule
  | ManualSchedule
  | PiecewiseSchedule
  | CosineRestartsSchedule
  | WarmupSchedule;

export type ScheduleKind = ScheduleConfig['kind'];

export const SCHEDULE_KINDS: readonly ScheduleKind[] = [
  'constant',
  'inverse-time',
  'exponential',
  'inverse-sqrt-epoch',
  'inverse-sqrt-iteration',
  'staircase',
  'manual',
  'piecewise',
  'cosine-restarts',
  'warmup',
];

function bad(path: string, why: string): GradroomError {
  return new GradroomError('BAD_CONFIG', `${path} ${why}`);
}

interface Range {
  min?: number;
  minExclusive?: number;
  max?: number;
}

function checkNumber(v: unknown, at: string, range: Range): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(at, `must be a finite number (got ${String(v)})`);
  if (range.min !== undefined && v < range.min) throw bad(at, `must be >= ${range.min} (got ${v})`);
  if (range.minExclusive !== undefined && v <= range.minExclusive) throw bad(at, `must be > ${range.minExclusive}`);
  if (range.max !== undefined && v > range.max) throw bad(at, `must be <= ${range.max} (got ${v})`);
}

function num(obj: object, field: string, path: string, range: Range, optional = false): void {
  const v = (obj as Record<string, unknown>)[field];
  if (v === undefined && optional) return;
  checkNumber(v, `${path}.${field}`, range);
}

const RATE: Range = { min: 0 };
const POSITIVE: Range = { minExclusive: 0 };

function position(obj: object, path: string): void {
  num(obj, 'epoch', path, RATE);
  num(obj, 'iteration', path, RATE);
}

/** Throws GradroomError('BAD_CONFIG') naming the first bad field; learningRate calls it too. */
export function validateSchedule(s: ScheduleConfig, path = 'schedule'): void {
  if (s === null || typeof s !== 'object') throw bad(path, 'must be an object');
  const epochBased = () => num(s, 'itersPerEpoch', path, POSITIVE, true);
  switch (s.kind) {
    case 'constant':
      num(s, 'lr', path, RATE);
      return;
    case 'inverse-time':
      num(s, 'lr0', path, RATE);
      num(s, 'decayRate', path, RATE);
      epochBased();
      return;
    case 'exponential':
      num(s, 'lr0', path, RATE);
      num(s, 'base', path, { min: 0, max: 1 }, true);
      epochBased();
      return;
    case 'inverse-sqrt-epoch':
    case 'inverse-sqrt-iteration':
      num(s, 'lr0', path, RATE);
      num(s, 'k', path, RATE);
      if (s.kind === 'inverse-sqrt-epoch') epochBased();
      return;
    case 'staircase':
      num(s, 'lr0', path, RATE);
      num(s, 'factor', path, RATE);
      num(s, 'every', path, POSITIVE);
      epochBased();
      return;
    case 'manual':
      num(s, 'lr', path, RATE);
      if (s.base !== undefined) validateSchedule(s.base, `${path}.base`);
      if (!Array.isArray(s.changes)) throw bad(`${path}.changes`, 'must be an array');
      s.changes.forEach((c, i) => {
        const at = `${path}.changes[${i}]`;
        if (c === null || typeof c !== 'object') throw bad(at, 'must be an object');
        position(c, at);
        num(c, 'lr', at, RATE);
      });
      return;
    case 'piecewise': {
      const { boundaries, values } = s;
      if (!Array.isArray(boundaries)) throw bad(`${path}.boundaries`, 'must be an array');
      if (!Array.isArray(values)) throw bad(`${path}.values`, 'must be an array');
      if (values.length !== boundaries.length + 1) {
        throw bad(
          `${path}.values`,
          `must have boundaries.length + 1 = ${boundaries.length + 1} entries (got ${values.length})`,
        );
      }
      for (let i = 0; i < boundaries.length; i++) {
        checkNumber(boundaries[i], `${path}.boundaries[${i}]`, {});
        if (i > 0 && boundaries[i] <= boundaries[i - 1]) throw bad(`${path}.boundaries`, 'must be strictly increasing');
      }
      for (let i = 0; i < values.length; i++) checkNumber(values[i], `${path}.values[${i}]`, RATE);
      return;
    }
    case 'cosine-restarts':
      num(s, 'lr0', path, RATE);
      num(s, 'firstPeriod', path, POSITIVE);
      num(s, 'tMul', path, { min: 1 }, true);
      num(s, 'mMul', path, RATE, true);
      num(s, 'alpha', path, { min: 0, max: 1 }, true);
      return;
    case 'warmup':
      num(s, 'warmupIterations', path, RATE);
      validateSchedule(s.inner, `${path}.inner`);
      return;
    default:
      throw bad(
        `${path}.kind`,
        `is unknown: '${String((s as { kind?: unknown }).kind)}' (expected one of ${SCHEDULE_KINDS.join(', ')})`,
      );
  }
}

/** Lexicographic (epoch, iteration) order; for a consistent position that is iteration order. */
function atOrBefore(a: TrainingPosition, b: TrainingPosition): boolean {
  return a.epoch < b.epoch || (a.epoch === b.epoch && a.iteration <= b.iteration);
}

function epochOf(s: EpochBased, pos: TrainingPosition): number {
  return s.itersPerEpoch === undefined ? pos.epoch : pos.iteration / s.itersPerEpoch;
}

/** Keras CosineDecayRestarts, with the restart index found exactly rather than from logarithms alone. */
function cosineRestarts(s: CosineRestartsSchedule, iteration: number): number {
  const tMul = s.tMul ?? 2;
  const mMul = s.mMul ?? 1;
  const alpha = s.alpha ?? 0;
  const p0 = s.firstPeriod;
  let i: number;
  let start: number;
  let period: number;
  if (tMul === 1) {
    i = Math.floor(iteration / p0);
    start = i * p0;
    period = p0;
  } else {
    // Period i starts at p0*(tMul^i - 1)/(tMul - 1). The log gives i up to rounding; fix it at the edges
    // so an iteration exactly on a boundary always begins the new period.
    const startOf = (j: number) => (p0 * (tMul ** j - 1)) / (tMul - 1);
    i = Math.max(0, Math.floor(Math.log(1 + (iteration / p0) * (tMul - 1)) / Math.log(tMul)));
    while (i > 0 && startOf(i) > iteration) i--;
    while (startOf(i + 1) <= iteration) i++;
    start = startOf(i);
    period = p0 * tMul ** i;
  }
  const fraction = (iteration - start) / period;
  const cosine = 0.5 * mMul ** i * (1 + Math.cos(Math.PI * fraction));
  return s.lr0 * ((1 - alpha) * cosine + alpha);
}

function rate(s: ScheduleConfig, pos: TrainingPosition): number {
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'inverse-time':
      return s.lr0 / (1 + s.decayRate * epochOf(s, pos));
    case 'exponential':
      return (s.base ?? 0.95) ** epochOf(s, pos) * s.lr0;
    case 'inverse-sqrt-epoch':
      return (s.k / Math.sqrt(epochOf(s, pos) + 1)) * s.lr0;
    case 'inverse-sqrt-iteration':
      return (s.k / Math.sqrt(pos.iteration + 1)) * s.lr0;
    case 'staircase':
      return s.lr0 * s.factor ** Math.floor(epochOf(s, pos) / s.every);
    case 'manual': {
      let lr = s.base ? rate(s.base, pos) : s.lr;
      let best: TrainingPosition | null = null;
      for (const c of s.changes) {
        // Ties go to the later entry: a change appended at the same position replaces the earlier one.
        if (atOrBefore(c, pos) && (best === null || atOrBefore(best, c))) {
          best = c;
          lr = c.lr;
        }
      }
      return lr;
    }
    case 'piecewise': {
      const b = s.boundaries;
      for (let i = 0; i < b.length; i++) if (pos.iteration <= b[i]) return s.values[i];
      return s.values[b.length];
    }
    case 'cosine-restarts':
      return cosineRestarts(s, pos.iteration);
    case 'warmup': {
      const w = s.warmupIterations;
      const f = w === 0 ? 1 : Math.min(1, (pos.iteration + 1) / w);
      return rate(s.inner, pos) * f;
    }
  }
}

/** The learning rate at a training position. BAD_CONFIG on a bad schedule or position. */
export function learningRate(schedule: ScheduleConfig, pos: TrainingPosition): number {
  validateSchedule(schedule);
  if (pos === null || typeof pos !== 'object') throw bad('position', 'must be an object');
  position(pos, 'position');
  return rate(schedule, pos);
}

/**
 * A new manual schedule with `lr` from position `at` on (the inputs are not modified). Changes stay
 * sorted by position; a change at a position that already has one is placed after it and wins.
 */
export function withManualChange(schedule: ManualSchedule, at: TrainingPosition, lr: number): ManualSchedule {
  if (schedule === null || typeof schedule !== 'object' || schedule.kind !== 'manual') {
    throw bad('schedule.kind', "must be 'manual' to take a manual change");
  }
  validateSchedule(schedule);
  const change: ManualChange = { epoch: at?.epoch, iteration: at?.iteration, lr };
  position(change, 'change');
  num(change, 'lr', 'change', RATE);
  const changes = schedule.changes.map((c) => ({ ...c }));
  let k = changes.length;
  while (k > 0 && !atOrBefore(changes[k - 1], change)) k--;
  changes.splice(k, 0, change);
  return { ...schedule, changes };
}

/** The linear scaling rule (Goyal et al. 2017): the learning rate grows with the mini-batch size. */
export function linearScaling(baseLr: number, baseBatch: number, batch: number): number {
  const args = { baseLr, baseBatch, batch };
  num(args, 'baseLr', 'linearScaling', RATE);
  num(args, 'baseBatch', 'linearScaling', POSITIVE);
  num(args, 'batch', 'linearScaling', POSITIVE);
  return (baseLr * batch) / baseBatch;
}
