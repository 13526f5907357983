/**
 * The playground's simulation: four optimizers from @gradroom/core stepping 2-element Float32Array
 * parameters on one surface from one start. With mini-batch noise on, every iteration's gradient is the
 * surface's gradient plus seeded Gaussian noise whose size follows the mini-batch size, as the gradient
 * of a mean over b examples drawn from m would. Each path draws from its own copy of the same seeded
 * stream, so all four see the same sequence of mini-batches. No DOM here.
 */
import { createOptimizer, type Optimizer, type OptimizerConfig, type Rng, rngFor, STREAM } from '@gradroom/core';
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

export interface SimConfig {
  surface: SurfaceId;
  hyper: Hyperparameters;
  /** false: batch gradient descent (the whole training set every iteration, the exact gradient). */
  noise: boolean;
  batchSize: number;
  seed: number;
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
      };
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
  readonly params: Float32Array;
  readonly grads = new Float32Array(2);
  /** Visited points, start included: xs[i], ys[i] after i iterations. */
  readonly xs: number[];
  readonly ys: number[];
  diverged = false;
  #opt: Optimizer;
  #rng: Rng;
  #sigma: number;

  constructor(kind: PathKind, config: SimConfig) {
    this.kind = kind;
    this.surface = SURFACES[config.surface];
    this.params = Float32Array.from(this.surface.start);
    this.xs = [this.params[0]];
    this.ys = [this.params[1]];
    this.#opt = createOptimizer(optimizerConfig(kind, config.hyper));
    this.#rng = rngFor(config.seed, STREAM.noise);
    this.#sigma = noiseSigma(this.surface, config.noise, config.batchSize);
  }

  get iterations(): number {
    return this.xs.length - 1;
  }

  /** One iteration: gradient (plus mini-batch noise), one optimizer step. */
  step(): void {
    const p = this.params;
    const g = this.grads;
    this.surface.grad(p[0], p[1], g);
    if (this.#sigma > 0) {
      g[0] += this.#sigma * this.#rng.normal();
      g[1] += this.#sigma * this.#rng.normal();
    }
    if (!this.diverged) {
      this.#opt.step(p, g);
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
