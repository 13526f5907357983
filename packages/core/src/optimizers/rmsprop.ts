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

// Module-level loops, one per variant, with every constant as an argument: see sgd.ts for why not
// closures; per-element branches on the variant flags measured 1.5x slower. Epsilon enters as epsIn
// (inside the sqrt) and epsOut (outside); the unused one is 0, which leaves the arithmetic exact.
// The centered variance S - mg^2 is clamped at 0 against rounding (a NaN stays NaN).

function plainLoop(
  p: Float32Array,
  grads: Float32Array,
  s: Float32Array,
  rho: number,
  epsIn: number,
  epsOut: number,
  lr: number,
  scale: number,
): void {
  const c = 1 - rho;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const si = rho * s[i] + c * g * g;
    s[i] = si;
    p[i] -= (lr * g) / (Math.sqrt(si + epsIn) + epsOut);
  }
}

function momentumLoop(
  p: Float32Array,
  grads: Float32Array,
  s: Float32Array,
  mom: Float32Array,
  rho: number,
  mu: number,
  epsIn: number,
  epsOut: number,
  lr: number,
  scale: number,
): void {
  const c = 1 - rho;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const si = rho * s[i] + c * g * g;
    s[i] = si;
    const m = mu * mom[i] + (lr * g) / (Math.sqrt(si + epsIn) + epsOut);
    mom[i] = m;
    p[i] -= m;
  }
}

function centeredLoop(
  p: Float32Array,
  grads: Float32Array,
  s: Float32Array,
  mg: Float32Array,
  rho: number,
  epsIn: number,
  epsOut: number,
  lr: number,
  scale: number,
): void {
  const c = 1 - rho;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const si = rho * s[i] + c * g * g;
    const a = rho * mg[i] + c * g;
    s[i] = si;
    mg[i] = a;
    const variance = si - a * a;
    // biome-ignore lint/complexity/useMathMinMax: the ternary measured faster than Math.max in this loop
    p[i] -= (lr * g) / (Math.sqrt((variance < 0 ? 0 : variance) + epsIn) + epsOut);
  }
}

function centeredMomentumLoop(
  p: Float32Array,
  grads: Float32Array,
  s: Float32Array,
  mom: Float32Array,
  mg: Float32Array,
  rho: number,
  mu: number,
  epsIn: number,
  epsOut: number,
  lr: number,
  scale: number,
): void {
  const c = 1 - rho;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const si = rho * s[i] + c * g * g;
    const a = rho * mg[i] + c * g;
    s[i] = si;
    mg[i] = a;
    const variance = si - a * a;
    // biome-ignore lint/complexity/useMathMinMax: the ternary measured faster than Math.max in this loop
    const m = mu * mom[i] + (lr * g) / (Math.sqrt((variance < 0 ? 0 : variance) + epsIn) + epsOut);
    mom[i] = m;
    p[i] -= m;
  }
}

export function createRmsprop(config: RmspropConfig): Optimizer {
  const rho = numberField(config, 'rho', 0.9, BETA);
  const eps = numberField(config, 'epsilon', 1e-8, { min: 0 });
  const mu = numberField(config, 'momentum', 0, BETA);
  const centered = boolField(config, 'centered', false);
  const inside = boolField(config, 'epsilonInsideSqrt', false);
  const hasMom = mu > 0;
  const slotNames = ['s'];
  if (hasMom) slotNames.push('mom');
  if (centered) slotNames.push('mg');

  const epsIn = inside ? eps : 0;
  const epsOut = inside ? 0 : eps;

  return makeOptimizer(config, {
    slotNames,
    update(p, grads, slots, { lr, scale }) {
      const [s, second, third] = slots;
      if (centered && hasMom) centeredMomentumLoop(p, grads, s, second, third, rho, mu, epsIn, epsOut, lr, scale);
      else if (centered) centeredLoop(p, grads, s, second, rho, epsIn, epsOut, lr, scale);
      else if (hasMom) momentumLoop(p, grads, s, second, rho, mu, epsIn, epsOut, lr, scale);
      else plainLoop(p, grads, s, rho, epsIn, epsOut, lr, scale);
    },
  });
}
