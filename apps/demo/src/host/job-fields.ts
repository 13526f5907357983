/** The job form's hyperparameter fields: which optimizer or schedule shows each, and its default. */
import type { OptimizerChoice, ScheduleChoice } from './job-form.js';

export interface Field {
  id: string;
  label: string;
  value: number;
  min?: number;
  max?: number;
  step?: number | 'any';
  hint: string;
  for: (OptimizerChoice | ScheduleChoice)[];
}

export const FIELDS: Field[] = [
  {
    id: 'momentum-beta',
    label: 'β (momentum)',
    value: 0.9,
    min: 0,
    max: 0.999,
    step: 'any',
    hint: 'v = β·v + (1 − β)·dW',
    for: ['momentum'],
  },
  {
    id: 'rho',
    label: 'β₂ (RMSProp)',
    value: 0.9,
    min: 0,
    max: 0.9999,
    step: 'any',
    hint: 'S = β₂·S + (1 − β₂)·dW²',
    for: ['rmsprop'],
  },
  {
    id: 'beta1',
    label: 'β₁',
    value: 0.9,
    min: 0,
    max: 0.999,
    step: 'any',
    hint: 'the momentum average',
    for: ['adam'],
  },
  {
    id: 'beta2',
    label: 'β₂',
    value: 0.999,
    min: 0,
    max: 0.99999,
    step: 'any',
    hint: 'the RMSProp average',
    for: ['adam'],
  },
  {
    id: 'epsilon',
    label: 'ε',
    value: 1e-8,
    min: 0,
    step: 'any',
    hint: 'keeps dW / (√S + ε) finite',
    for: ['adam', 'rmsprop'],
  },
  {
    id: 'decay-rate',
    label: 'Decay rate',
    value: 0.3,
    min: 0,
    step: 'any',
    hint: 'α = α₀ / (1 + decay·epoch)',
    for: ['inverse-time'],
  },
  {
    id: 'decay-base',
    label: 'Base',
    value: 0.95,
    min: 0,
    max: 1,
    step: 'any',
    hint: 'α = base^epoch · α₀',
    for: ['exponential'],
  },
  {
    id: 'decay-factor',
    label: 'Factor per stair',
    value: 0.5,
    min: 0,
    step: 'any',
    hint: 'α drops by this factor',
    for: ['staircase'],
  },
  {
    id: 'decay-every',
    label: 'Epochs per stair',
    value: 1,
    min: 1,
    step: 1,
    hint: 'how long each stair lasts',
    for: ['staircase'],
  },
  {
    id: 'k',
    label: 'k',
    value: 1,
    min: 0,
    step: 'any',
    hint: 'the schedule’s constant',
    for: ['inverse-sqrt-epoch', 'inverse-sqrt-iteration'],
  },
];
