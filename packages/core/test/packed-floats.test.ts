/**
 * Exact mode's lossless packing (packed-floats.ts): the bits come back exactly, for any float32
 * values and any base; the sizes match the byte planes' content; a malformed form is refused,
 * naming what is wrong, before anything is allocated from it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { sfc32 } from '../src/prng.js';
import { checkPacked, packFloats, unpackFloats } from '../src/protocol/packed-floats.js';

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
/** Float32 values from raw bits: every pattern, NaN payloads, -0, subnormals and infinities included. */
const fromBits = (u: number[]) => new Float32Array(Uint32Array.from(u).buffer);

describe('packFloats / unpackFloats', () => {
  it('give back every bit of any float32 vector, with or without a base (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 300 }),
        (a, b) => {
          const values = fromBits(a);
          expect(bits(unpackFloats(packFloats(values)))).toEqual(bits(values));
          const base = fromBits(a.map((_, i) => b[i % Math.max(1, b.length)] ?? 0));
          const back = unpackFloats(packFloats(values, base), base);
          expect(bits(back)).toEqual(bits(values));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keep the special values: -0, NaN with a payload, subnormals, ±Infinity', () => {
    const v = fromBits([0x80000000, 0x7fc00001, 0x00000001, 0x7f800000, 0xff800000, 0x3f800000, 0]);
    expect(bits(unpackFloats(packFloats(v)))).toEqual(bits(v));
    expect(bits(unpackFloats(packFloats(v, v), v))).toEqual(bits(v));
  });

  it('pack a small step of the weights to well under the float32 bytes, and zeros to a bitmap', () => {
    const n = 10_000;
    const r = sfc32(7);
    const rnd = () => r.next();
    const w = Float32Array.from({ length: n }, () => (rnd() - 0.5) * 0.2);
    // one optimizer step: each value moves by about 0.1 % of itself (Adam at lr 0.005 on weights ~0.05)
    const next = w.map((x) => x * (1 + (rnd() - 0.5) * 2e-3));
    const change = packFloats(next, w);
    expect(change.length / (4 * n)).toBeLessThan(0.6);
    expect(bits(unpackFloats(change, w))).toEqual(bits(next));
    // nothing changed: four bitmaps of zeros and the header
    expect(packFloats(w, w).length).toBe(9 + 4 * Math.ceil(n / 8));
    // a gradient sum where most rows are zero (background pixels, silent units)
    const g = Float32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? rnd() - 0.5 : 0));
    expect(packFloats(g).length).toBeLessThan(0.4 * 4 * n);
    // values with no structure cost at most the header more than float32
    const noise = fromBits(Array.from({ length: n }, () => Math.floor(rnd() * 2 ** 32)));
    expect(packFloats(noise).length).toBe(9 + 4 * n);
  });

  it('refuse a base of another length', () => {
    const a = new Float32Array(5);
    expect(() => packFloats(a, new Float32Array(4))).toThrow(/base has 4 values, not 5/);
    expect(() => unpackFloats(packFloats(a), new Float32Array(4))).toThrow(/5 values against a base of 4/);
  });
});

describe('checkPacked', () => {
  const good = packFloats(Float32Array.from({ length: 21 }, (_, i) => (i % 3 === 0 ? i : 0)));
  const reason = (p: Uint8Array, max = 1000) => {
    try {
      checkPacked(p, max);
      return 'passed';
    } catch (e) {
      expect(e).toBeInstanceOf(GradroomError);
      expect((e as GradroomError).code).toBe('BAD_MESSAGE');
      return (e as Error).message;
    }
  };
  const edit = (f: (p: Uint8Array) => void, from = good) => {
    const p = from.slice();
    f(p);
    return p;
  };

  it('passes the packer’s own form and says how many values it holds', () => {
    expect(checkPacked(good, 21)).toBe(21);
    expect(checkPacked(packFloats(new Float32Array(0)), 0)).toBe(0);
  });

  it('refuses each kind of malformed form, naming it', () => {
    expect(reason(good.subarray(0, 5))).toMatch(/5 bytes, shorter than the 9-byte header/);
    expect(reason(edit((p) => (p[0] = 2)))).toMatch(/format 2 is not 1/);
    expect(reason(good, 20)).toMatch(/21 values, more than 20/);
    // a huge count with no bytes behind it is refused before anything is allocated
    expect(
      reason(
        edit((p) => new DataView(p.buffer).setUint32(1, 2 ** 31, true)),
        2 ** 31,
      ),
    ).toMatch(/bitmap runs past the end|bytes where its planes take/);
    expect(reason(edit((p) => (p[5] = 7)))).toMatch(/plane 0 is of kind 7/);
    expect(reason(good.subarray(0, good.length - 1))).toMatch(/bitmap runs past the end|bytes where its planes take/);
    expect(reason(Uint8Array.from([...good, 0]))).toMatch(/bytes where its planes take/);
    // 21 values: the bitmap's last byte may use its 5 low bits only
    const sparse = [...good.subarray(5, 9)].indexOf(1);
    expect(sparse).toBeGreaterThanOrEqual(0);
    let at = 9;
    for (let p = 0; p < sparse; p++) at += good[5 + p] === 0 ? 21 : 0; // planes before it are raw here
    expect(reason(edit((p) => (p[at + 2] |= 0x80)))).toMatch(/marks values past 21/);
  });
});
