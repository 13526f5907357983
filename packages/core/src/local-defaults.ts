/**
 * The default outer optimizer of mode local, by H (inner steps per round) and the number of workers:
 * the winner of bench/local-sweep (MNIST and Fashion-MNIST, MLP 784-128-10, inner Adam), README
 * "Training modes". One pure function, so the CLI, the host page and the trainer agree.
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
}

/**
 * The outer optimizer the sweep supports for this H and worker count: plain SGD on the mean
 * pseudo-gradient, a step past plain averaging, the larger for short rounds: lr 1.5 up to H = 4,
 * lr 1.2 from H = 5 (and for H 'auto', usually large). DiLoCo's Nesterov won no cell. The worker
 * count (2-8) did not change the MNIST winner; at H = 4 with 8 workers Fashion-MNIST preferred lr 1.2,
 * the one cell where the two data sets disagree (README, "The sweep behind the default outer step").
 */
export function defaultOuter(shape: LocalShape): OptimizerConfig {
  const { steps, workers } = shape;
  if (steps !== 'auto' && !(Number.isInteger(steps) && steps >= 1))
    throw new GradroomError('BAD_CONFIG', `defaultOuter: steps must be 'auto' or a positive integer, got ${steps}`);
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new GradroomError('BAD_CONFIG', `defaultOuter: workers must be a positive integer, got ${workers}`);
  return { kind: 'sgd', lr: steps !== 'auto' && steps <= 4 ? 1.5 : 1.2 };
}
