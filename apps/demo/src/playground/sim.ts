/**
 * The playground's simulation: four optimizers from @gradroom/core stepping 2-element Float32Array
 * parameters on one surface from one start. Each path has its own settings (full batch or mini-batch
 * of some size, a learning-rate schedule from core), so batch gradient descent can race mini-batch
 * momentum. With mini-batch noise on, every iteration's gradient is the surface's gradient plus seeded
 * Gaussian noise whose size follows the mini-batch size, as the gradient of a mean over b examples drawn
 * from m would. Every path draws from its own copy of the same seeded stream. No DOM here.
 */
import {
  createOptimizer,
  iterationsPerEpoch,
  learningRate,
  type Optimizer,
  type OptimizerConfig,
  type Rng,
  rngFor,
  type ScheduleConfig,
  STREAM,
} from '@gradroom/core';
import { type Hyperparameters, SURFACES, type Surface, type SurfaceId } from './surfaces.js';

export type PathKind = 'sgd' | 'momentum' | 'rmsprop' | 'adam';
export const PATH_KINDS: readonly PathKind[] = ['sgd', 'momentum', 'rmsprop', 'adam'];
export const PATH_NAMES: Record<PathKind, string> = {
  sgd: 'Gradient descent',
  momentum: 'Momentum',
  rmsprop: 'RMSProp',
  adam: 'Adam',
};

/** The pretend training set behind the noise: m examples, so an epoch is m / batchSize iterations. */
export const TRAINING_SET_SIZE = 1024;
/** Mini-batch sizes offered: 1 (stochastic GD) and powers of two, the lecture's advice. */
export const BATCH_SIZES = [1, 8, 16, 32, 64, 128, 256, 512] as const;
/** A path stops when it leaves this many window-widths around the surface (it diverged). */
const ESCAPE = 50;
/** "Near the saddle": within this distance of a saddle point. */
export const NEAR_SADDLE = 0.5;
/** "Reached the minimum": within this distance of one. */
export const REACHED = 0.05;
/** The settle measure averages the distance to the minimum over this many last iterations. */
export const SETTLE_WINDOW = 100;

/** The lecture's learning-rate decays, each a core schedule. */
export type DecayKind = 'constant' | 'inverse-time' | 'exponential' | 'inverse-sqrt-epoch' | 'staircase';
export const DECAY_KINDS: readonly DecayKind[] = [
  'constant',
  'inverse-time',
  'exponential',
  'inverse-sqrt-epoch',
  'staircase',
];

/** How each decay reads, what its one parameter is called, its range and its usual value. */
export const DECAYS: Record<
  DecayKind,
  { label: string; formula: string; param: string; min: number; max: number; step: number; value: number }
> = {
  constant: { label: 'None (constant α)', formula: 'α = α₀', param: '', min: 0, max: 1, step: 1, value: 0 },
  'inverse-time': {
    label: 'α₀ / (1 + decay·epoch)',
    formula: 'α = α₀ / (1 + decay_rate · epoch_num)',
    param: 'decay_rate',
    min: 0,
    max: 5,
    step: 0.05,
    value: 1,
  },
  exponential: {
    label: 'base^epoch · α₀',
    formula: 'α = base^epoch_num · α₀',
    param: 'base',
    min: 0.5,
    max: 1,
    step: 0.01,
    value: 0.95,
  },
  'inverse-sqrt-epoch': {
    label: 'k / √epoch · α₀',
    formula: 'α = k / √(epoch_num + 1) · α₀',
    param: 'k',
    min: 0.1,
    max: 2,
    step: 0.05,
    value: 1,
  },
  staircase: {
    label: 'Staircase: × factor every N epochs',
    formula: 'α = α₀ · factor^⌊epoch_num / N⌋',
    param: 'factor',
    min: 0.1,
    max: 1,
    step: 0.05,
    value: 0.5,
  },
};

/** One path's own settings. */
export interface PathSettings {
  /** false: batch gradient descent (the whole training set every iteration, the exact gradient). */
  noise: boolean;
  batchSize: number;
  decay: DecayKind;
  /** The decay's one parameter (DECAYS[decay].param). */
  decayRate: number;
  /** Staircase only: epochs per stair, N (default STAIRCASE_EVERY). */
  every?: number;
}

/** Epochs per stair of the staircase, unless a path sets its own: not 1, which would be exponential decay. */
export const STAIRCASE_EVERY = 5;
/** The range of the staircase's "every N epochs" control. */
export const STAIRCASE_EVERY_MAX = 50;

export interface SimConfig {
  surface: SurfaceId;
  hyper: Hyperparameters;
  /** The setting the "all paths" controls last gave every path (used for paths missing from `each`). */
  noise: boolean;
  batchSize: number;
  seed: number;
  /** Each path's own settings. */
  each?: Partial<Record<PathKind, PathSettings>>;
}

/** The settings a path runs with. */
export function settingsOf(config: SimConfig, kind: PathKind): PathSettings {
  return config.each?.[kind] ?? { noise: config.noise, batchSize: config.batchSize, decay: 'constant', decayRate: 0 };
}

