/**
 * Adam (the lecture, tfjs): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *   W -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)        (eps outside the sqrt, as tfjs)
 * Options: biasCorrection: false drops both 1-b^t factors; amsgrad keeps vmax = max(vmax, v) and uses it
 * in place of v (PyTorch's form: the raw maximum, then bias-corrected); weightDecay is L2 (g += wd*W
 * before the moments) or, with decoupledWeightDecay, AdamW (W -= lr*wd*W, as PyTorch: W *= 1 - lr*wd).
 */
import {
  type AdamConfig,
  BETA,
  boolField,
  makeOptimizer,
  numberField,
  type Optimizer,
  type StepContext,
} from './types.js';
import { ADAM_WASM } from './wasm/adam.wasm.js';

/** Per-step constants of the Adam loops, computed once per step. */
interface AdamStep {
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  eps: number;
  /** lr / (1 - b1^t) */
  stepSize: number;
  /** 1/sqrt(1 - b2^t): sqrt(v/(1-b2^t)) = sqrt(v)*k */
  k: number;
  /** clipNorm scale */
  scale: number;
  /** L2 coefficient (0 unless coupled weight decay) */
  l2: number;
  /** W multiplier, 1 - lr*wd for AdamW, else 1 */
  keep: number;
}

// Module-level loops with the constants unpacked into locals: see sgd.ts for why not closures.
function adamLoop(p: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, s: AdamStep): void {
  const { b1, c1, b2, c2, eps, stepSize, k, scale, l2, keep } = s;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const w = p[i];
    const g = grads[i] * scale + l2 * w;
    const mi = b1 * m[i] + c1 * g;
    const vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = w * keep - (stepSize * mi) / (Math.sqrt(vi) * k + eps);
  }
}

/** Plain Adam (no weight decay): the benchmark's case, without the two no-op multiplications. */
function adamPlainLoop(p: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, s: AdamStep): void {
  const { b1, c1, b2, c2, eps, stepSize, k, scale } = s;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = grads[i] * scale;
    const mi = b1 * m[i] + c1 * g;
    const vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] -= (stepSize * mi) / (Math.sqrt(vi) * k + eps);
  }
}

function amsgradLoop(
  p: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vmax: Float32Array,
  s: AdamStep,
): void {
  const { b1, c1, b2, c2, eps, stepSize, k, scale, l2, keep } = s;
  const n = p.length;
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
}

export function createAdam(config: AdamConfig): Optimizer {
  const b1 = numberField(config, 'beta1', 0.9, BETA);
  const b2 = numberField(config, 'beta2', 0.999, BETA);
  const eps = numberField(config, 'epsilon', 1e-8, { min: 0 });
  const biasCorrection = boolField(config, 'biasCorrection', true);
  const amsgrad = boolField(config, 'amsgrad', false);
  const wd = numberField(config, 'weightDecay', 0, { min: 0 });
  const decoupled = boolField(config, 'decoupledWeightDecay', false);
  // Weight decay enters as constants, so the loop has no branch for it: an L2 term of 0 and a decay
  // factor of 1 leave the arithmetic bit-identical to plain Adam.
  const s: AdamStep = {
    b1,
    c1: 1 - b1,
    b2,
    c2: 1 - b2,
    eps,
    stepSize: 0,
    k: 1,
    scale: 1,
    l2: decoupled ? 0 : wd,
    keep: 1,
  };

  const prepare = ({ lr, t, scale }: StepContext) => {
    s.stepSize = lr / (biasCorrection ? 1 - b1 ** t : 1);
    s.k = 1 / Math.sqrt(biasCorrection ? 1 - b2 ** t : 1);
    s.scale = scale;
    s.keep = decoupled ? 1 - lr * wd : 1;
  };
  return makeOptimizer(config, {
    slotNames: amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v'],
    update(p, grads, slots, ctx) {
      prepare(ctx);
      if (amsgrad) amsgradLoop(p, grads, slots[0], slots[1], slots[2], s);
      else if (wd === 0) adamPlainLoop(p, grads, slots[0], slots[1], s);
      else adamLoop(p, grads, slots[0], slots[1], s);
    },
    // the SIMD kernel computes in float32 (the loops above in float64): results agree to ~1e-7
    wasm: amsgrad
      ? undefined
      : {
          base64: ADAM_WASM,
          run(arena, ctx) {
            prepare(ctx);
            const [p, g, m, v] = arena.offsets;
            const kernel = arena.exports.adam as (...a: number[]) => void;
            kernel(p, g, m, v, arena.padded, s.b1, s.c1, s.b2, s.c2, s.eps, s.stepSize, s.k, s.scale, s.l2, s.keep);
          },
        },
  });
}
