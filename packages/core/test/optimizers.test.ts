import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isGradroomError } from '../src/errors.js';
import {
  createOptimizer,
  globalNorm,
  OPTIMIZER_KINDS,
  type Optimizer,
  type OptimizerConfig,
} from '../src/optimizers/index.js';

// A local seeded PRNG (mulberry32 + Box-Muller), independent of the code under test.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function randn(n: number, next: () => number, scales?: Float32Array): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * (scales ? scales[i] : 1);
  return out;
}

/** Per-coordinate gradient scales over five decades, so epsilon's placement matters in the comparison. */
function spreadScales(n: number): Float32Array {
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) s[i] = 10 ** (-3 + (5 * i) / (n - 1));
  return s;
}

/**
 * max_i |a_i - b_i| / max(|b_i|, |start_i|, 1e-3): relative to the coordinate's size at the end or at the
 * start, because float32 rounding along a trajectory scales with the magnitudes it passes through (a
 * coordinate that goes from 0.7 to 0.004 carries an absolute error of about ulp(0.7) = 6e-8).
 */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, start: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), Math.abs(start[i]), 1e-3));
  }
  return worst;
}

function expectCode(fn: () => unknown, code: 'BAD_CONFIG' | 'BAD_LENGTH' | 'BAD_STATE', field?: string): void {
  try {
    fn();
  } catch (e) {
    expect(isGradroomError(e, code), `expected GradroomError ${code}, got ${String(e)}`).toBe(true);
    if (field) expect((e as Error).message).toContain(field);
    return;
  }
  throw new Error(`expected GradroomError ${code}, nothing was thrown`);
}

// ---------------------------------------------------------------------------------------------
// 1. Against tfjs's own optimizers, on the same fixed sequence of random gradients.

const N = 64;
const STEPS = 25;

function gradientSequence(seed: number): Float32Array[] {
  const next = rng(seed);
  const scales = spreadScales(N);
  return Array.from({ length: STEPS }, () => randn(N, next, scales));
}

function runOurs(config: OptimizerConfig, w0: Float32Array, grads: Float32Array[]): Float32Array {
  const opt = createOptimizer(config);
  const w = w0.slice();
  for (const g of grads) opt.step(w, g);
  return w;
}

function runTfjs(make: () => tf.Optimizer, w0: Float32Array, grads: Float32Array[]): Float32Array {
  const opt = make();
  const v = tf.variable(tf.tensor1d(w0));
  for (const g of grads) {
    const gt = tf.tensor1d(g);
    opt.applyGradients({ [v.name]: gt });
    gt.dispose();
  }
  const out = v.dataSync() as Float32Array;
  v.dispose();
  opt.dispose();
  return Float32Array.from(out);
}

interface TfjsCase {
  name: string;
  ours: OptimizerConfig;
  tfjs: () => tf.Optimizer;
}