/** Every path with the same settings (what the "all paths" controls do). */
export function uniformSettings(noise: boolean, batchSize: number): Record<PathKind, PathSettings> {
  const one = (): PathSettings => ({ noise, batchSize, decay: 'constant', decayRate: 0 });
  return { sgd: one(), momentum: one(), rmsprop: one(), adam: one() };
}

/** The optimizer config @gradroom/core gets for one path (the lecture's forms: EWA momentum, eps outside the sqrt). */
export function optimizerConfig(kind: PathKind, h: Hyperparameters): OptimizerConfig {
  switch (kind) {
    case 'sgd':
      return { kind: 'sgd', lr: h.sgd.lr };
    case 'momentum':
      return { kind: 'momentum', lr: h.momentum.lr, momentum: h.momentum.beta, form: 'ewa' };
    case 'rmsprop':
      return { kind: 'rmsprop', lr: h.rmsprop.lr, rho: h.rmsprop.rho, epsilon: h.rmsprop.epsilon };
    case 'adam':
      return {
        kind: 'adam',
        lr: h.adam.lr,
        beta1: h.adam.beta1,
        beta2: h.adam.beta2,
        epsilon: h.adam.epsilon,
        biasCorrection: h.adam.biasCorrection,
      };
  }
}

/** Iterations in one epoch for these settings: 1 for batch gradient descent. */
export function itersPerEpoch(s: PathSettings): number {
  return s.noise ? iterationsPerEpoch(TRAINING_SET_SIZE, Math.min(s.batchSize, TRAINING_SET_SIZE)) : 1;
}

/** The core schedule for a path: epochs are counted from 0, so the first epoch runs at α₀. */
export function scheduleFor(s: PathSettings, lr0: number): ScheduleConfig {
  switch (s.decay) {
    case 'constant':
      return { kind: 'constant', lr: lr0 };
    case 'inverse-time':
      return { kind: 'inverse-time', lr0, decayRate: s.decayRate };
    case 'exponential':
      return { kind: 'exponential', lr0, base: s.decayRate };
    case 'inverse-sqrt-epoch':
      return { kind: 'inverse-sqrt-epoch', lr0, k: s.decayRate };
    case 'staircase':
      return { kind: 'staircase', lr0, factor: s.decayRate, every: s.every ?? STAIRCASE_EVERY };
  }
}

/** Standard deviation of the mini-batch gradient noise per coordinate (0 for the full batch). */
export function noiseSigma(surface: Surface, noise: boolean, batchSize: number): number {
  if (!noise) return 0;
  const m = TRAINING_SET_SIZE;
  const b = Math.min(Math.max(1, batchSize), m);
  return surface.exampleNoise * Math.sqrt((m - b) / (b * (m - 1)));
}

export class Path {
  readonly kind: PathKind;
  readonly surface: Surface;
  readonly settings: PathSettings;
  readonly params: Float32Array;
  readonly grads = new Float32Array(2);
  /** Visited points, start included: xs[i], ys[i] after i iterations. */
  readonly xs: number[];
  readonly ys: number[];
  /** The learning rate each iteration used: lrs[i] took the path from point i to point i + 1. */
  readonly lrs: number[] = [];
  diverged = false;
  #opt: Optimizer;
  #rng: Rng;
  #sigma: number;
  #schedule: ScheduleConfig;
  #perEpoch: number;

  constructor(kind: PathKind, config: SimConfig, settings: PathSettings = settingsOf(config, kind)) {
    this.kind = kind;
    this.surface = SURFACES[config.surface];
    this.settings = { ...settings };
    this.params = Float32Array.from(this.surface.start);
    this.xs = [this.params[0]];
    this.ys = [this.params[1]];
    const oc = optimizerConfig(kind, config.hyper);
    this.#opt = createOptimizer(oc);
    this.#rng = rngFor(config.seed, STREAM.noise);
    this.#sigma = noiseSigma(this.surface, settings.noise, settings.batchSize);
    this.#schedule = scheduleFor(settings, oc.lr);
    this.#perEpoch = itersPerEpoch(settings);
  }

  get iterations(): number {
    return this.xs.length - 1;
  }

