/** Compressed updates: fp16 and int8 codecs against float64 references, and error feedback over 1,000 steps. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeUpdate,
  type EncodedUpdate,
  ErrorFeedback,
  encodedBytes,
  encodeUpdate,
  fromHalf,
  toHalf,
} from '../src/compress.js';
import { rngFor, STREAM } from '../src/prng.js';

function randomVector(n: number, seed: number, scale = 1): Float32Array {
  const rng = rngFor(seed, STREAM.data, 7);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal() * scale;
  return v;
}

describe('fp16', () => {
  it('round-trips exactly representable values and rounds others to nearest', () => {
    for (const x of [0, 1, -2, 0.5, 65504, -65504, 2 ** -24, 1.5, 1023.5]) expect(fromHalf(toHalf(x))).toBe(x);
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to even (1)
    expect(fromHalf(toHalf(1 + 2 ** -11))).toBe(1);
    expect(fromHalf(toHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(fromHalf(toHalf(1e6))).toBe(Number.POSITIVE_INFINITY);
  });

  it('decodeUpdate gives each of the 65,536 halves the value fromHalf gives it, and refuses Inf and NaN', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
    const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00);
    const out = decodeUpdate({ kind: 'fp16', length: finite.length, data: finite }, finite.length);
    for (let i = 0; i < finite.length; i++) expect(out[i]).toBe(fromHalf(finite[i]));
    for (const h of [0x7c00, 0xfc00, 0x7e00, 0x7c01]) {
      const data = Uint16Array.of(0, h);
      expect(() => decodeUpdate({ kind: 'fp16', length: 2, data }, 2)).toThrow(
        /fp16 update holds (-?Infinity|NaN) at index 1/,
      );
    }
  });

  it('relative error stays within half an ulp (2^-11) over the normal range', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -14, max: 65000, noNaN: true }), (x) => {
        const y = fromHalf(toHalf(x));
        expect(Math.abs(y - Math.fround(x)) / Math.fround(x)).toBeLessThanOrEqual(2 ** -11 + 1e-12);
      }),
      { numRuns: 5000 },
    );
  });

  it('an update takes half the bytes, and values beyond 65504 are clamped, not Inf', () => {
    const v = randomVector(1000, 1);
    v[3] = 1e9;
    const e = encodeUpdate(v, 'fp16');
    expect(encodedBytes(e)).toBe(2000);
    expect(decodeUpdate(e, 1000)[3]).toBe(65504);
  });
});

describe('int8 with a scale per block', () => {
  it('each value is within half a quantum of its block (max |x| / 127 / 2)', () => {
    const v = randomVector(1000, 2, 3);
    const e = encodeUpdate(v, 'int8', 256);
    const d = decodeUpdate(e, 1000);
    for (let b = 0; b < 4; b++) {
      let max = 0;
      for (let i = b * 256; i < Math.min(1000, (b + 1) * 256); i++) max = Math.max(max, Math.abs(v[i]));
      for (let i = b * 256; i < Math.min(1000, (b + 1) * 256); i++)
        expect(Math.abs(d[i] - v[i])).toBeLessThanOrEqual((max / 127) * 0.5 * (1 + 1e-6));
    }
    expect(encodedBytes(e)).toBe(1000 + 4 * 4);
  });

  it('a zero block decodes to zeros', () => {
    const d = decodeUpdate(encodeUpdate(new Float32Array(300), 'int8'), 300);
    expect(d.every((x) => x === 0)).toBe(true);
  });
});

describe('validation of updates that arrive', () => {
  const ok = (): EncodedUpdate => encodeUpdate(randomVector(300, 3), 'int8', 128);
  it('refuses wrong lengths, incomplete blocks, bad scales and non-finite halves', () => {
    expect(() => decodeUpdate(ok(), 299)).toThrow(/expected 299/);
    const short = ok() as Extract<EncodedUpdate, { kind: 'int8' }>;
    expect(() => decodeUpdate({ ...short, scales: short.scales.subarray(1) }, 300)).toThrow(
      /2 scales for 300 values in blocks of 128/,
    );
    const scales = short.scales.slice();
    scales[1] = Number.NaN;
    expect(() => decodeUpdate({ ...short, scales }, 300)).toThrow(/scale 1 is NaN/);
    scales[1] = -1;
    expect(() => decodeUpdate({ ...short, scales }, 300)).toThrow(/scale 1 is -1/);
    expect(() => decodeUpdate({ ...short, block: 0 }, 300)).toThrow(/blocks of 0/);
    const half = encodeUpdate(randomVector(10, 4), 'fp16') as Extract<EncodedUpdate, { kind: 'fp16' }>;
    half.data[2] = 0x7c00; // +Inf
    expect(() => decodeUpdate(half, 10)).toThrow(/fp16 update holds Infinity at index 2/);
  });

  it('fuzz: any int8 or fp16 payload either decodes to finite values or is refused with a GradroomError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: -2, max: 40 }),
        fc.array(fc.float(), { maxLength: 5 }),
        fc.boolean(),
        (len, dataLen, block, scales, half) => {
          const e: EncodedUpdate = half
            ? { kind: 'fp16', length: len, data: new Uint16Array(dataLen).map((_, i) => (i * 7919) & 0xffff) }
            : {
                kind: 'int8',
                length: len,
                block,
                data: new Int8Array(dataLen).map((_, i) => (i * 31) % 127),
                scales: Float32Array.from(scales),
              };
          try {
            const d = decodeUpdate(e, len);
            expect(d.every(Number.isFinite)).toBe(true);
          } catch (err) {
            expect((err as Error).name).toBe('GradroomError');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('error feedback', () => {
  for (const kind of ['fp16', 'int8'] as const) {
    it(`${kind}: over 1,000 steps the sum of what was sent tracks the sum of true updates within one quantum`, () => {
      const n = 512;
      const ef = new ErrorFeedback(n, kind, 128);
      const trueSum = new Float64Array(n);
      const sentSum = new Float64Array(n);
      let lastQuantum = 0;
      for (let step = 0; step < 1000; step++) {
        const u = randomVector(n, 100 + step, 0.01 * (1 + (step % 7)));
        const e = ef.encode(u);
        const d = decodeUpdate(e, n);
        for (let i = 0; i < n; i++) {
          trueSum[i] += u[i];
          sentSum[i] += d[i];
        }
        if (e.kind === 'int8') lastQuantum = Math.max(...e.scales);
        else lastQuantum = 2 ** -10 * Math.max(...Array.from(d, Math.abs));
      }
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(trueSum[i] - sentSum[i]));
      // without feedback the error would grow like sqrt(steps) quanta; with it, it stays under one
      expect(worst).toBeLessThanOrEqual(lastQuantum);
      // and it is not zero: something really was rounded
      expect(worst).toBeGreaterThan(0);
    });
  }
});