const tfjsCases: TfjsCase[] = [
  { name: 'sgd', ours: { kind: 'sgd', lr: 0.05 }, tfjs: () => tf.train.sgd(0.05) },
  {
    name: 'classic momentum',
    ours: { kind: 'momentum', form: 'classic', lr: 0.01, momentum: 0.9 },
    tfjs: () => tf.train.momentum(0.01, 0.9),
  },
  {
    name: 'classic momentum, nesterov',
    ours: { kind: 'momentum', form: 'classic', lr: 0.01, momentum: 0.8, nesterov: true },
    tfjs: () => tf.train.momentum(0.01, 0.8, true),
  },
  {
    // PLATFORM.md: the lecture's v = b*v + (1-b)*g with lr is tfjs's momentum with lr*(1-b).
    name: 'lecture (ewa) momentum = tfjs momentum with lr*(1-b)',
    ours: { kind: 'momentum', lr: 0.1, momentum: 0.9 },
    tfjs: () => tf.train.momentum(0.1 * (1 - 0.9), 0.9),
  },
  {
    name: 'lecture (ewa) nesterov = tfjs nesterov with lr*(1-b)',
    ours: { kind: 'momentum', lr: 0.1, momentum: 0.9, nesterov: true },
    tfjs: () => tf.train.momentum(0.1 * (1 - 0.9), 0.9, true),
  },
  {
    name: 'rmsprop, epsilon inside sqrt',
    ours: { kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, epsilonInsideSqrt: true },
    tfjs: () => tf.train.rmsprop(0.01, 0.9, 0, 1e-7),
  },
  {
    name: 'rmsprop, epsilon inside sqrt, momentum',
    ours: { kind: 'rmsprop', lr: 0.01, rho: 0.95, epsilon: 1e-6, momentum: 0.7, epsilonInsideSqrt: true },
    tfjs: () => tf.train.rmsprop(0.01, 0.95, 0.7, 1e-6),
  },
  {
    // tfjs 4.22's centered form subtracts epsilon (sqrt(S - mg^2 - eps)); ours adds it as TF/Keras do.
    // With epsilon 0 the two coincide, which is what is compared here.
    name: 'rmsprop, centered (epsilon 0)',
    ours: { kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 0, centered: true, epsilonInsideSqrt: true },
    tfjs: () => tf.train.rmsprop(0.01, 0.9, 0, 0, true),
  },
  {
    name: 'rmsprop, centered with momentum (epsilon 0)',
    ours: { kind: 'rmsprop', lr: 0.005, rho: 0.8, epsilon: 0, momentum: 0.5, centered: true, epsilonInsideSqrt: true },
    tfjs: () => tf.train.rmsprop(0.005, 0.8, 0.5, 0, true),
  },
  {
    // tfjs keeps beta^t as float32 tensors: its betas are float32(0.9) and float32(0.999) (1 - float32(0.999)
    // is 1.3e-5 off 0.001), so ours gets the same float32 betas. tfjs's float32 product beta2^t still
    // carries ~1e-5 relative error into 1 - beta2^t at small t; tfjs's default lr 0.001 keeps the steps
    // small against the params, so that stays under the tolerance.
    name: 'adam, tfjs defaults (float32 betas, epsilon 1e-7)',
    ours: { kind: 'adam', lr: 0.001, beta1: Math.fround(0.9), beta2: Math.fround(0.999), epsilon: 1e-7 },
    tfjs: () => tf.train.adam(0.001),
  },
  {
    name: 'adam, other betas, epsilon 1e-8',
    ours: { kind: 'adam', lr: 0.02, beta1: Math.fround(0.8), beta2: Math.fround(0.99), epsilon: 1e-8 },
    tfjs: () => tf.train.adam(0.02, 0.8, 0.99, 1e-8),
  },
  { name: 'adagrad, defaults', ours: { kind: 'adagrad', lr: 0.1 }, tfjs: () => tf.train.adagrad(0.1) },
  {
    name: 'adagrad, initialAccumulatorValue 0.5',
    ours: { kind: 'adagrad', lr: 0.05, initialAccumulatorValue: 0.5 },
    tfjs: () => tf.train.adagrad(0.05, 0.5),
  },
  {
    name: 'adamax, epsilon 1e-7',
    ours: { kind: 'adamax', lr: 0.002, beta1: Math.fround(0.9), epsilon: 1e-7 },
    tfjs: () => tf.train.adamax(0.002, 0.9, 0.999, 1e-7),
  },
  {
    name: 'adamax, decay 0.05, other betas',
    ours: { kind: 'adamax', lr: 0.01, beta1: Math.fround(0.8), beta2: 0.99, epsilon: 1e-8, decay: 0.05 },
    tfjs: () => tf.train.adamax(0.01, 0.8, 0.99, 1e-8, 0.05),
  },
];