  /** 0-based epoch of the next iteration (the epoch_num of the decay formulas). */
  get epoch(): number {
    return Math.floor(this.iterations / this.#perEpoch);
  }

  /** The learning rate the next iteration uses, from core's schedule. */
  get lr(): number {
    return learningRate(this.#schedule, { epoch: this.epoch, iteration: this.iterations });
  }

  /** One iteration: gradient (plus mini-batch noise), one optimizer step at the schedule's rate. */
  step(): void {
    const p = this.params;
    const g = this.grads;
    const lr = this.lr;
    this.lrs.push(lr);
    this.surface.grad(p[0], p[1], g);
    if (this.#sigma > 0) {
      g[0] += this.#sigma * this.#rng.normal();
      g[1] += this.#sigma * this.#rng.normal();
    }
    if (!this.diverged) {
      this.#opt.step(p, g, lr);
      const d = this.surface.domain;
      const w = d.xmax - d.xmin;
      const h = d.ymax - d.ymin;
      if (
        !Number.isFinite(p[0]) ||
        !Number.isFinite(p[1]) ||
        Math.abs(p[0] - (d.xmin + d.xmax) / 2) > ESCAPE * w ||
        Math.abs(p[1] - (d.ymin + d.ymax) / 2) > ESCAPE * h
      ) {
        this.diverged = true;
      }
    }
    // A diverged path stays where it left off, so every path has one point per iteration.
    this.xs.push(this.diverged ? this.xs[this.xs.length - 1] : p[0]);
    this.ys.push(this.diverged ? this.ys[this.ys.length - 1] : p[1]);
  }

  /** Loss at the current point. */
  get loss(): number {
    return this.surface.f(this.xs[this.xs.length - 1], this.ys[this.ys.length - 1]);
  }
}

export function createPaths(config: SimConfig): Record<PathKind, Path> {
  return {
    sgd: new Path('sgd', config),
    momentum: new Path('momentum', config),
    rmsprop: new Path('rmsprop', config),
    adam: new Path('adam', config),
  };
}

/**
 * For each path that decays its learning rate, the same path without decay (same noise, constant α₀):
 * drawn faintly next to it, so the page shows what the decay changed.
 */
export function createGhosts(config: SimConfig): Partial<Record<PathKind, Path>> {
  const out: Partial<Record<PathKind, Path>> = {};
  for (const kind of PATH_KINDS) {
    const s = settingsOf(config, kind);
    if (s.decay !== 'constant') out[kind] = new Path(kind, config, { ...s, decay: 'constant' });
  }
  return out;
}

/** What the page shows under the plot for one path: each a number a student can check. */
export interface PathStats {
  /** Distance from the current point to the nearest minimum. */
  distance: number;
  /** Σ|Δ| along the surface's narrow axis over all iterations so far; null without one. */
  swing: number | null;
  /** Iterations spent within NEAR_SADDLE of a saddle point; null without one. */
  nearSaddle: number | null;
  /** First iteration within REACHED of a minimum, or null. */
  reachedAt: number | null;
  /** Mean distance to the nearest minimum over the last SETTLE_WINDOW points (how much a path still wanders). */
  settle: number;
}

function nearestMinimum(s: Surface, x: number, y: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (const [mx, my] of s.minima) best = Math.min(best, Math.hypot(x - mx, y - my));
  return best;
}

export function pathStats(p: Path): PathStats {
  const s = p.surface;
  const n = p.xs.length;
  const along = s.narrowAxis === 'x' ? p.xs : p.ys;
  let swing = 0;
  for (let i = 1; i < n; i++) swing += Math.abs(along[i] - along[i - 1]);
  let near = 0;
  let reachedAt: number | null = null;
  for (let i = 0; i < n; i++) {
    if (s.saddles.some(([sx, sy]) => Math.hypot(p.xs[i] - sx, p.ys[i] - sy) < NEAR_SADDLE)) near++;
    if (reachedAt === null && nearestMinimum(s, p.xs[i], p.ys[i]) < REACHED) reachedAt = i;
  }
  const from = Math.max(0, n - SETTLE_WINDOW);
  let settle = 0;
  for (let i = from; i < n; i++) settle += nearestMinimum(s, p.xs[i], p.ys[i]);
  return {
    distance: nearestMinimum(s, p.xs[n - 1], p.ys[n - 1]),
    swing: s.narrowAxis ? swing : null,
    nearSaddle: s.saddles.length ? near : null,
    reachedAt,
    settle: settle / (n - from),
  };
}

/** The lecture's words for where a run stands after `iteration` mini-batches. */
export function describeProgress(iteration: number, noise: boolean, batchSize: number): string {
  const m = TRAINING_SET_SIZE;
  const b = noise ? Math.min(batchSize, m) : m;
  const perEpoch = Math.ceil(m / b);
  const epochs = Math.floor(iteration / perEpoch);
  const steps = iteration * b;
  const it = `Iteration ${iteration.toLocaleString('en')}`;
  const ep = `epoch ${epochs.toLocaleString('en')}`;
  const st = `${steps.toLocaleString('en')} steps (examples)`;
  if (!noise) return `${it} · ${ep} · ${st} — batch gradient descent: every iteration uses all ${m} examples`;
  const kind = b === 1 ? 'stochastic gradient descent (mini-batch of 1)' : `mini-batches of ${b}`;
  return `${it} · ${ep} · ${st} — ${kind}, ${perEpoch} iterations per epoch of ${m} examples`;
}

/** The same words when the paths have different mini-batches: iterations, and each path's epochs. */
export function describeMixedProgress(
  iteration: number,
  each: Record<PathKind, PathSettings>,
  shown: readonly PathKind[] = PATH_KINDS,
): string {
  const parts = shown.map((k) => {
    const s = each[k];
    const per = itersPerEpoch(s);
    const what = s.noise ? `mini-batch ${s.batchSize}` : 'full batch';
    return `${PATH_NAMES[k]} (${what}) epoch ${Math.floor(iteration / per).toLocaleString('en')}`;
  });
  return `Iteration ${iteration.toLocaleString('en')} · ${parts.join(' · ')}`;
}
