/**
 * RMSProp. Default is the lecture's form: S = rho*S + (1-rho)*g^2; W -= lr*g/(sqrt(S)+eps).
 * epsilonInsideSqrt gives tfjs/Keras's g/sqrt(S+eps); momentum and centered follow tfjs:
 *   mom = momentum*mom + lr*g/denom; W -= mom        (lr sits inside the momentum buffer, as in tfjs)
 *   centered: mg = rho*mg + (1-rho)*g; denom uses S - mg^2 instead of S.
 * One deliberate difference from tfjs 4.22: centered tfjs computes sqrt(S - (mg^2 + eps)), subtracting
 * eps (NaN once S - mg^2 < eps); we add it, sqrt(S - mg^2 + eps), as TensorFlow/Keras do. S - mg^2 is
 * >= 0 in exact arithmetic and is clamped at 0 against rounding.
 */
import { BETA, boolField, makeOptimizer, numberField, type Optimizer, type RmspropConfig } from './types.js';

export function createRmsprop(config: RmspropConfig): Optimizer {
  const rho = numberField(config, 'rho', 0.9, BETA);
  const eps = numberField(config, 'epsilon', 1e-8, { min: 0 });
  const mu = numberField(config, 'momentum', 0, BETA);
  const centered = boolField(config, 'centered', false);
  const inside = boolField(config, 'epsilonInsideSqrt', false);
  const c = 1 - rho;
  const slotNames = ['s'];
  if (mu > 0) slotNames.push('mom');
  if (centered) slotNames.push('mg');
  const hasMom = mu > 0;

  return makeOptimizer(config, {
    slotNames,
    update(p, grads, slots, { lr, scale }) {
      const s = slots[0];
      if (!hasMom && !centered) {
        // The common case gets its own loop: no per-element branches.
        if (inside) {
          for (let i = 0; i < p.length; i++) {
            const g = grads[i] * scale;
            const si = rho * s[i] + c * g * g;
            s[i] = si;
            p[i] -= (lr * g) / Math.sqrt(si + eps);
          }
        } else {
          for (let i = 0; i < p.length; i++) {
            const g = grads[i] * scale;
            const si = rho * s[i] + c * g * g;
            s[i] = si;
            p[i] -= (lr * g) / (Math.sqrt(si) + eps);
          }
        }
        return;
      }
      const mom = hasMom ? slots[1] : s;
      const mg = centered ? slots[hasMom ? 2 : 1] : s;
      const epsIn = inside ? eps : 0;
      const epsOut = inside ? 0 : eps;
      for (let i = 0; i < p.length; i++) {
        const g = grads[i] * scale;
        const si = rho * s[i] + c * g * g;
        s[i] = si;
        let variance = si;
        if (centered) {
          const a = rho * mg[i] + c * g;
          mg[i] = a;
          variance = Math.max(0, si - a * a);
        }
        const u = (lr * g) / (Math.sqrt(variance + epsIn) + epsOut);
        if (hasMom) {
          const m = mu * mom[i] + u;
          mom[i] = m;
          p[i] -= m;
        } else {
          p[i] -= u;
        }
      }
    },
  });
}