describe('optimizers against tfjs 4.22 (cpu backend), 25 steps of random gradients', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(tfjsCases)('$name', ({ ours, tfjs: make }) => {
    const w0 = randn(N, rng(7));
    const grads = gradientSequence(11);
    const expected = runTfjs(make, w0, grads);
    const got = runOurs(ours, w0, grads);
    // The trajectory moved: the comparison is not between two copies of w0.
    expect(relErr(expected, w0, w0)).toBeGreaterThan(1e-3);
    expect(relErr(got, expected, w0)).toBeLessThanOrEqual(1e-5);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Against float64 trajectories written out from the formulas, on f(w) = 0.5 * sum(a_i * (w_i - c_i)^2).
// (The centers c matter: with c = 0, L2 decay only rescales each coordinate's gradient, which Adam ignores.)

const A = [0.3, 1, 2.5, 4, 7, 10, 0.05, 15];
const C = [0.5, 0, -1, 2, 0, 0.3, -2, 1];
const W0 = [1, -2, 0.5, 3, -1.5, 0.25, 4, -0.75];
const QSTEPS = 30;

/** Runs our optimizer on the quadratic; the gradient a*w is taken from its own float32 params. */
function oursOnQuadratic(config: OptimizerConfig, steps = QSTEPS): Float32Array {
  const opt = createOptimizer(config);
  const w = Float32Array.from(W0);
  const g = new Float32Array(w.length);
  for (let s = 0; s < steps; s++) {
    for (let i = 0; i < w.length; i++) g[i] = A[i] * (w[i] - C[i]);
    opt.step(w, g);
  }
  return w;
}

/** A reference: given w and g (doubles, whole vectors), returns the new w; keeps its own state. */
type Reference = (w: number[], g: number[], t: number) => number[];

function referenceOnQuadratic(ref: Reference, steps = QSTEPS): number[] {
  let w = [...W0];
  for (let t = 1; t <= steps; t++) {
    const g = w.map((wi, i) => A[i] * (wi - C[i]));
    w = ref(w, g, t);
  }
  return w;
}

const zeros = () => A.map(() => 0);

function ewaMomentumRef(lr: number, b: number, nesterov: boolean): Reference {
  const v = zeros();
  return (w, g) =>
    w.map((wi, i) => {
      v[i] = b * v[i] + (1 - b) * g[i];
      const update = nesterov ? b * v[i] + (1 - b) * g[i] : v[i];
      return wi - lr * update;
    });
}

function lectureRmspropRef(lr: number, rho: number, eps: number): Reference {
  const s = zeros();
  return (w, g) =>
    w.map((wi, i) => {
      s[i] = rho * s[i] + (1 - rho) * g[i] ** 2;
      return wi - (lr * g[i]) / (Math.sqrt(s[i]) + eps);
    });
}

function centeredRmspropRef(lr: number, rho: number, eps: number, inside: boolean, momentum = 0): Reference {
  const s = zeros();
  const mg = zeros();
  const mom = zeros();
  return (w, g) =>
    w.map((wi, i) => {
      s[i] = rho * s[i] + (1 - rho) * g[i] ** 2;
      mg[i] = rho * mg[i] + (1 - rho) * g[i];
      const variance = s[i] - mg[i] ** 2;
      const denom = inside ? Math.sqrt(variance + eps) : Math.sqrt(variance) + eps;
      mom[i] = momentum * mom[i] + (lr * g[i]) / denom; // tfjs: lr inside the momentum buffer
      return wi - mom[i];
    });
}

interface AdamRefOptions {
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
  biasCorrection?: boolean;
  amsgrad?: boolean;
  l2?: number;
  adamw?: number;
}

function adamRef(o: AdamRefOptions): Reference {
  const { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, biasCorrection = true, amsgrad = false, l2 = 0, adamw = 0 } = o;
  const m = zeros();
  const v = zeros();
  const vmax = zeros();
  return (w, g, t) =>
    w.map((wi, i) => {
      const gi = g[i] + l2 * wi; // L2: the decay term joins the gradient before the moments
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      vmax[i] = Math.max(vmax[i], v[i]);
      const second = amsgrad ? vmax[i] : v[i];
      const mHat = biasCorrection ? m[i] / (1 - b1 ** t) : m[i];
      const vHat = biasCorrection ? second / (1 - b2 ** t) : second;
      const decayed = wi - lr * adamw * wi; // AdamW: decay outside the moments
      return decayed - (lr * mHat) / (Math.sqrt(vHat) + eps);
    });
}

/** Global-norm clipping in front of another reference. */
function clipped(clipNorm: number, inner: Reference): Reference {
  return (w, g, t) => {
    const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    const k = norm > clipNorm ? clipNorm / norm : 1;
    return inner(
      w,
      g.map((x) => x * k),
      t,
    );
  };
}

function sgdRef(lr: number): Reference {
  return (w, g) => w.map((wi, i) => wi - lr * g[i]);
}

interface HandCase {
  name: string;
  config: OptimizerConfig;
  ref: () => Reference;
}

const handCases: HandCase[] = [
  {
    name: 'lecture (ewa) momentum',
    config: { kind: 'momentum', lr: 0.05, momentum: 0.9 },
    ref: () => ewaMomentumRef(0.05, 0.9, false),
  },
  {
    name: 'lecture (ewa) momentum, nesterov',
    config: { kind: 'momentum', lr: 0.05, momentum: 0.8, nesterov: true },
    ref: () => ewaMomentumRef(0.05, 0.8, true),
  },
  {
    name: 'lecture rmsprop: g/(sqrt(S)+eps)',
    config: { kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-3 },
    ref: () => lectureRmspropRef(0.01, 0.9, 1e-3),
  },
  {
    name: 'centered rmsprop, epsilon inside (+eps, as Keras)',
    config: { kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-4, centered: true, epsilonInsideSqrt: true },
    ref: () => centeredRmspropRef(0.01, 0.9, 1e-4, true),
  },
  {
    name: 'centered rmsprop, epsilon outside',
    config: { kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-3, centered: true },
    ref: () => centeredRmspropRef(0.01, 0.9, 1e-3, false),
  },
  {
    name: 'centered rmsprop with momentum, epsilon outside',
    config: { kind: 'rmsprop', lr: 0.005, rho: 0.9, epsilon: 1e-3, centered: true, momentum: 0.6 },
    ref: () => centeredRmspropRef(0.005, 0.9, 1e-3, false, 0.6),
  },
  { name: 'adam (defaults)', config: { kind: 'adam', lr: 0.05 }, ref: () => adamRef({ lr: 0.05 }) },
  {
    name: 'adam without bias correction',
    config: { kind: 'adam', lr: 0.05, biasCorrection: false },
    ref: () => adamRef({ lr: 0.05, biasCorrection: false }),
  },
  {
    name: 'amsgrad',
    config: { kind: 'adam', lr: 0.1, beta2: 0.9, amsgrad: true },
    ref: () => adamRef({ lr: 0.1, b2: 0.9, amsgrad: true }),
  },
  {
    name: 'AdamW (decoupled weight decay)',
    config: { kind: 'adam', lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true },
    ref: () => adamRef({ lr: 0.05, adamw: 0.1 }),
  },
  {
    name: 'Adam with L2 (coupled weight decay)',
    config: { kind: 'adam', lr: 0.05, weightDecay: 0.1 },
    ref: () => adamRef({ lr: 0.05, l2: 0.1 }),
  },
  {
    name: 'sgd with clipNorm',
    config: { kind: 'sgd', lr: 0.02, clipNorm: 2 },
    ref: () => clipped(2, sgdRef(0.02)),
  },
  {
    name: 'adam with clipNorm',
    config: { kind: 'adam', lr: 0.05, clipNorm: 1 },
    ref: () => clipped(1, adamRef({ lr: 0.05 })),
  },
];

describe('optimizers against float64 trajectories from the formulas (quadratic, 30 steps)', () => {
  it.each(handCases)('$name', ({ config, ref }) => {
    const expected = referenceOnQuadratic(ref());
    const got = oursOnQuadratic(config);
    expect(relErr(expected, W0, W0)).toBeGreaterThan(1e-3);
    expect(relErr(got, expected, W0)).toBeLessThanOrEqual(1e-5);
  });

  it('the variants really differ from plain adam on this problem', () => {
    const plain = oursOnQuadratic({ kind: 'adam', lr: 0.05 });
    for (const config of [
      { kind: 'adam', lr: 0.05, biasCorrection: false },
      { kind: 'adam', lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true },
      { kind: 'adam', lr: 0.05, weightDecay: 0.1 },
      { kind: 'adam', lr: 0.05, clipNorm: 1 },
    ] as const) {
      expect(relErr(oursOnQuadratic(config), plain, W0), JSON.stringify(config)).toBeGreaterThan(1e-4);
    }
    // amsgrad: the second moment does shrink here, so the running maximum matters
    const ams = oursOnQuadratic({ kind: 'adam', lr: 0.1, beta2: 0.9, amsgrad: true });
    expect(relErr(ams, oursOnQuadratic({ kind: 'adam', lr: 0.1, beta2: 0.9 }), W0)).toBeGreaterThan(1e-4);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Equivalences.

describe('optimizer equivalences', () => {
  it('lecture momentum (b, lr) equals classic momentum (b, lr*(1-b)), with and without nesterov', () => {
    const w0 = randn(N, rng(3));
    const grads = gradientSequence(5);
    for (const nesterov of [false, true]) {
      for (const b of [0.5, 0.9, 0.99]) {
        const ewa = runOurs({ kind: 'momentum', lr: 0.1, momentum: b, nesterov }, w0, grads);
        const classic = runOurs(
          { kind: 'momentum', form: 'classic', lr: 0.1 * (1 - b), momentum: b, nesterov },
          w0,
          grads,
        );
        // float32 storage of v (scaled by 1/(1-b) in the classic form) rounds differently: ulp-level drift only
        expect(relErr(ewa, classic, w0)).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('momentum restarts: every restartEvery-th step starts from v = 0, as a fresh optimizer would; resume across a restart is exact', () => {
    const w0 = randn(N, rng(5));
    const grads = gradientSequence(6); // 25 steps
    for (const nesterov of [false, true]) {
      const config: OptimizerConfig = { kind: 'momentum', form: 'classic', lr: 0.05, momentum: 0.9, nesterov };
      // reference: a fresh optimizer (v = 0) for each run of 7 steps
      const ref = w0.slice();
      for (let from = 0; from < grads.length; from += 7) {
        const fresh = createOptimizer(config);
        for (const g of grads.slice(from, from + 7)) fresh.step(ref, g);
      }
      const restarted = runOurs({ ...config, restartEvery: 7 }, w0, grads);
      expect(relErr(restarted, ref, w0)).toBe(0);
      // and it differs from no restarts: the restarts do something
      expect(relErr(runOurs(config, w0, grads), ref, w0)).toBeGreaterThan(1e-3);
      // saved after step 10, loaded into a new optimizer: steps 11..25 (a restart at 15 and 22) match
      const a = createOptimizer({ ...config, restartEvery: 7 });
      const w = w0.slice();
      for (const g of grads.slice(0, 10)) a.step(w, g);
      const b = createOptimizer({ ...config, restartEvery: 7 });
      b.load(a.state());
      for (const g of grads.slice(10)) b.step(w, g);
      expect(relErr(w, restarted, w0)).toBe(0);
    }
  });

  it('adam with beta1 = 0 and no bias correction is the lecture rmsprop with rho = beta2', () => {
    const w0 = randn(N, rng(4));
    const grads = gradientSequence(6);
    const adam = runOurs(
      { kind: 'adam', lr: 0.01, beta1: 0, beta2: 0.9, epsilon: 1e-6, biasCorrection: false },
      w0,
      grads,
    );
    const rms = runOurs({ kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-6 }, w0, grads);
    expect(relErr(adam, rms, w0)).toBeLessThanOrEqual(1e-6);
  });

  it('momentum 0 is sgd; rmsprop momentum 0 is plain rmsprop', () => {
    const w0 = randn(N, rng(8));
    const grads = gradientSequence(9);
    expect(runOurs({ kind: 'momentum', lr: 0.1, momentum: 0 }, w0, grads)).toEqual(
      runOurs({ kind: 'sgd', lr: 0.1 }, w0, grads),
    );
    expect(runOurs({ kind: 'rmsprop', lr: 0.01, momentum: 0 }, w0, grads)).toEqual(
      runOurs({ kind: 'rmsprop', lr: 0.01 }, w0, grads),
    );
  });

  it('the lr passed to step overrides config.lr', () => {
    const w0 = randn(N, rng(12));
    const grads = gradientSequence(13);
    for (const kind of OPTIMIZER_KINDS) {
      const a = createOptimizer({ kind, lr: 999 } as OptimizerConfig);
      const wa = w0.slice();
      for (const g of grads) a.step(wa, g, 0.003);
      expect(wa, kind).toEqual(runOurs({ kind, lr: 0.003 } as OptimizerConfig, w0, grads));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Clipping.

describe('global-norm clipping', () => {
  it('globalNorm is the Euclidean norm of the whole buffer', () => {
    expect(globalNorm(Float32Array.from([3, 4]))).toBe(5);
    expect(globalNorm(new Float32Array(0))).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { maxLength: 50 }), (xs) => {
        const g = Float32Array.from(xs);
        const ref = Math.sqrt(Array.from(g).reduce((s, x) => s + x * x, 0));
        expect(globalNorm(g)).toBeCloseTo(ref, 6);
      }),
    );
  });

  it("never modifies the caller's grads, and clips only above the threshold", () => {
    const g = Float32Array.from([30, -40]); // norm 50
    const copy = g.slice();
    const opt = createOptimizer({ kind: 'sgd', lr: 1, clipNorm: 5 });
    const w = new Float32Array(2);
    opt.step(w, g);
    expect(g).toEqual(copy);
    expect(Array.from(w)).toEqual([-3, 4]); // g scaled to norm 5
    const small = createOptimizer({ kind: 'sgd', lr: 1, clipNorm: 100 });
    const w2 = new Float32Array(2);
    small.step(w2, g);
    expect(Array.from(w2)).toEqual([-30, 40]);
  });

  it('a clipped sgd step never moves params further than lr*clipNorm', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        (xs, clipNorm) => {
          const g = Float32Array.from(xs);
          const w = new Float32Array(g.length);
          createOptimizer({ kind: 'sgd', lr: 1, clipNorm }).step(w, g);
          expect(globalNorm(w)).toBeLessThanOrEqual(clipNorm * (1 + 1e-6));
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 5. State save/load.

const stateConfigs: OptimizerConfig[] = [
  { kind: 'sgd', lr: 0.1 },
  { kind: 'momentum', lr: 0.1, nesterov: true },
  { kind: 'momentum', lr: 0.01, form: 'classic' },
  { kind: 'rmsprop', lr: 0.01 },
  { kind: 'rmsprop', lr: 0.01, momentum: 0.9, centered: true, epsilonInsideSqrt: true },
  { kind: 'adam', lr: 0.01 },
  { kind: 'adam', lr: 0.01, amsgrad: true, weightDecay: 0.01, decoupledWeightDecay: true, clipNorm: 3 },
  { kind: 'adagrad', lr: 0.1 },
  { kind: 'adamax', lr: 0.01, decay: 0.01 },
];

describe('optimizer state', () => {
  it.each(stateConfigs.map((config) => ({ name: JSON.stringify(config), config })))(
    'save + load mid-run continues bit-identically: $name',
    ({ config }) => {
      const grads = gradientSequence(21);
      const w = randn(N, rng(22));
      const a = createOptimizer(config);
      for (const g of grads.slice(0, 10)) a.step(w, g);
      const saved = a.state();
      const wMid = w.slice();
      for (const g of grads.slice(10)) a.step(w, g);

      const b = createOptimizer(config);
      b.load(saved);
      const w2 = wMid.slice();
      for (const g of grads.slice(10)) b.step(w2, g);
      expect(w2).toEqual(w);
      expect(b.state()).toEqual(a.state());
      expect(b.state().t).toBe(STEPS);
    },
  );

  it('state() is a copy, and so is what load() keeps', () => {
    const opt = createOptimizer({ kind: 'adam', lr: 0.1 });
    const w = new Float32Array(4);
    const g = Float32Array.from([1, 2, 3, 4]);
    expect(opt.state()).toEqual({ kind: 'adam', t: 0, slots: {} });
    opt.step(w, g);
    const s1 = opt.state();
    const m1 = s1.slots.m.slice();
    opt.step(w, g);
    expect(s1.slots.m).toEqual(m1);
    expect(s1.t).toBe(1);
    expect(Object.keys(s1.slots).sort()).toEqual(['m', 'v']);

    const other = createOptimizer({ kind: 'adam', lr: 0.1 });
    other.load(s1);
    s1.slots.m.fill(123);
    expect(other.state().slots.m).toEqual(m1);
  });

  it('state is structured-cloneable (a checkpoint can be posted or packed)', () => {
    const opt = createOptimizer({ kind: 'rmsprop', lr: 0.1, centered: true });
    opt.step(new Float32Array(3), Float32Array.from([1, -1, 2]));
    const s = structuredClone(opt.state());
    const b = createOptimizer({ kind: 'rmsprop', lr: 0.1, centered: true });
    b.load(s);
    expect(b.state()).toEqual(opt.state());
  });

  it('load rejects a state of another kind, with missing, extra or uneven slots (BAD_STATE)', () => {
    const adam = createOptimizer({ kind: 'adam', lr: 0.1 });
    adam.step(new Float32Array(3), Float32Array.from([1, 2, 3]));
    const s = adam.state();
    expectCode(() => createOptimizer({ kind: 'adamax', lr: 0.1 }).load(s), 'BAD_STATE', 'kind');
    expectCode(
      () => createOptimizer({ kind: 'adam', lr: 0.1 }).load({ ...s, slots: { m: s.slots.m } }),
      'BAD_STATE',
      "'v'",
    );
    expectCode(
      () => createOptimizer({ kind: 'adam', lr: 0.1 }).load({ ...s, slots: { ...s.slots, vmax: s.slots.v } }),
      'BAD_STATE',
      'vmax',
    );
    expectCode(() => createOptimizer({ kind: 'adam', lr: 0.1, amsgrad: true }).load(s), 'BAD_STATE', 'vmax');
    expectCode(
      () => createOptimizer({ kind: 'adam', lr: 0.1 }).load({ ...s, slots: { m: s.slots.m, v: new Float32Array(2) } }),
      'BAD_STATE',
      'length',
    );
    expectCode(() => createOptimizer({ kind: 'adam', lr: 0.1 }).load({ ...s, t: -1 }), 'BAD_STATE', 't');
    expectCode(
      () => createOptimizer({ kind: 'adam', lr: 0.1 }).load({ ...s, slots: { m: [0, 0, 0], v: s.slots.v } as never }),
      'BAD_STATE',
      'Float32Array',
    );
  });

  it('a loaded state fixes the parameter count', () => {
    const a = createOptimizer({ kind: 'momentum', lr: 0.1 });
    a.step(new Float32Array(5), new Float32Array(5));
    const b = createOptimizer({ kind: 'momentum', lr: 0.1 });
    b.load(a.state());
    expectCode(() => b.step(new Float32Array(4), new Float32Array(4)), 'BAD_LENGTH');
    b.step(new Float32Array(5), new Float32Array(5));
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Bad input.

describe('optimizer validation', () => {
  const bad: Array<[string, unknown, string]> = [
    ['unknown kind', { kind: 'lbfgs', lr: 0.1 }, 'lbfgs'],
    ['missing lr', { kind: 'sgd' }, 'lr'],
    ['NaN lr', { kind: 'adam', lr: Number.NaN }, 'lr'],
    ['infinite lr', { kind: 'adam', lr: Number.POSITIVE_INFINITY }, 'lr'],
    ['negative lr', { kind: 'sgd', lr: -0.1 }, 'lr'],
    ['beta1 = 1', { kind: 'adam', lr: 0.1, beta1: 1 }, 'beta1'],
    ['beta2 < 0', { kind: 'adam', lr: 0.1, beta2: -0.1 }, 'beta2'],
    ['negative epsilon', { kind: 'adam', lr: 0.1, epsilon: -1e-8 }, 'epsilon'],
    ['momentum = 1', { kind: 'momentum', lr: 0.1, momentum: 1 }, 'momentum'],
    ['unknown momentum form', { kind: 'momentum', lr: 0.1, form: 'heavy-ball' }, 'form'],
    ['nesterov not a boolean', { kind: 'momentum', lr: 0.1, nesterov: 'yes' }, 'nesterov'],
    ['restartEvery 0', { kind: 'momentum', lr: 0.1, restartEvery: 0 }, 'restartEvery'],
    ['restartEvery 2.5', { kind: 'momentum', lr: 0.1, restartEvery: 2.5 }, 'restartEvery'],
    ['rho = 1.5', { kind: 'rmsprop', lr: 0.1, rho: 1.5 }, 'rho'],
    ['rmsprop momentum < 0', { kind: 'rmsprop', lr: 0.1, momentum: -0.5 }, 'momentum'],
    ['negative weight decay', { kind: 'adam', lr: 0.1, weightDecay: -1 }, 'weightDecay'],
    ['negative accumulator', { kind: 'adagrad', lr: 0.1, initialAccumulatorValue: -1 }, 'initialAccumulatorValue'],
    ['adagrad 0/0', { kind: 'adagrad', lr: 0.1, initialAccumulatorValue: 0, epsilon: 0 }, 'epsilon'],
    ['adamax negative decay', { kind: 'adamax', lr: 0.1, decay: -1 }, 'decay'],
    ['clipNorm 0', { kind: 'sgd', lr: 0.1, clipNorm: 0 }, 'clipNorm'],
    ['clipNorm NaN', { kind: 'adam', lr: 0.1, clipNorm: Number.NaN }, 'clipNorm'],
    ['not an object', null, 'object'],
  ];
  it.each(bad)('BAD_CONFIG: %s', (_name, config, field) => {
    expectCode(() => createOptimizer(config as OptimizerConfig), 'BAD_CONFIG', field);
  });

  it('BAD_CONFIG for a bad lr passed to step', () => {
    const opt = createOptimizer({ kind: 'sgd', lr: 0.1 });
    expectCode(() => opt.step(new Float32Array(2), new Float32Array(2), -1), 'BAD_CONFIG', 'lr');
    expectCode(() => opt.step(new Float32Array(2), new Float32Array(2), Number.NaN), 'BAD_CONFIG', 'lr');
  });

  it.each([...OPTIMIZER_KINDS])('BAD_LENGTH for %s: grads vs params, and a later change of length', (kind) => {
    const opt: Optimizer = createOptimizer({ kind, lr: 0.1 } as OptimizerConfig);
    expectCode(() => opt.step(new Float32Array(3), new Float32Array(4)), 'BAD_LENGTH', 'grads.length');
    const w = new Float32Array(3);
    opt.step(w, Float32Array.from([1, 2, 3]));
    expectCode(() => opt.step(new Float32Array(4), new Float32Array(4)), 'BAD_LENGTH', 'params.length');
    // a failed step changes nothing
    expect(opt.state().t).toBe(1);
  });
});
