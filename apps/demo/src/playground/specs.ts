/** The hyperparameter sliders of each optimizer: key, range and what the value does (also the URL's valid ranges). */
import type { PathKind } from './sim.js';

export type SliderSpec = {
  key: string;
  label: string;
  min: number;
  max: number;
  step?: number;
  log?: boolean;
  hint: string;
};

export const SPECS: Record<PathKind, SliderSpec[]> = {
  sgd: [{ key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α dW' }],
  momentum: [
    { key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α v' },
    {
      key: 'beta',
      label: 'β (momentum)',
      min: 0,
      max: 0.99,
      step: 0.01,
      hint: 'v = β v + (1 − β) dW, an average over about 1/(1 − β) gradients',
    },
  ],
  rmsprop: [
    { key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α dW / (√S + ε)' },
    { key: 'rho', label: 'β₂ (decay of S)', min: 0, max: 0.999, step: 0.001, hint: 'S = β₂ S + (1 − β₂) dW²' },
    { key: 'epsilon', label: 'ε', min: 1e-8, max: 1, log: true, hint: 'added to √S so the step never divides by 0' },
  ],
  adam: [
    {
      key: 'lr',
      label: 'α (learning rate)',
      min: 1e-4,
      max: 1e4,
      log: true,
      hint: 'W = W − α V_corr / (√S_corr + ε)',
    },
    { key: 'beta1', label: 'β₁', min: 0, max: 0.99, step: 0.01, hint: 'momentum average, usually 0.9' },
    { key: 'beta2', label: 'β₂', min: 0.9, max: 0.9999, step: 0.0001, hint: 'RMSProp average, usually 0.999' },
    { key: 'epsilon', label: 'ε', min: 1e-8, max: 1e4, log: true, hint: 'usually 10⁻⁸' },
  ],
};
