/**
 * Gradient descent with momentum, in the lecture's EWA form (v = b*v + (1-b)*g) or the classic form of
 * PyTorch and tfjs (v = b*v + g). Both are one loop: v = b*v + c*g with c = 1-b or 1.
 */
import {
  BETA,
  boolField,
  configError,
  type MomentumConfig,
  makeOptimizer,
  numberField,
  type Optimizer,
} from './types.js';

/** v = b*v + cg*g; W -= lr*v. */
function momentumLoop(p: Float32Array, grads: Float32Array, v: Float32Array, b: number, cg: number, lr: number): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const vi = b * v[i] + cg * grads[i];
    v[i] = vi;
    p[i] -= lr * vi;
  }
}

/** tfjs/PyTorch Nesterov: W -= lr*(g + b*v_new) (classic); the EWA analogue is W -= lr*(b*v_new + (1-b)*g). */
function nesterovLoop(p: Float32Array, grads: Float32Array, v: Float32Array, b: number, cg: number, lr: number): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = cg * grads[i];
    const vi = b * v[i] + g;
    v[i] = vi;
    p[i] -= lr * (b * vi + g);
  }
}

export function createMomentum(config: MomentumConfig): Optimizer {
  const b = numberField(config, 'momentum', 0.9, BETA);
  const nesterov = boolField(config, 'nesterov', false);
  const form = config.form ?? 'ewa';
  if (form !== 'ewa' && form !== 'classic') throw configError('momentum', 'form', "must be 'ewa' or 'classic'");
  const c = form === 'ewa' ? 1 - b : 1;
  const loop = nesterov ? nesterovLoop : momentumLoop;
  const restart = numberField(config, 'restartEvery', 0, { min: 1 });
  if (!Number.isInteger(restart)) throw configError('momentum', 'restartEvery', 'must be an integer >= 1');
  return makeOptimizer(config, {
    slotNames: ['v'],
    update(p, grads, slots, { lr, scale, t }) {
      // t counts steps across checkpoints (it is saved), so a resumed run restarts where this one would
      if (restart > 0 && t > 1 && (t - 1) % restart === 0) slots[0].fill(0);
      loop(p, grads, slots[0], b, c * scale, lr); // the clip scale folds into the gradient coefficient
    },
  });
}
