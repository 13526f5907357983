/**
 * Adam (the lecture, tfjs): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *   W -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)        (eps outside the sqrt, as tfjs)
 * Options: biasCorrection: false drops both 1-b^t factors; amsgrad keeps vmax = max(vmax, v) and uses it
 * in place of v (PyTorch's form: the raw maximum, then bias-corrected); weightDecay is L2 (g += wd*W
 * before the moments) or, with decoupledWeightDecay, AdamW (W -= lr*wd*W, as PyTorch: W *= 1 - lr*wd).
 */
import { type AdamConfig, BETA, boolField, makeOptimizer, numberField, type Optimizer } from './types.js';

export function createAdam(config: AdamConfig): Optimizer {
  const b1 = numberField(config, 'beta1', 0.9, BETA);
  const b2 = numberField(config, 'beta2', 0.999, BETA);
  const eps = numberField(config, 'epsilon', 1e-8, { min: 0 });
  const biasCorrection = boolField(config, 'biasCorrection', true);
  const amsgrad = boolField(config, 'amsgrad', false);
  const wd = numberField(config, 'weightDecay', 0, { min: 0 });
  const decoupled = boolField(config, 'decoupledWeightDecay', false);
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  // Weight decay enters as constants, so the loop has no branch for it: an L2 term of 0 and a decay
  // factor of 1 leave the arithmetic bit-identical to plain Adam.
  const l2 = decoupled ? 0 : wd;

  return makeOptimizer(config, {
    slotNames: amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v'],
    update(p, grads, slots, { lr, t, scale }) {
      const m = slots[0];
      const v = slots[1];
      const bc1 = biasCorrection ? 1 - b1 ** t : 1;
      const bc2 = biasCorrection ? 1 - b2 ** t : 1;
      const stepSize = lr / bc1;
      const k = 1 / Math.sqrt(bc2); // sqrt(v/bc2) = sqrt(v)*k
      const keep = decoupled ? 1 - lr * wd : 1;
      const n = p.length;
      if (!amsgrad) {
        for (let i = 0; i < n; i++) {
          const w = p[i];
          const g = grads[i] * scale + l2 * w;
          const mi = b1 * m[i] + c1 * g;
          const vi = b2 * v[i] + c2 * g * g;
          m[i] = mi;
          v[i] = vi;
          p[i] = w * keep - (stepSize * mi) / (Math.sqrt(vi) * k + eps);
        }
        return;
      }
      const vmax = slots[2];
      for (let i = 0; i < n; i++) {
        const w = p[i];
        const g = grads[i] * scale + l2 * w;
        const mi = b1 * m[i] + c1 * g;
        const vi = b2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        const vm = Math.max(vmax[i], vi);
        vmax[i] = vm;
        p[i] = w * keep - (stepSize * mi) / (Math.sqrt(vm) * k + eps);
      }
    },
  });
}
