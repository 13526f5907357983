/**
 * The default outer optimizer of mode local, by H (inner steps per round) and the number of workers:
 * the winner of bench/local-sweep (MNIST and Fashion-MNIST, MLP 784-128-10, inner Adam), README
 * "Training modes"; and the inner learning rate's scale with the workers. Pure functions, so the CLI,
 * the host page and the trainer agree.
 */
import { GradroomError } from './errors.js';
import type { OptimizerConfig } from './optimizers/types.js';

/** DiLoCo's outer optimizer: Nesterov momentum, lr 0.7, beta 0.9 (tuned for H in the hundreds). */
export const NESTEROV_OUTER: OptimizerConfig = {
  kind: 'momentum',
  lr: 0.7,
  momentum: 0.9,
  nesterov: true,
  form: 'classic',
};

export interface LocalShape {
  /** Inner steps per worker per round (H); 'auto' when the trainer picks H from the links. */
  steps: number | 'auto';
  /** Workers taking part in a round (at least 1). */
  workers: number;
  /**
   * Iterations of a warm start (exact mode) before the first local round; default 0. After one the
   * rule is plain averaging (see defaultOuter).
   */
  exactFirst?: number;
}

/**
 * The outer optimizer the sweep supports for this H and worker count: plain SGD on the mean
 * pseudo-gradient. From scratch (the sweep, no warm start) a step past plain averaging, the larger
 * for short rounds: lr 1.5 up to H = 4,
 * lr 1.2 from H = 5 (and for H 'auto', usually large). DiLoCo's Nesterov won no cell. The worker
 * count (2-8) did not change the MNIST winner; at H = 4 with 8 workers Fashion-MNIST preferred lr 1.2,
 * the one cell where the two data sets disagree (README, "The sweep behind the default outer step").
 * After exact steps (`exactFirst` > 0), plain averaging, lr 1, measured on both data sets.
 */
export function defaultOuter(shape: LocalShape): OptimizerConfig {
  const { steps, workers, exactFirst = 0 } = shape;
  if (steps !== 'auto' && !(Number.isInteger(steps) && steps >= 1))
    throw new GradroomError('BAD_CONFIG', `defaultOuter: steps must be 'auto' or a positive integer, got ${steps}`);
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new GradroomError('BAD_CONFIG', `defaultOuter: workers must be a positive integer, got ${workers}`);
  if (!(Number.isInteger(exactFirst) && exactFirst >= 0))
    throw new GradroomError('BAD_CONFIG', `defaultOuter: exactFirst must be a non-negative integer, got ${exactFirst}`);
  // after exact steps a step past the average overshoots the trained weights (round 8: Fashion-
  // MNIST, 9 threads, H = 4, int8, a 160-iteration warm start: 79.7 % after 600 iterations at lr
  // 1.5, 83.7 % at 1.2, 84.7 % at 1; H = 8: 84.4 % at 1.2, 84.9 % at 1; MNIST the same within 0.2)
  if (exactFirst > 0) return { kind: 'sgd', lr: 1 };
  return { kind: 'sgd', lr: steps !== 'auto' && steps <= 4 ? 1.5 : 1.2 };
}

/**
 * The inner learning rate's scale with the workers in a round (mode local's innerScale) for a run
 * whose warm start takes `exactFirst` iterations of exact mode: 'sqrt-workers' only without one. From scratch it takes MNIST,
 * 8 workers at H = 8, from never to 92 % to 40k examples; after exact steps it jolts the trained
 * weights (Fashion-MNIST, 8 threads, H = 8: 84.2 % after a 400-iteration warm start, 79.7 % one
 * round later; 84.9 % unscaled), and unscaled reaches the targets sooner on both data sets (README
 * "Learning rate and workers").
 */
export function defaultInnerScale(exactFirst: number): 'none' | 'sqrt-workers' {
  return exactFirst > 0 ? 'none' : 'sqrt-workers';
}
