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
  TOPK_BLOCK,
  TOPK_KEEP,
  toHalf,
  topkCount,
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

/** An update that arrived either decodes to finite values or is refused with a GradroomError. */
function decodesOrRefuses(e: EncodedUpdate, length: number): void {
  try {
    expect(decodeUpdate(e, length).every(Number.isFinite)).toBe(true);
  } catch (err) {
    expect((err as Error).name).toBe('GradroomError');
  }
}

describe('topk: the largest of each block, int8, with their places', () => {
  type Topk = Extract<EncodedUpdate, { kind: 'topk' }>;
  it('keeps exactly the TOPK_KEEP largest of each block (a sort is the reference), each within half a quantum, the rest zero', () => {
    const n = 2 * TOPK_BLOCK + 44; // a short last block: 44 values, more than TOPK_KEEP
    const v = randomVector(n, 11);
    const e = encodeUpdate(v, 'topk') as Topk;
    expect(e.index.length).toBe(3 * TOPK_KEEP);
    const d = decodeUpdate(e, n);
    for (let b = 0; b * TOPK_BLOCK < n; b++) {
      const start = b * TOPK_BLOCK;
      const end = Math.min(n, start + TOPK_BLOCK);
      const order = Array.from({ length: end - start }, (_, i) => start + i).sort(
        (x, y) => Math.abs(v[y]) - Math.abs(v[x]),
      );
      const kept = new Set(order.slice(0, TOPK_KEEP));
      const scale = Math.abs(v[order[0]]) / 127;
      for (let i = start; i < end; i++) {
        if (kept.has(i)) expect(Math.abs(d[i] - v[i])).toBeLessThanOrEqual(scale / 2 + 1e-7);
        else expect(d[i]).toBe(0);
      }
    }
  });

  it('a block shorter than TOPK_KEEP keeps all its values; 17x fewer bytes than float32', () => {
    const v = randomVector(TOPK_KEEP - 3, 12);
    const d = decodeUpdate(encodeUpdate(v, 'topk'), v.length);
    expect(d.every((x) => x !== 0)).toBe(true);
    expect(topkCount(TOPK_BLOCK + 5, TOPK_BLOCK, TOPK_KEEP)).toBe(TOPK_KEEP + 5);
    const big = randomVector(101_770, 13);
    expect((big.length * 4) / encodedBytes(encodeUpdate(big, 'topk'))).toBeGreaterThanOrEqual(16);
  });

  it('refuses counts that disagree, places out of order or outside a block, bad scales, and a keep over the block', () => {
    const n = TOPK_BLOCK + 40;
    const ok = () => encodeUpdate(randomVector(n, 14), 'topk') as Topk;
    expect(() => decodeUpdate(ok(), n - 1)).toThrow(/for 296 values \(expected 56, 56 and 2 for 295\)/);
    expect(() => decodeUpdate({ ...ok(), index: ok().index.subarray(1) }, n)).toThrow(/55 places, 56 values/);
    const repeated = ok();
    repeated.index[5] = repeated.index[4]; // one place twice: a value counted twice
    expect(() => decodeUpdate(repeated, n)).toThrow(/block 0 names place \d+ after \d+/);
    const outside = ok();
    outside.index[2 * TOPK_KEEP - 1] = 40; // the last block holds 40 values: places 0..39
    expect(() => decodeUpdate(outside, n)).toThrow(/block 1 names place 40 after \d+ \(block of 40\)/);
    const nan = ok();
    nan.scales[1] = Number.NaN;
    expect(() => decodeUpdate(nan, n)).toThrow(/topk update: scale 1 is NaN/);
    const huge = ok();
    huge.scales[0] = 1e38;
    expect(() => decodeUpdate(huge, n)).toThrow(/topk update: scale 0 is [0-9.e+]+, over 2.679e\+36/);
    expect(() => decodeUpdate({ ...ok(), keep: TOPK_BLOCK + 1 }, n)).toThrow(/keep <= block <= 256/);
    expect(() => decodeUpdate({ ...ok(), block: 512 }, n)).toThrow(/keep <= block <= 256/);
  });

  it('fuzz: any topk payload either decodes to finite values or is refused with a GradroomError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: -1, max: 300 }),
        fc.integer({ min: -1, max: 40 }),
        fc.integer({ min: 0, max: 120 }),
        fc.array(fc.float(), { maxLength: 5 }),
        fc.integer({ min: 1, max: 97 }),
        (len, block, keep, kept, scales, step) => {
          const e: EncodedUpdate = {
            kind: 'topk',
            length: len,
            block,
            keep,
            index: new Uint8Array(kept).map((_, i) => (i * step) & 0xff),
            data: new Int8Array(kept).map((_, i) => (i * 31) % 127),
            scales: Float32Array.from(scales),
          };
          decodesOrRefuses(e, len);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('with error feedback nothing is lost: what was sent tracks the true sum, where plain topk drops most of it', () => {
    const n = 1024;
    const ef = new ErrorFeedback(n, 'topk');
    const trueSum = new Float64Array(n);
    const sentSum = new Float64Array(n);
    const plainSum = new Float64Array(n);
    const worstAt = (sum: Float64Array) => {
      let w = 0;
      for (let i = 0; i < n; i++) w = Math.max(w, Math.abs(trueSum[i] - sum[i]));
      return w;
    };
    let at200 = 0;
    for (let step = 0; step < 1000; step++) {
      // a steady drift in every value (what an optimizer's steps add up to) plus noise
      const u = randomVector(n, 300 + step, 0.01);
      for (let i = 0; i < n; i++) u[i] += 0.002 * Math.sin(i);
      const d = decodeUpdate(ef.encode(u), n);
      const p = decodeUpdate(encodeUpdate(u, 'topk'), n);
      for (let i = 0; i < n; i++) {
        trueSum[i] += u[i];
        sentSum[i] += d[i];
        plainSum[i] += p[i];
      }
      if (step === 199) at200 = worstAt(sentSum);
    }
    const withFeedback = worstAt(sentSum);
    // the residual is bounded: no growth from step 200 to 1,000
    expect(withFeedback).toBeLessThan(1.5 * at200);
    // without feedback the drift in the values never kept is lost, and grows with the steps
    expect(worstAt(plainSum)).toBeGreaterThan(5 * withFeedback);
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
          decodesOrRefuses(e, len);
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
