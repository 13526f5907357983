/**
 * Adagrad exactly as tfjs 4.22 defines it: acc starts at initialAccumulatorValue; acc += g^2;
 * W -= lr*g/sqrt(acc + eps). tfjs adds backend.epsilon() (1e-7 on the cpu backend) and does not expose
 * it; here it is `epsilon`, default 1e-7, so the default matches tfjs.
 */
import { type AdagradConfig, configError, makeOptimizer, numberField, type Optimizer } from './types.js';

function adagradLoop(
  p: Float32Array,
  grads: Float32Array,
  acc: Float32Array,
  lr: number,
  eps: number,
  scale: number,
): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const a = acc[i] + g * g;
    acc[i] = a;
    p[i] -= (lr * g) / Math.sqrt(a + eps);
  }
}

export function createAdagrad(config: AdagradConfig): Optimizer {
  const init = numberField(config, 'initialAccumulatorValue', 0.1, { min: 0 });
  const eps = numberField(config, 'epsilon', 1e-7, { min: 0 });
  if (init === 0 && eps === 0) {
    // A zero gradient would then divide 0 by 0.
    throw configError('adagrad', 'initialAccumulatorValue', 'and epsilon cannot both be 0');
  }
  return makeOptimizer(config, {
    slotNames: ['acc'],
    slotInit: init,
    update(p, grads, slots, { lr, scale }) {
      adagradLoop(p, grads, slots[0], lr, eps, scale);
    },
  });
}
