// The playground's lecture claims, computed from the simulation the page runs (src/playground/sim.ts on
// @gradroom/core): the elongated bowl's zig-zag against momentum, the saddle, learning-rate decay, and
// Adam reducing to RMSProp and to momentum, checked against core's own optimizers.
import { createOptimizer, learningRate } from '@gradroom/core';
import { describe, expect, it } from 'vitest';
import { ADAM_AS, SCENARIOS } from '../src/playground/scenarios.js';
import {
  createGhosts,
  createPaths,
  itersPerEpoch,
  NEAR_SADDLE,
  type Path,
  type PathKind,
  pathStats,
  type SimConfig,
  STAIRCASE_EVERY,
  scheduleFor,
  TRAINING_SET_SIZE,
} from '../src/playground/sim.js';
import { cloneHyper, SURFACES, type SurfaceId } from '../src/playground/surfaces.js';

function scenario(surface: SurfaceId, id: string): SimConfig {
  const config: SimConfig = {
    surface,
    hyper: cloneHyper(SURFACES[surface].defaults),
    noise: false,
    batchSize: 64,
    seed: 1,
  };
  const s = SCENARIOS[surface].find((x) => x.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  s.apply(config);
  return config;
}

function run(config: SimConfig, n: number): Record<PathKind, Path> {
  const paths = createPaths(config);
  for (let i = 0; i < n; i++) for (const p of Object.values(paths)) p.step();
  return paths;
}

describe('elongated bowl: the lecture’s picture', () => {
  it('at equal α momentum swings across the valley far less than gradient descent, and neither diverges', () => {
    const config = scenario('bowl', 'equal-alpha');
    expect(config.hyper.sgd.lr).toBe(config.hyper.momentum.lr);
    const p = run(config, 200);
    const gd = pathStats(p.sgd);
    const mom = pathStats(p.momentum);
    expect(p.sgd.diverged || p.momentum.diverged).toBe(false);
    // Σ|Δy| by hand, independently of pathStats
    const swing = (ys: number[]) => ys.slice(1).reduce((s, y, i) => s + Math.abs(y - ys[i]), 0);
    expect(gd.swing).toBeCloseTo(swing(p.sgd.ys), 9);
    expect(mom.swing).toBeCloseTo(swing(p.momentum.ys), 9);
    expect(mom.swing ?? 0).toBeLessThan((gd.swing ?? 0) / 3);
    // the two still make similar progress along the valley at equal α
    expect(mom.distance).toBeLessThan(gd.distance);
  });

  it('momentum takes α = 3, where gradient descent diverges, and reaches the minimum far sooner', () => {
    const config = scenario('bowl', 'larger-alpha');
    const p = run(config, 100);
    const mom = pathStats(p.momentum);
    const gdEqual = pathStats(run(scenario('bowl', 'equal-alpha'), 100).sgd);
    expect(p.momentum.diverged).toBe(false);
    expect(mom.distance).toBeLessThan(gdEqual.distance / 10);
    // even at the larger α momentum swings less than gradient descent at its own α
    expect(mom.swing ?? 0).toBeLessThan(gdEqual.swing ?? 0);
    const gdAt3 = createPaths({ ...config, hyper: { ...config.hyper, sgd: { lr: 3 } } }).sgd;
    for (let i = 0; i < 100; i++) gdAt3.step();
    expect(gdAt3.diverged).toBe(true);
  });

  it.each([1, 2, 3, 4, 5])(
    'the race (noise seed %i): mini-batch momentum ends closer and swings less than batch GD, each with its own settings',
    (seed) => {
      const config = scenario('bowl', 'race');
      config.seed = seed;
      const p = run(config, 150);
      expect(p.sgd.settings.noise).toBe(false);
      expect(p.momentum.settings).toMatchObject({ noise: true, batchSize: 256 });
      expect(pathStats(p.momentum).distance).toBeLessThan(pathStats(p.sgd).distance * 0.8);
      expect(pathStats(p.momentum).swing ?? 0).toBeLessThan((pathStats(p.sgd).swing ?? 0) * 0.7);
    },
  );
});

describe('saddle', () => {
  it('gradient descent lingers near the saddle for tens of iterations, then reaches a minimum', () => {
    const p = run(scenario('saddle', 'defaults'), 400);
    const gd = pathStats(p.sgd);
    expect(gd.nearSaddle ?? 0).toBeGreaterThan(15);
    expect(gd.nearSaddle ?? 0).toBeLessThan(100);
    expect(gd.reachedAt).not.toBeNull();
    // it is really at the minimum, not on the ridge
    expect(Math.abs(Math.abs(p.sgd.ys.at(-1) ?? 0) - 1)).toBeLessThan(1e-3);
    // count the iterations within NEAR_SADDLE of (0, 0) by hand
    const near = p.sgd.xs.filter((x, i) => Math.hypot(x, p.sgd.ys[i]) < NEAR_SADDLE).length;
    expect(gd.nearSaddle).toBe(near);
  });
});

describe('learning-rate decay', () => {
  it('each path follows core’s schedule, with epochs counted by its own mini-batch size', () => {
    const config = scenario('bowl', 'decay');
    const p = run(config, 300).sgd;
    const per = itersPerEpoch(p.settings);
    expect(per).toBe(TRAINING_SET_SIZE / 8);
    for (const i of [0, 127, 128, 255, 256, 299]) {
      const want = learningRate(
        { kind: 'inverse-time', lr0: config.hyper.sgd.lr, decayRate: 1 },
        { epoch: Math.floor(i / per), iteration: i },
      );
      expect(p.lrs[i]).toBe(want);
    }
    // epoch 0 runs at α₀: the formula's epoch_num counts finished epochs
    expect(p.lrs[0]).toBe(config.hyper.sgd.lr);
    expect(p.lrs[128]).toBeCloseTo(config.hyper.sgd.lr / 2, 12);
    // batch gradient descent has one iteration per epoch
    expect(itersPerEpoch({ noise: false, batchSize: 8, decay: 'inverse-time', decayRate: 1 })).toBe(1);
    expect(scheduleFor({ noise: true, batchSize: 8, decay: 'staircase', decayRate: 0.5 }, 2)).toEqual({
      kind: 'staircase',
      lr0: 2,
      factor: 0.5,
      every: STAIRCASE_EVERY,
    });
  });

  it.each([1, 2, 3, 4, 5])(
    'noise seed %i: a noisy mini-batch path settles with decay and keeps wandering without it',
    (seed) => {
      const config = scenario('bowl', 'decay');
      config.seed = seed;
      const paths = createPaths(config);
      const ghost = createGhosts(config).sgd;
      if (!ghost) throw new Error('decay path has no ghost');
      expect(createGhosts(config).momentum).toBeUndefined();
      for (let i = 0; i < 1000; i++) {
        paths.sgd.step();
        ghost.step();
      }
      expect(ghost.settings.decay).toBe('constant');
      expect(ghost.lrs.every((lr) => lr === config.hyper.sgd.lr)).toBe(true);
      const spread = (p: Path) => {
        // mean squared sideways distance over the last 200 iterations: the wander across the valley
        const ys = p.ys.slice(-200);
        return ys.reduce((s, y) => s + y * y, 0) / ys.length;
      };
      expect(spread(paths.sgd)).toBeLessThan(spread(ghost) / 4);
      expect(pathStats(paths.sgd).settle).toBeLessThan(pathStats(ghost).settle * 0.6);
    },
  );
});

describe('Adam reduces to the two it combines', () => {
  function endpoint(kind: PathKind, config: SimConfig, n: number): [number, number] {
    const p = run(config, n)[kind];
    return [p.xs[n], p.ys[n]];
  }
  it.each(['bowl', 'saddle', 'rosenbrock'] as const)(
    '%s: β₁ = 0 without bias correction is RMSProp, step for step',
    (s) => {
      const config = scenario(s, s === 'bowl' ? 'equal-alpha' : 'defaults');
      ADAM_AS.rmsprop(config);
      const p = run(config, 200);
      for (let i = 0; i <= 200; i++) {
        expect(p.adam.xs[i]).toBeCloseTo(p.rmsprop.xs[i], 5);
        expect(p.adam.ys[i]).toBeCloseTo(p.rmsprop.ys[i], 5);
      }
      // and against core's RMSProp directly
      const opt = createOptimizer({ kind: 'rmsprop', lr: config.hyper.rmsprop.lr, rho: config.hyper.rmsprop.rho });
      const w = Float32Array.from(SURFACES[s].start);
      const g = new Float32Array(2);
      for (let i = 0; i < 200; i++) {
        SURFACES[s].grad(w[0], w[1], g);
        opt.step(w, g);
      }
      expect(endpoint('adam', config, 200)[0]).toBeCloseTo(w[0], 4);
    },
  );

  it('ε far above √S without bias correction is momentum with α/ε; with bias correction it is not RMSProp', () => {
    const config = scenario('bowl', 'equal-alpha');
    const plain = endpoint('adam', config, 150);
    ADAM_AS.momentum(config);
    const [ax, ay] = endpoint('adam', config, 150);
    const [mx, my] = endpoint('momentum', config, 150);
    expect(Math.hypot(ax - mx, ay - my)).toBeLessThan(0.02);
    expect(Math.hypot(plain[0] - mx, plain[1] - my)).toBeGreaterThan(0.2);
    // bias correction on, β₁ = 0: early steps are larger than RMSProp's uncorrected ones differ
    const corrected = scenario('bowl', 'equal-alpha');
    ADAM_AS.rmsprop(corrected);
    corrected.hyper.adam.biasCorrection = true;
    const p = run(corrected, 5);
    expect(Math.abs(p.adam.xs[1] - p.rmsprop.xs[1])).toBeGreaterThan(1e-3);
  });
});
