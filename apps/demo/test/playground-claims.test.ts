// The playground's words checked against its own simulation (src/playground/*): the plateau's order of
// arrival, the staircase's stairs, which way Adam's first step changes without bias correction, and
// the settings a link carries. Each expected number is computed here by hand, not by the page's code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adamFirstStep, describeAdamFirstStep } from '../src/playground/adam-bias.js';
import { SCENARIOS } from '../src/playground/scenarios.js';
import {
  createPaths,
  type Path,
  type PathKind,
  pathStats,
  REACHED,
  type SimConfig,
  STAIRCASE_EVERY,
  uniformSettings,
} from '../src/playground/sim.js';
import { cloneHyper, SURFACE_IDS, SURFACES, type SurfaceId } from '../src/playground/surfaces.js';
import { arrivalOrder } from '../src/playground/table.js';
import { baseSettings, fromQuery, toQuery } from '../src/playground/url-state.js';

const HTML = readFileSync(join(import.meta.dirname, '..', 'public', 'playground.html'), 'utf8');

function scenario(surface: SurfaceId, id: string): SimConfig {
  return baseSettings(surface, id).config;
}

function run(config: SimConfig, n: number): Record<PathKind, Path> {
  const paths = createPaths(config);
  for (let i = 0; i < n; i++) for (const p of Object.values(paths)) p.step();
  return paths;
}

/** First iteration within REACHED of the origin (the plateau's minimum), from the raw points. */
function arrival(p: Path): number | null {
  for (let i = 0; i < p.xs.length; i++) if (Math.hypot(p.xs[i], p.ys[i]) < REACHED) return i;
  return null;
}

describe('plateau: what the text says is what the run shows', () => {
  it('at the same α momentum arrives after gradient descent; RMSProp and Adam arrive first', () => {
    const c = scenario('plateau', 'defaults');
    expect(c.hyper.sgd.lr).toBe(c.hyper.momentum.lr);
    const p = run(c, 1000);
    const [sgd, mom, rms, adam] = (['sgd', 'momentum', 'rmsprop', 'adam'] as const).map((k) => arrival(p[k]));
    for (const a of [sgd, mom, rms, adam]) expect(a).not.toBeNull();
    expect(mom as number).toBeGreaterThan(sgd as number);
    expect(Math.max(rms as number, adam as number)).toBeLessThan(sgd as number);
    // the page's sentence lists them in that order, with the same iterations
    const stats = Object.fromEntries(
      (['sgd', 'momentum', 'rmsprop', 'adam'] as const).map((k) => [k, pathStats(p[k])]),
    );
    const words = arrivalOrder(['sgd', 'momentum', 'rmsprop', 'adam'], stats as never);
    const first = (adam as number) < (rms as number) ? ['Adam', adam, 'RMSProp', rms] : ['RMSProp', rms, 'Adam', adam];
    expect(words).toBe(
      `Within ${REACHED} of the minimum: ${first[0]} at iteration ${first[1]}, ${first[2]} at ${first[3]}, Gradient descent at ${sgd}, Momentum at ${mom}.`,
    );
    // and the lesson's paragraph says it this way round
    expect(HTML).toContain('at the same α its steps on the flat part are no longer than gradient');
    expect(HTML).not.toContain('Momentum keeps moving across it');
  });

  it('"Both at α = 2": past 2/1.5 gradient descent never settles; momentum gets across sooner than at α = 1.2', () => {
    const c = scenario('plateau', 'larger-alpha');
    expect([c.hyper.sgd.lr, c.hyper.momentum.lr]).toEqual([2, 2]);
    const p = run(c, 1000);
    expect(arrival(p.sgd)).toBeNull();
    const atDefault = run(scenario('plateau', 'defaults'), 1000);
    const mom = arrival(p.momentum) as number;
    expect(mom).not.toBeNull();
    expect(mom).toBeLessThan(arrival(atDefault.momentum) as number);
    expect(mom).toBeLessThan(arrival(atDefault.sgd) as number);
    // the limit the words give: the curvature at the bottom is 1.5 (f ≈ (x² + 3y²)/4), so α < 2/1.5
    const h = 1e-4;
    const f = SURFACES.plateau.f;
    expect((f(0, h) - 2 * f(0, 0) + f(0, -h)) / (h * h)).toBeCloseTo(1.5, 4);
    const below = baseSettings('plateau').config;
    below.hyper.sgd.lr = 1.3;
    expect(arrival(run(below, 1000).sgd)).not.toBeNull();
    const s = SCENARIOS.plateau.find((x) => x.id === 'larger-alpha');
    expect(s?.look).toContain('2/1.5');
  });
});

