// Node-side checks of the playground's and the EWA explorer's pure parts: surfaces, contours, noise,
// the lecture's words, the synthetic temperatures.
import { describe, expect, it } from 'vitest';
import { londonYear, seasonal } from '../src/ewa/temperatures.js';
import { isolines, lossGrid } from '../src/playground/contours.js';
import { createPaths, describeProgress, noiseSigma, PATH_KINDS, TRAINING_SET_SIZE } from '../src/playground/sim.js';
import { cloneHyper, SURFACE_IDS, SURFACES } from '../src/playground/surfaces.js';

describe('surfaces', () => {
  it.each(SURFACE_IDS)('%s: the analytic gradient matches central differences', (id) => {
    const s = SURFACES[id];
    const g = new Float32Array(2);
    const d = s.domain;
    for (let i = 0; i < 25; i++) {
      const x = d.xmin + ((i * 7919) % 97) * ((d.xmax - d.xmin) / 97);
      const y = d.ymin + ((i * 104729) % 89) * ((d.ymax - d.ymin) / 89);
      const h = 1e-5;
      const gx = (s.f(x + h, y) - s.f(x - h, y)) / (2 * h);
      const gy = (s.f(x, y + h) - s.f(x, y - h)) / (2 * h);
      s.grad(x, y, g);
      const tol = (v: number) => 1e-4 * Math.max(1, Math.abs(v));
      expect(Math.abs(g[0] - gx)).toBeLessThan(tol(gx));
      expect(Math.abs(g[1] - gy)).toBeLessThan(tol(gy));
    }
  });

  it.each(SURFACE_IDS)('%s: the minima have zero gradient and the start lies in the window', (id) => {
    const s = SURFACES[id];
    const g = new Float32Array(2);
    for (const [x, y] of s.minima) {
      s.grad(x, y, g);
      expect(Math.hypot(g[0], g[1])).toBeLessThan(1e-9);
    }
    const [x0, y0] = s.start;
    expect(x0 > s.domain.xmin && x0 < s.domain.xmax && y0 > s.domain.ymin && y0 < s.domain.ymax).toBe(true);
  });

  it.each(SURFACE_IDS)(
    '%s: the defaults get every optimizer closer to a minimum in 1000 iterations, none diverges',
    (id) => {
      const s = SURFACES[id];
      const paths = createPaths({ surface: id, hyper: cloneHyper(s.defaults), noise: false, batchSize: 64, seed: 1 });
      for (let i = 0; i < 1000; i++) for (const k of PATH_KINDS) paths[k].step();
      for (const k of PATH_KINDS) {
        expect(paths[k].diverged).toBe(false);
        expect(paths[k].loss).toBeLessThan(s.f(s.start[0], s.start[1]));
        expect(paths[k].xs.length).toBe(1001);
      }
    },
  );
});

describe('mini-batch noise', () => {
  const s = SURFACES.bowl;
  it('is zero for the full batch and one example standard deviation for a batch of 1', () => {
    expect(noiseSigma(s, false, 64)).toBe(0);
    expect(noiseSigma(s, true, TRAINING_SET_SIZE)).toBe(0);
    expect(noiseSigma(s, true, 1)).toBeCloseTo(s.exampleNoise, 12);
  });
  it('shrinks as the batch grows', () => {
    const sig = [1, 8, 64, 512].map((b) => noiseSigma(s, true, b));
    for (let i = 1; i < sig.length; i++) expect(sig[i]).toBeLessThan(sig[i - 1]);
  });
  it('is the same sequence for every optimizer and every run with one seed', () => {
    const cfg = {
      surface: 'saddle' as const,
      hyper: cloneHyper(SURFACES.saddle.defaults),
      noise: true,
      batchSize: 8,
      seed: 3,
    };
    const a = createPaths(cfg);
    const b = createPaths(cfg);
    for (let i = 0; i < 20; i++) {
      for (const k of PATH_KINDS) {
        a[k].step();
        b[k].step();
      }
    }
    for (const k of PATH_KINDS) expect(a[k].xs).toEqual(b[k].xs);
  });
});

describe('the lecture words', () => {
  it('counts iterations, epochs and steps (examples)', () => {
    expect(describeProgress(37, true, 64)).toMatch(
      /^Iteration 37 · epoch 2 · 2,368 steps \(examples\) — mini-batches of 64, 16 iterations per epoch/,
    );
    expect(describeProgress(3, false, 64)).toMatch(/^Iteration 3 · epoch 3 · 3,072 steps .*batch gradient descent/);
    expect(describeProgress(5, true, 1)).toMatch(/stochastic gradient descent/);
  });
});

describe('contours', () => {
  it('marching squares puts the level set of x² + y² = 4 on the circle of radius 2', () => {
    const n = 81;
    const grid = new Float64Array(n * n);
    const coord = (i: number) => -4 + (8 * i) / (n - 1);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) grid[r * n + c] = coord(c) ** 2 + coord(r) ** 2;
    const segs = isolines(grid, n, n, 4);
    expect(segs.length).toBeGreaterThan(100);
    for (let i = 0; i < segs.length; i += 2) {
      const radius = Math.hypot(coord(segs[i]), coord(segs[i + 1]));
      expect(Math.abs(radius - 2)).toBeLessThan(0.02);
    }
  });
  it('a flat grid has no contour; levels are spread between the min and max log-loss', () => {
    expect(isolines(new Float64Array(16).fill(1), 4, 4, 1)).toEqual([]);
    const g = lossGrid(SURFACES.bowl.f, SURFACES.bowl.domain, 21, 11, 8);
    expect(g.levels).toHaveLength(8);
    expect(g.levels[0]).toBeGreaterThan(g.min);
    expect(g.levels[7]).toBeLessThan(g.max);
  });
});

describe('London temperatures', () => {
  it('are a seeded year: 365 values, the same for the same seed, another year for another seed', () => {
    const a = londonYear(7);
    expect(a).toHaveLength(365);
    expect(londonYear(7)).toEqual(a);
    expect(londonYear(8)).not.toEqual(a);
  });
  it('are cold in January, warm in July, and noisy around the season', () => {
    const t = londonYear(2024);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(t.slice(0, 31))).toBeLessThan(8);
    expect(mean(t.slice(181, 212))).toBeGreaterThan(15);
    const resid = t.map((x, d) => x - seasonal(d));
    const sd = Math.sqrt(mean(resid.map((r) => r * r)));
    expect(sd).toBeGreaterThan(1);
    expect(sd).toBeLessThan(4);
  });
});
