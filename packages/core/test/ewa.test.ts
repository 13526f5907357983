import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isGradroomError } from '../src/errors.js';
import { Ewa, ewaSeries } from '../src/ewa.js';

/** The lecture's expansion: v_t = sum_{k=1..t} (1-beta) * beta^(t-k) * x_k, whose weights add to 1 - beta^t. */
function expanded(xs: number[], beta: number, t: number): number {
  let v = 0;
  for (let k = 1; k <= t; k++) v += (1 - beta) * beta ** (t - k) * xs[k - 1];
  return v;
}

describe('Ewa', () => {
  it('the raw EWA of a constant c at step t is c*(1 - beta^t)', () => {
    for (const beta of [0.5, 0.9, 0.98]) {
      const e = new Ewa(beta, { biasCorrection: false });
      for (let t = 1; t <= 60; t++) {
        expect(e.update(7)).toBeCloseTo(7 * (1 - beta ** t), 12);
        expect(e.t).toBe(t);
      }
    }
  });

  it('bias correction makes the EWA of a constant exact from step 1', () => {
    for (const beta of [0.5, 0.9, 0.98, 0.999]) {
      const e = new Ewa(beta);
      for (let t = 1; t <= 50; t++) expect(e.update(-3.25)).toBeCloseTo(-3.25, 12);
      expect(e.corrected).toBeCloseTo(-3.25, 12);
    }
  });

  it('equals the weighted-sum expansion, raw and corrected (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        (xs, beta) => {
          const e = new Ewa(beta);
          xs.forEach((x, i) => {
            e.update(x);
            const raw = expanded(xs, beta, i + 1);
            expect(e.value).toBeCloseTo(raw, 9);
            expect(e.corrected).toBeCloseTo(raw / (1 - beta ** (i + 1)), 7);
          });
        },
      ),
    );
  });

  it('averages over about 1/(1-beta) values: after a step from 0 to 1, it reaches 1 - 1/e after that many', () => {
    for (const beta of [0.9, 0.98, 0.99]) {
      const e = new Ewa(beta, { biasCorrection: false });
      for (let i = 0; i < 5000; i++) e.update(0);
      const window = Math.round(1 / (1 - beta));
      expect(e.window).toBeCloseTo(window, 9);
      for (let i = 0; i < window; i++) e.update(1);
      expect(e.value).toBeCloseTo(1 - 1 / Math.E, 1);
      // the weight of values older than the window is about 1/e
      expect(beta ** window).toBeGreaterThan(0.34);
      expect(beta ** window).toBeLessThan(0.37);
    }
  });

  it('update returns the corrected value by default, the raw one without bias correction', () => {
    const a = new Ewa(0.9);
    const b = new Ewa(0.9, { biasCorrection: false });
    expect(a.update(10)).toBeCloseTo(10, 12);
    expect(b.update(10)).toBeCloseTo(1, 12);
    expect(a.value).toBeCloseTo(1, 12);
    expect(new Ewa(0.9).corrected).toBe(0);
  });

  it('state/load continues identically', () => {
    const xs = Array.from({ length: 30 }, (_, i) => Math.sin(i) * 10 + i);
    const a = new Ewa(0.9);
    xs.slice(0, 12).forEach((x) => {
      a.update(x);
    });
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new Ewa(0.9);
    b.load(saved);
    for (const x of xs.slice(12)) expect(b.update(x)).toBe(a.update(x));
    expect(b.state()).toEqual(a.state());
  });

  it('rejects a bad beta (BAD_CONFIG) and a bad state (BAD_STATE)', () => {
    for (const beta of [1, -0.1, Number.NaN, 2]) {
      expect(() => new Ewa(beta)).toThrow(/beta/);
      try {
        new Ewa(beta);
      } catch (e) {
        expect(isGradroomError(e, 'BAD_CONFIG')).toBe(true);
      }
    }
    const e = new Ewa(0.9);
    const bad = [
      { beta: 0.5, t: 1, value: 1 },
      { beta: 0.9, t: -1, value: 1 },
      { beta: 0.9, t: 1.5, value: 1 },
      { beta: 0.9, t: 2, value: Number.NaN },
      { beta: 0.9, t: 0, value: 3 },
    ];
    for (const s of bad) {
      try {
        e.load(s);
        throw new Error(`accepted ${JSON.stringify(s)}`);
      } catch (err) {
        expect(isGradroomError(err, 'BAD_STATE'), String(err)).toBe(true);
      }
    }
  });
});

describe('ewaSeries', () => {
  it('London-style temperatures with beta 0.5, 0.9, 0.98: longer windows are smoother', () => {
    // a seasonal curve plus deterministic day-to-day noise
    const days = Array.from(
      { length: 365 },
      (_, d) => 10 - 8 * Math.cos((2 * Math.PI * d) / 365) + 3 * Math.sin(d * 12.9898),
    );
    const roughness = (ys: number[]) => ys.slice(1).reduce((s, y, i) => s + Math.abs(y - ys[i]), 0);
    const r = [0.5, 0.9, 0.98].map((beta) => roughness(ewaSeries(days, beta, true)));
    expect(r[0]).toBeLessThan(roughness(days));
    expect(r[1]).toBeLessThan(r[0]);
    expect(r[2]).toBeLessThan(r[1]);
  });

  it('matches a plain loop, raw and corrected; beta 0 returns the series itself', () => {
    const xs = [3, 1, 4, 1, 5, 9, 2, 6];
    const beta = 0.7;
    let v = 0;
    const raw: number[] = [];
    const corrected: number[] = [];
    xs.forEach((x, i) => {
      v = beta * v + (1 - beta) * x;
      raw.push(v);
      corrected.push(v / (1 - beta ** (i + 1)));
    });
    expect(ewaSeries(xs, beta, false)).toEqual(raw);
    ewaSeries(xs, beta, true).forEach((y, i) => {
      expect(y).toBeCloseTo(corrected[i], 12);
    });
    expect(ewaSeries(xs, 0, true)).toEqual(xs);
    expect(ewaSeries([], 0.9, true)).toEqual([]);
  });
});