describe('staircase: α drops by the factor every N epochs', () => {
  function lrs(settings: Partial<ReturnType<typeof uniformSettings>['sgd']>, n: number): number[] {
    const c = baseSettings('bowl').config;
    c.each = { ...uniformSettings(false, 64), sgd: { ...uniformSettings(false, 64).sgd, ...settings } };
    return run(c, n).sgd.lrs;
  }
  const lr0 = SURFACES.bowl.defaults.sgd.lr;

  it('full batch (one iteration per epoch), N = 3: three equal α, then half, three times, then a quarter', () => {
    const got = lrs({ decay: 'staircase', decayRate: 0.5, every: 3 }, 30);
    for (let i = 0; i < 30; i++) expect(got[i]).toBeCloseTo(lr0 * 0.5 ** Math.floor(i / 3), 12);
    expect(new Set(got.slice(0, 3)).size).toBe(1);
    expect(got[3]).toBeCloseTo(got[2] / 2, 12);
  });

  it('mini-batches of 256 (4 iterations per epoch), N = 2: flat for 8 iterations, then × 0.3', () => {
    const got = lrs({ noise: true, batchSize: 256, decay: 'staircase', decayRate: 0.3, every: 2 }, 40);
    for (let i = 0; i < 40; i++) expect(got[i]).toBeCloseTo(lr0 * 0.3 ** Math.floor(i / 8), 12);
  });

  it(`without its own N a path steps every ${STAIRCASE_EVERY} epochs, so it is not exponential decay`, () => {
    expect(STAIRCASE_EVERY).toBeGreaterThan(1);
    const got = lrs({ decay: 'staircase', decayRate: 0.5 }, 2 * STAIRCASE_EVERY + 1);
    expect(got[STAIRCASE_EVERY - 1]).toBe(lr0);
    expect(got[STAIRCASE_EVERY]).toBeCloseTo(lr0 / 2, 12);
  });
});

describe('Adam’s first step without bias correction', () => {
  /** One Adam step from the start by the lecture's formulas, in float64: the step's length. */
  function byHand(surface: SurfaceId, beta1: number, beta2: number, lr: number, eps: number, corrected: boolean) {
    const g = new Float32Array(2);
    const [x, y] = SURFACES[surface].start;
    SURFACES[surface].grad(x, y, g);
    const step = [...g].map((gi) => {
      let v = (1 - beta1) * gi;
      let s = (1 - beta2) * gi * gi;
      if (corrected) {
        v /= 1 - beta1;
        s /= 1 - beta2;
      }
      return (lr * v) / (Math.sqrt(s) + eps);
    });
    return Math.hypot(step[0], step[1]);
  }

  it.each(SURFACE_IDS)('%s, the usual β’s: the uncorrected first step is larger, by (1 − β₁)/√(1 − β₂)', (id) => {
    const c = baseSettings(id).config;
    const { lr, beta1, beta2, epsilon } = c.hyper.adam;
    const a = adamFirstStep(c);
    expect(a.corrected).toBeCloseTo(byHand(id, beta1, beta2, lr, epsilon, true), 5);
    expect(a.uncorrected).toBeCloseTo(byHand(id, beta1, beta2, lr, epsilon, false), 5);
    expect(a.direction).toBe('larger');
    // ε adds to √S: on the plateau's tiny gradient that moves the ratio by about 0.1 %
    expect(Math.abs(a.ratio / ((1 - beta1) / Math.sqrt(1 - beta2)) - 1)).toBeLessThan(0.01);
    const words = describeAdamFirstStep(a, beta1, beta2);
    expect(words).toContain(`${a.ratio.toFixed(2)}× larger without`);
    expect(words).toContain('too large, not too small');
  });

  it('β₁ = 0.99, β₂ = 0.9: V falls further short, and the words say smaller', () => {
    const c = baseSettings('bowl').config;
    c.hyper.adam = { ...c.hyper.adam, beta1: 0.99, beta2: 0.9 };
    const a = adamFirstStep(c);
    expect(a.direction).toBe('smaller');
    expect(a.ratio).toBeCloseTo(0.01 / Math.sqrt(0.1), 3);
    expect(describeAdamFirstStep(a, 0.99, 0.9)).toContain('too small');
  });

  it('the lesson’s bullet names the direction and the usual factor, √10 ≈ 3.2', () => {
    expect(HTML).toContain('the uncorrected first step is <em>larger</em>, not smaller');
    expect(HTML).toContain(`≈ ${((1 - 0.9) / Math.sqrt(1 - 0.999)).toFixed(1)} times`);
  });
});

