/** Plain (mini-batch) gradient descent: W -= lr * g. */
import { makeOptimizer, type Optimizer, type SgdConfig } from './types.js';

// Update loops live at module level with every constant passed as an argument: a loop inside a
// per-optimizer closure ran ~2x slower in V8 once a second optimizer instance existed (the closure's
// constants were reloaded from its context on every element).
function sgdLoop(p: Float32Array, g: Float32Array, a: number): void {
  const n = p.length;
  for (let i = 0; i < n; i++) p[i] -= a * g[i];
}

export function createSgd(config: SgdConfig): Optimizer {
  return makeOptimizer(config, {
    slotNames: [],
    update(p, g, _slots, { lr, scale }) {
      sgdLoop(p, g, lr * scale);
    },
  });
}
