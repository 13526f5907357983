/**
 * Adamax exactly as tfjs 4.22 defines it (adamax_optimizer.ts):
 *   m = b1*m + (1-b1)*g;  u = max(b2*u, |g|);  W -= lr_t/(1-b1^t) * m/(u + eps),
 *   lr_t = lr / (1 + (t-1)*decay) with t the 1-based step.
 * Default epsilon is 1e-8 (the lecture's value) where tfjs uses backend.epsilon() = 1e-7.
 */
import { type AdamaxConfig, BETA, makeOptimizer, numberField, type Optimizer } from './types.js';

function adamaxLoop(
  p: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  u: Float32Array,
  b1: number,
  b2: number,
  eps: number,
  stepSize: number,
  scale: number,
): void {
  const c1 = 1 - b1;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const mi = b1 * m[i] + c1 * g;
    const ui = Math.max(b2 * u[i], Math.abs(g));
    m[i] = mi;
    u[i] = ui;
    p[i] -= (stepSize * mi) / (ui + eps);
  }
}

export function createAdamax(config: AdamaxConfig): Optimizer {
  const b1 = numberField(config, 'beta1', 0.9, BETA);
  const b2 = numberField(config, 'beta2', 0.999, BETA);
  const eps = numberField(config, 'epsilon', 1e-8, { min: 0 });
  const decay = numberField(config, 'decay', 0, { min: 0 });
  return makeOptimizer(config, {
    slotNames: ['m', 'u'],
    update(p, grads, slots, { lr, t, scale }) {
      const stepSize = lr / (1 + (t - 1) * decay) / (1 - b1 ** t);
      adamaxLoop(p, grads, slots[0], slots[1], b1, b2, eps, stepSize, scale);
    },
  });
}
