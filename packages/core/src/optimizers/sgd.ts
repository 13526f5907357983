/** Plain (mini-batch) gradient descent: W -= lr * g. */
import { makeOptimizer, type Optimizer, type SgdConfig } from './types.js';

export function createSgd(config: SgdConfig): Optimizer {
  return makeOptimizer(config, {
    slotNames: [],
    update(p, g, _slots, { lr, scale }) {
      const a = lr * scale;
      for (let i = 0; i < p.length; i++) p[i] -= a * g[i];
    },
  });
}
