/**
 * Adam's WebAssembly SIMD kernel on buffers from allocate(): the same trajectory as the JavaScript
 * loop (itself checked against tfjs in optimizers.test.ts) up to float32 rounding, state save and
 * load across it, its errors, and the committed binary matching its .wat source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without typings
import { compileWat, moduleSource } from '../scripts/build-wasm.mjs';
import { GradroomError } from '../src/errors.js';
import { createOptimizer, type OptimizerConfig } from '../src/optimizers/index.js';
import { ADAM_WASM } from '../src/optimizers/wasm/adam.wasm.js';

function random(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * scale;
  }
  return a;
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

/** `steps` Adam steps on plain arrays (the JS loop) and on allocate()'s buffers (the SIMD kernel). */
function both(config: OptimizerConfig, n: number, steps: number) {
  const plain = createOptimizer(config);
  const simd = createOptimizer(config);
  const w = random(n, 1);
  const { params, grads } = simd.allocate(n);
  params.set(w);
  for (let t = 0; t < steps; t++) {
    const g = random(n, 100 + t, 2);
    plain.step(w, g);
    grads.set(g);
    simd.step(params, grads);
  }
  return { js: w, simd: params, plain, arena: simd };
}

describe('Adam on allocate() buffers (WebAssembly SIMD)', () => {
  const configs: [string, OptimizerConfig][] = [
    ['defaults', { kind: 'adam', lr: 0.01 }],
    ['no bias correction', { kind: 'adam', lr: 0.01, biasCorrection: false }],
    ['AdamW', { kind: 'adam', lr: 0.01, weightDecay: 0.1, decoupledWeightDecay: true }],
    ['L2', { kind: 'adam', lr: 0.01, weightDecay: 0.1 }],
    ['clipNorm', { kind: 'adam', lr: 0.01, clipNorm: 0.5 }],
  ];
  for (const [name, config] of configs) {
    it(`${name}: follows the JavaScript loop to float32 rounding (n not a multiple of 4)`, () => {
      const { js, simd } = both(config, 1001, 30);
      expect(relDiff(simd, js)).toBeLessThan(1e-6);
      expect(relDiff(simd, random(1001, 1))).toBeGreaterThan(1e-3); // it did move
    });
  }

  it('per-step learning rates and state save/load continue exactly', () => {
    const config: OptimizerConfig = { kind: 'adam', lr: 0.01 };
    const a = createOptimizer(config);
    const { params, grads } = a.allocate(64);
    params.set(random(64, 3));
    for (let t = 0; t < 5; t++) {
      grads.set(random(64, 10 + t));
      a.step(params, grads, 0.01 / (t + 1));
    }
    const saved = a.state();
    const w = params.slice();
    const b = createOptimizer(config);
    b.load(saved); // before allocate: the slots move into the arena
    const bb = b.allocate(64);
    bb.params.set(w);
    for (let t = 5; t < 10; t++) {
      grads.set(random(64, 10 + t));
      bb.grads.set(grads);
      a.step(params, grads, 0.002);
      b.step(bb.params, bb.grads, 0.002);
    }
    expect(bb.params).toEqual(params);
    const c = createOptimizer(config);
    const cc = c.allocate(64);
    c.load(a.state()); // after allocate: loaded into the arena in place
    expect(c.state()).toEqual(a.state());
    expect(cc.params.length).toBe(64);
  });

  it('takes other buffers through the JavaScript loop, and checks its sizes', () => {
    const o = createOptimizer({ kind: 'adam', lr: 0.1 });
    o.allocate(8);
    const w = new Float32Array(8).fill(1);
    o.step(w, new Float32Array(8).fill(1));
    expect(w[0]).toBeCloseTo(0.9, 5);
    expect(() => o.allocate(9)).toThrow(GradroomError);
    expect(() => createOptimizer({ kind: 'adam', lr: 0.1 }).allocate(0)).toThrow(/positive integer/);
    // amsgrad and the other optimizers have no kernel: allocate gives plain buffers
    for (const config of [
      { kind: 'adam', lr: 0.1, amsgrad: true },
      { kind: 'sgd', lr: 0.1 },
    ] as OptimizerConfig[]) {
      const x = createOptimizer(config);
      const { params, grads } = x.allocate(4);
      params.fill(1);
      grads.fill(1);
      x.step(params, grads);
      expect(params[0]).toBeLessThan(1);
    }
  });

  it('the committed binary is the compiled .wat source', async () => {
    const dir = join(import.meta.dirname, '..', 'src', 'optimizers', 'wasm');
    const bytes = await compileWat(readFileSync(join(dir, 'adam.wat'), 'utf8'));
    expect(moduleSource('adam', bytes)).toBe(readFileSync(join(dir, 'adam.wasm.ts'), 'utf8'));
    expect(ADAM_WASM.length).toBeGreaterThan(100);
  });
});
