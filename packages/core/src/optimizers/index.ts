/** Optimizers on flat Float32Array buffers: one file each, one fused loop per step, serializable state. */
import { GradroomError } from '../errors.js';
import { createAdagrad } from './adagrad.js';
import { createAdam } from './adam.js';
import { createAdamax } from './adamax.js';
import { createMomentum } from './momentum.js';
import { createRmsprop } from './rmsprop.js';
import { createSgd } from './sgd.js';
import type { Optimizer, OptimizerConfig, OptimizerKind } from './types.js';

export { createAdagrad } from './adagrad.js';
export { createAdam } from './adam.js';
export { createAdamax } from './adamax.js';
export { clipByGlobalNorm, clipScale, globalNorm } from './clip.js';
export { createMomentum } from './momentum.js';
export { createRmsprop } from './rmsprop.js';
export { createSgd } from './sgd.js';
export type {
  AdagradConfig,
  AdamaxConfig,
  AdamConfig,
  BaseOptimizerConfig,
  MomentumConfig,
  Optimizer,
  OptimizerConfig,
  OptimizerKind,
  OptimizerState,
  RmspropConfig,
  SgdConfig,
} from './types.js';

export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'momentum', 'rmsprop', 'adam', 'adagrad', 'adamax'];

/** Builds an optimizer from a serializable config; BAD_CONFIG on an unknown kind or a bad field. */
export function createOptimizer(config: OptimizerConfig): Optimizer {
  if (config === null || typeof config !== 'object') {
    throw new GradroomError('BAD_CONFIG', 'optimizer config must be an object');
  }
  switch (config.kind) {
    case 'sgd':
      return createSgd(config);
    case 'momentum':
      return createMomentum(config);
    case 'rmsprop':
      return createRmsprop(config);
    case 'adam':
      return createAdam(config);
    case 'adagrad':
      return createAdagrad(config);
    case 'adamax':
      return createAdamax(config);
    default:
      throw new GradroomError(
        'BAD_CONFIG',
        `optimizer config: unknown kind '${String((config as { kind?: unknown }).kind)}' (expected one of ${OPTIMIZER_KINDS.join(', ')})`,
      );
  }
}
