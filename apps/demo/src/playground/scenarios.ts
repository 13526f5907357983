/**
 * Ready-made settings that show one point of the lecture each ("Try:" buttons on the page). A scenario
 * starts from the surface's defaults and changes only what its point needs. Pure data: the tests apply
 * the same scenarios to the simulation and check the claim each one makes.
 */
import { type PathKind, type PathSettings, type SimConfig, uniformSettings } from './sim.js';
import { cloneHyper, SURFACES, type SurfaceId } from './surfaces.js';

export interface Scenario {
  id: string;
  label: string;
  /** What to look at, shown when the scenario is chosen. */
  look: string;
  /** Paths drawn (the others are hidden, not removed). */
  show: readonly PathKind[];
  apply(config: SimConfig): void;
}

const ALL: readonly PathKind[] = ['sgd', 'momentum', 'rmsprop', 'adam'];

function reset(config: SimConfig): Record<PathKind, PathSettings> {
  config.hyper = cloneHyper(SURFACES[config.surface].defaults);
  config.noise = false;
  config.batchSize = 64;
  const each = uniformSettings(false, 64);
  config.each = each;
  return each;
}

const DEFAULTS: Scenario = {
  id: 'defaults',
  label: 'Defaults',
  look: 'Every optimizer with this surface’s default settings and the exact (full-batch) gradient.',
  show: ALL,
  apply: reset,
};

export const SCENARIOS: Record<SurfaceId, readonly Scenario[]> = {
  bowl: [
    {
      id: 'equal-alpha',
      label: 'Equal α: zig-zag against momentum',
      look:
        'Both use α = 0.95. Gradient descent bounces across the valley; momentum’s average of the alternating ' +
        'y-gradients nearly cancels, so its sideways swing Σ|Δy| is about a quarter.',
      show: ['sgd', 'momentum'],
      apply: reset,
    },
    {
      id: 'larger-alpha',
      label: 'Momentum with α = 3',
      look:
        'Gradient descent cannot go above α = 1 here (it diverges), momentum can. With α = 3 it reaches the ' +
        'minimum in about a hundred iterations while gradient descent is still far along the valley.',
      show: ['sgd', 'momentum'],
      apply(config) {
        reset(config);
        config.hyper.momentum.lr = 3;
      },
    },
    {
      id: 'race',
      label: 'The lecture’s race: batch GD against mini-batch momentum',
      look:
        'Gradient descent on the full batch (1 iteration per epoch, oscillating) against momentum on mini-batches ' +
        'of 256 (4 iterations per epoch) with α = 1.5, which gradient descent could not use: noisy steps, yet smoother ' +
        'across and faster along the valley, ' +
        'per iteration and even more per epoch.',
      show: ['sgd', 'momentum'],
      apply(config) {
        const each = reset(config);
        config.hyper.momentum.lr = 1.5;
        each.momentum = { noise: true, batchSize: 256, decay: 'constant', decayRate: 0 };
      },
    },
    {
      id: 'decay',
      label: 'Decay lets a noisy path settle',
      look:
        'Gradient descent on mini-batches of 8 with α₀ / (1 + decay·epoch). The faint line is the same run ' +
        'without decay: it keeps wandering around the minimum, the decayed one settles as α shrinks. Decay too ' +
        'fast (decay 5) and α is gone before the path arrives.',
      show: ['sgd'],
      apply(config) {
        const each = reset(config);
        config.hyper.sgd.lr = 0.9;
        each.sgd = { noise: true, batchSize: 8, decay: 'inverse-time', decayRate: 1 };
      },
    },
  ],
  saddle: [
    {
      id: 'defaults',
      label: 'Just off the ridge',
      look:
        'Every path starts 0.001 above the ridge y = 0. Watch the numbers: how many iterations each spends ' +
        'within 0.5 of the saddle (the cross) before it rolls off to a minimum.',
      show: ALL,
      apply: reset,
    },
    {
      id: 'noise',
      label: 'With mini-batch noise',
      look: 'Mini-batches of 16: the noise pushes the paths off the ridge sooner than the tiny starting offset does.',
      show: ALL,
      apply(config) {
        reset(config);
        config.noise = true;
        config.batchSize = 16;
        config.each = uniformSettings(true, 16);
      },
    },
  ],
  plateau: [
    {
      id: 'defaults',
      label: 'Same α for gradient descent and momentum',
      look:
        'Gradient descent and momentum both use α = 1.2. Momentum averages the gradients, so on the flat part its ' +
        'steps are no longer than gradient descent’s, and it arrives later. RMSProp and Adam divide the tiny gradient ' +
        'by the tiny √S and arrive first. The sentence above these buttons gives each path’s arrival.',
      show: ALL,
      apply: reset,
    },
    {
      id: 'larger-alpha',
      label: 'Both at α = 2',
      look:
        'At the bottom of the well the curvature is 1.5, so gradient descent needs α below 2/1.5 ≈ 1.33: at α = 2 it ' +
        'overshoots and never settles. Momentum stays stable far above that and, at α = 2, gets across sooner than ' +
        'either did at α = 1.2.',
      show: ['sgd', 'momentum'],
      apply(config) {
        reset(config);
        config.hyper.sgd.lr = 2;
        config.hyper.momentum.lr = 2;
      },
    },
  ],
  rosenbrock: [DEFAULTS],
};

/** The Adam settings that make it equal another optimizer's path (the lecture: Adam reduces to either). */
export const ADAM_AS = {
  /** β₁ = 0 and no bias correction: V = dW, so Adam's step is RMSProp's, with RMSProp's β₂, ε and α. */
  rmsprop(config: SimConfig): void {
    const r = config.hyper.rmsprop;
    config.hyper.adam = { lr: r.lr, beta1: 0, beta2: r.rho, epsilon: r.epsilon, biasCorrection: false };
  },
  /**
   * ε far above √S: the denominator √S + ε is nearly the constant ε, so Adam's step is α/ε times the
   * momentum average. With α = ε · momentum's α and no bias correction, it is momentum's path (within √S/ε).
   */
  momentum(config: SimConfig): void {
    const m = config.hyper.momentum;
    const epsilon = 1000;
    config.hyper.adam = { lr: m.lr * epsilon, beta1: m.beta, beta2: 0.999, epsilon, biasCorrection: false };
  },
};