describe('settings in the URL', () => {
  it('round-trips every kind of setting, writing only what differs from the base', () => {
    const p = baseSettings('plateau');
    const each = p.config.each as Record<PathKind, ReturnType<typeof uniformSettings>['sgd']>;
    p.config.hyper.sgd.lr = 0.37;
    p.config.hyper.adam.beta2 = 0.95;
    p.config.hyper.adam.biasCorrection = false;
    p.config.seed = 42;
    each.momentum = { noise: true, batchSize: 8, decay: 'staircase', decayRate: 0.4, every: 7 };
    each.rmsprop = { ...each.rmsprop, decay: 'inverse-time', decayRate: 2.5 };
    p.visible.rmsprop = false;
    const q = toQuery(p, new URLSearchParams('autoplay=0&scenario=nope'));
    expect(q.get('autoplay')).toBe('0');
    expect(q.get('sgd.lr')).toBe('0.37');
    expect(q.get('momentum.every')).toBe('7');
    expect(q.has('momentum.lr')).toBe(false); // unchanged: not written
    const back = fromQuery(new URLSearchParams(q.toString()));
    expect(back.ignored).toEqual([]);
    expect(back.settings.config).toEqual(p.config);
    expect(back.settings.visible).toEqual(p.visible);
  });

  it('starts from a scenario and keeps changes made after it', () => {
    const p = baseSettings('bowl', 'race');
    p.config.hyper.momentum.lr = 2;
    const back = fromQuery(toQuery(p)).settings;
    expect(back.scenario).toBe('race');
    expect(back.config).toEqual(p.config);
    expect(back.visible).toEqual({ sgd: true, momentum: true, rmsprop: false, adam: false });
  });

  it('ignores and reports what is not valid, and keeps the defaults for it', () => {
    const { settings, ignored } = fromQuery(
      new URLSearchParams(
        'surface=plateau&sgd.lr=abc&adam.beta1=5&batch=7&show=sgd,nobody&momentum.decay=zigzag&seed=-1&rmsprop.lr=0.2',
      ),
    );
    expect(ignored.sort()).toEqual(['adam.beta1', 'batch', 'momentum.decay', 'seed', 'sgd.lr', 'show']);
    const base = baseSettings('plateau').config;
    expect(settings.config.hyper.sgd.lr).toBe(base.hyper.sgd.lr);
    expect(settings.config.hyper.adam.beta1).toBe(base.hyper.adam.beta1);
    expect(settings.config.hyper.rmsprop.lr).toBe(0.2);
    expect(fromQuery(new URLSearchParams('surface=moon')).ignored).toEqual(['surface']);
  });
});

it('the surfaces’ defaults the claims use are the ones the page starts from', () => {
  expect(baseSettings('plateau').config.hyper).toEqual(cloneHyper(SURFACES.plateau.defaults));
});
