/**
 * The 2-D loss surfaces of the optimizer playground, each with its analytic gradient, the window it is
 * drawn in, the start point every optimizer shares, and default hyperparameters that show what the
 * lecture says about it. Pure functions: no DOM, so the tests run them in Node too.
 */

export type SurfaceId = 'bowl' | 'saddle' | 'plateau' | 'rosenbrock';

export interface Hyperparameters {
  sgd: { lr: number };
  momentum: { lr: number; beta: number };
  rmsprop: { lr: number; rho: number; epsilon: number };
  /** biasCorrection: divide the moments by 1 − β^t (the lecture's Adam); off shows what it fixes. */
  adam: { lr: number; beta1: number; beta2: number; epsilon: number; biasCorrection: boolean };
}

export interface Surface {
  id: SurfaceId;
  name: string;
  /** One or two sentences tying the surface to the lecture. */
  blurb: string;
  f(x: number, y: number): number;
  /** Analytic gradient, written into out (out[0] = df/dx, out[1] = df/dy). */
  grad(x: number, y: number, out: Float32Array): void;
  domain: { xmin: number; xmax: number; ymin: number; ymax: number };
  start: readonly [number, number];
  /** Where the minima are (drawn as stars); empty when the surface has none in view. */
  minima: readonly (readonly [number, number])[];
  /** Saddle points (drawn as crosses): the gradient vanishes there but it is no minimum. */
  saddles: readonly (readonly [number, number])[];
  /**
   * The steep, narrow direction of a valley, when the surface has one: the page sums each path's
   * movement along it (the sideways swing) so a student can check the zig-zag in numbers.
   */
  narrowAxis?: 'x' | 'y';
  /**
   * Standard deviation of one example's gradient around the full-batch gradient, per coordinate: the
   * mini-batch noise scales it by sqrt((m - b) / (b (m - 1))) for a batch of b out of m examples.
   */
  exampleNoise: number;
  defaults: Hyperparameters;
}

// The bowl's numbers are chosen so the lecture's picture holds (test/playground.test.ts checks it):
// curvature 2 across, 0.02 along. At α = 0.95, α·2 = 1.9 is just under plain gradient descent's limit
// of 2, so it zig-zags across the whole valley; momentum (β = 0.9) at the same α swings a quarter as
// much, and stays stable up to α·2 < 2(1 + β)/(1 − β) = 38, so α = 3 runs along the valley far faster.
const bowl: Surface = {
  id: 'bowl',
  name: 'Elongated bowl',
  blurb:
    'f = x²/100 + y²: a hundred times steeper across (y) than along (x). At the same α = 0.95, gradient descent ' +
    'zig-zags across the narrow direction while momentum averages the alternating y-gradients away: compare the ' +
    'sideways swing Σ|Δy|. Gradient descent diverges for α ≥ 1; momentum does not, so give it a larger α ' +
    '("Momentum with α = 3") and it runs along the valley to the minimum far sooner.',
  f: (x, y) => (x * x) / 100 + y * y,
  grad(x, y, out) {
    out[0] = x / 50;
    out[1] = 2 * y;
  },
  domain: { xmin: -10, xmax: 10, ymin: -3, ymax: 3 },
  start: [-9, 2.4],
  minima: [[0, 0]],
  saddles: [],
  narrowAxis: 'y',
  // Small next to the y-gradient, so mini-batches of 256 still beat the full batch per iteration
  // (the lecture's race) while batches of 8 or 1 wander visibly (what decay is for).
  exampleNoise: 0.4,
  defaults: {
    sgd: { lr: 0.95 },
    momentum: { lr: 0.95, beta: 0.9 },
    rmsprop: { lr: 0.1, rho: 0.9, epsilon: 1e-8 },
    adam: { lr: 0.3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection: true },
  },
};

const saddle: Surface = {
  id: 'saddle',
  name: 'Saddle point',
  blurb:
    'f = x²/2 + (y² − 1)²/4: the gradient vanishes at the origin, which curves up along x and down along y. ' +
    'Starting almost on the ridge, the paths slow down near it (the cross) while the tiny y-offset grows, then ' +
    'roll off to a minimum (a star). The numbers below say how long each one lingered.',
  f: (x, y) => (x * x) / 2 + ((y * y - 1) * (y * y - 1)) / 4,
  grad(x, y, out) {
    out[0] = x;
    out[1] = y * (y * y - 1);
  },
  domain: { xmin: -3, xmax: 3, ymin: -2, ymax: 2 },
  start: [-2.8, 0.001],
  minima: [
    [0, 1],
    [0, -1],
  ],
  saddles: [[0, 0]],
  exampleNoise: 1.5,
  defaults: {
    sgd: { lr: 0.1 },
    momentum: { lr: 0.1, beta: 0.9 },
    rmsprop: { lr: 0.05, rho: 0.9, epsilon: 1e-8 },
    adam: { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection: true },
  },
};

const plateau: Surface = {
  id: 'plateau',
  name: 'Plateau',
  blurb:
    'f = 1 − exp(−(x² + 3y²)/4): far from the well the surface is almost flat, so the gradient is tiny for a ' +
    'long stretch. That, not local optima, is what slows learning; RMSProp and Adam rescale the tiny gradient.',
  f: (x, y) => 1 - Math.exp(-(x * x + 3 * y * y) / 4),
  grad(x, y, out) {
    const e = Math.exp(-(x * x + 3 * y * y) / 4);
    out[0] = (x / 2) * e;
    out[1] = ((3 * y) / 2) * e;
  },
  domain: { xmin: -6, xmax: 6, ymin: -4, ymax: 4 },
  start: [-4.6, 2.2],
  minima: [[0, 0]],
  saddles: [],
  exampleNoise: 0.01,
  defaults: {
    sgd: { lr: 1.2 },
    momentum: { lr: 1.2, beta: 0.9 },
    rmsprop: { lr: 0.05, rho: 0.9, epsilon: 1e-8 },
    adam: { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection: true },
  },
};

const rosenbrock: Surface = {
  id: 'rosenbrock',
  name: 'Rosenbrock valley',
  blurb:
    'f = (1 − x)² + 100 (y − x²)²: a curved, narrow valley. Finding the valley is easy; following its gently ' +
    'sloping floor to the minimum at (1, 1) is slow for every method.',
  f: (x, y) => (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x),
  grad(x, y, out) {
    const r = y - x * x;
    out[0] = -2 * (1 - x) - 400 * x * r;
    out[1] = 200 * r;
  },
  domain: { xmin: -2, xmax: 2, ymin: -1, ymax: 3 },
  start: [-1.2, 1],
  minima: [[1, 1]],
  saddles: [],
  exampleNoise: 40,
  defaults: {
    sgd: { lr: 0.0015 },
    momentum: { lr: 0.01, beta: 0.9 },
    rmsprop: { lr: 0.01, rho: 0.9, epsilon: 1e-8 },
    adam: { lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection: true },
  },
};

export const SURFACES: Record<SurfaceId, Surface> = { bowl, saddle, plateau, rosenbrock };
export const SURFACE_IDS = Object.keys(SURFACES) as SurfaceId[];

export function cloneHyper(h: Hyperparameters): Hyperparameters {
  return {
    sgd: { ...h.sgd },
    momentum: { ...h.momentum },
    rmsprop: { ...h.rmsprop },
    adam: { ...h.adam },
  };
}
