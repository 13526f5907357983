import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { decodeMessage, encodeMessage, scanMsgpack } from '../src/protocol/codec.js';
import type { Message, TaskSpec } from '../src/protocol/messages.js';
import { DEFAULT_CODEC_LIMITS, validateMessage } from '../src/protocol/validate.js';

const task: TaskSpec = {
  model: { kind: 'mlp', inputShape: [784], hidden: [16], classes: 10, activation: 'relu' },
  dataset: { kind: 'synthetic', seed: 7, examples: 1000, features: 784, classes: 10, split: 'train' },
  layout: [
    { name: 'd1/kernel', shape: [784, 16] },
    { name: 'd1/bias', shape: [16] },
    { name: 'out/kernel', shape: [16, 10] },
    { name: 'out/bias', shape: [10] },
  ],
  paramCount: 784 * 16 + 16 + 160 + 10,
};

function samples(): Message[] {
  return [
    { v: 3, type: 'hello', token: 'room-token', name: 'tab 1', backends: ['wasm', 'webgl'] },
    { v: 3, type: 'welcome', peerId: 'p1', task },
    {
      v: 3,
      type: 'task',
      task: {
        ...task,
        model: {
          kind: 'layers',
          topology: { class_name: 'Sequential', config: { layers: [{ units: 3 }] } },
          classes: 3,
        },
        dataset: { kind: 'mnist', split: 'test' },
      },
    },
    { v: 3, type: 'weights', version: 3, weights: Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i)) },
    { v: 3, type: 'assign', iteration: 4, version: 3, shardId: 2, indices: Uint32Array.from([5, 9, 0xffffffff]) },
    {
      v: 3,
      type: 'result',
      iteration: 4,
      version: 3,
      shardId: 2,
      gradSum: Float32Array.from({ length: 100_000 }, (_, i) => Math.cos(i) * 1e-3),
      lossSum: 12.25,
      correct: 7,
      count: 16,
      computeMs: 3.5,
      backend: 'wasm',
    },
    { v: 3, type: 'heartbeat', t: 123456.5, echo: 42 },
    { v: 3, type: 'heartbeat', t: 1 },
    { v: 3, type: 'leave', reason: 'tab closed' },
    { v: 3, type: 'error', code: 'BAD_LENGTH', message: 'gradient has 99 values, expected 100' },
  ];
}

/** Runs fn and returns the GradroomError it must throw; anything else fails the test. */
function gradroomError(fn: () => unknown): GradroomError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradroomError) return e;
    throw new Error(`expected a GradroomError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected a GradroomError, nothing was thrown');
}

/** Decoding untrusted bytes: a valid message or a GradroomError, nothing else. */
function decodeOrError(bytes: Uint8Array): Message | GradroomError {
  try {
    return decodeMessage(bytes);
  } catch (e) {
    if (e instanceof GradroomError) return e;
    throw new Error(`decode threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

const raw = new Packr({ moreTypes: true, useRecords: false });

describe('round trip', () => {
  it.each(samples().map((m) => [m.type, m] as const))('%s', (_, msg) => {
    const bytes = encodeMessage(msg);
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    const back = decodeMessage(bytes);
    expect(back).toEqual(msg);
    for (const [k, v] of Object.entries(msg)) {
      if (!ArrayBuffer.isView(v)) continue;
      const got = (back as unknown as Record<string, unknown>)[k];
      expect(Object.getPrototypeOf(got)).toBe(Object.getPrototypeOf(v));
      const typed = got as Float32Array | Uint32Array;
      expect(typed.byteOffset % 4).toBe(0);
      // Decoded arrays own their memory: scribbling on the input does not change them.
      const before = typed[0];
      bytes.fill(0);
      expect(typed[0]).toBe(before);
    }
  });

  it('keeps a 1M-float gradient binary and exact', () => {
    const gradSum = new Float32Array(1 << 20);
    for (let i = 0; i < gradSum.length; i++) gradSum[i] = (i % 977) * 1e-4 - 0.03;
    const msg: Message = {
      v: 3,
      type: 'result',
      ...{
        iteration: 1,
        version: 1,
        shardId: 0,
        gradSum,
        lossSum: 1,
        correct: 0,
        count: 1,
        computeMs: 0,
        backend: 'cpu',
      },
    };
    const bytes = encodeMessage(msg);
    expect(bytes.length).toBeLessThan(gradSum.byteLength + 200);
    // A big message gets its own buffer (safe to transfer), at offset 0.
    expect(bytes.byteOffset).toBe(0);
    const other = encodeMessage(samples()[0]);
    expect(other.buffer).not.toBe(bytes.buffer);
    const back = decodeMessage(bytes);
    expect(back.type === 'result' && back.gradSum).toEqual(gradSum);
  });

  it('never hands out two results sharing memory', () => {
    const a = encodeMessage(samples()[0]);
    const copy = a.slice();
    const b = encodeMessage(samples()[8]);
    expect(a.buffer).not.toBe(b.buffer);
    expect(a).toEqual(copy);
  });

  it('keeps integers up to 2^53 and large floats exact', () => {
    for (const n of [2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const m: Message = { v: 3, type: 'assign', iteration: n, version: n, shardId: n, indices: new Uint32Array(1) };
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }
    const h: Message = { v: 3, type: 'heartbeat', t: -(2 ** 60), echo: 0.1 };
    expect(decodeMessage(encodeMessage(h))).toEqual(h);
  });

  it('drops undefined optional fields', () => {
    const back = decodeMessage(encodeMessage({ v: 3, type: 'heartbeat', t: 5, echo: undefined }));
    expect(back).toEqual({ v: 3, type: 'heartbeat', t: 5 });
    expect(Object.keys(back)).not.toContain('echo');
  });

  it('refuses to encode an invalid message or one past the limit', () => {
    const bad = { v: 3, type: 'heartbeat', t: Number.NaN } as Message;
    expect(gradroomError(() => encodeMessage(bad)).code).toBe('BAD_MESSAGE');
    const e = gradroomError(() => encodeMessage(samples()[5], { maxMessageBytes: 1000 }));
    expect(e.code).toBe('TOO_LARGE');
  });
});

describe('decode limits', () => {
  it('rejects oversized input before decoding it', () => {
    const big = encodeMessage(samples()[5]);
    expect(gradroomError(() => decodeMessage(big, { maxMessageBytes: big.length - 1 })).code).toBe('TOO_LARGE');
    expect(decodeMessage(big, { maxMessageBytes: big.length }).type).toBe('result');
    // Garbage is refused on size alone, before anything looks at it.
    const junk = new Uint8Array(DEFAULT_CODEC_LIMITS.maxMessageBytes + 1).fill(0xc1);
    expect(gradroomError(() => decodeMessage(junk)).code).toBe('TOO_LARGE');
  });

  it('rejects non-Uint8Array input', () => {
    expect(gradroomError(() => decodeMessage('hello' as unknown as Uint8Array)).code).toBe('BAD_MESSAGE');
  });

  // Each of these is a tiny input whose header claims a huge length, or a msgpackr feature our
  // protocol never uses. All must fail fast with BAD_MESSAGE, without allocating what they claim.
  const u32 = [0xff, 0xff, 0xff, 0xff];
  const crafted: [string, number[], RegExp][] = [
    ['array32 of 2^32-1', [0xdd, ...u32], /array runs past the end/],
    ['array32 inside a map', [0x81, 0xa1, 0x61, 0xdd, ...u32, 0], /array runs past/],
    ['map32 of 2^32-1', [0xdf, ...u32], /map runs past the end/],
    ['str32 of 4 GiB', [0xdb, ...u32, 0x61], /exceeds/],
    ['str16 past the end', [0xda, 0x10, 0x00, 0x61], /string runs past/],
    ['bin32 of 4 GiB', [0xc6, ...u32, 1, 2], /binary runs past/],
    ['ext32 of 4 GiB', [0xc9, ...u32, 0x74, 7, 0, 0, 0, 0], /extension runs past/],
    ['Float32Array of 5 bytes', [0xc7, 6, 0x74, 7, 1, 2, 3, 4, 5], /not a multiple of 4/],
    ['Float64Array', [0xc7, 9, 0x74, 8, 1, 2, 3, 4, 5, 6, 7, 8], /typed array code 8/],
    ['undefined (ext 0)', [0xd4, 0, 0], /extension type 0/],
    ['timestamp (ext -1)', [0xd6, 0xff, 0, 0, 0, 0], /extension type 255/],
    ['record definition (ext r)', [0xd4, 0x72, 0x40], /extension type 114/],
    ['structured-clone pointer (ext p)', [0xd6, 0x70, 0, 0, 0, 1], /extension type 112/],
    ['big int (ext B)', [0xc7, 8, 0x42, 1, 2, 3, 4, 5, 6, 7, 8], /extension type 66/],
    ['reserved byte 0xc1', [0xc1], /not a msgpack type/],
    ['trailing bytes', [0x90, 0x90], /trailing/],
    ['empty input', [], /runs past the end/],
    ['integer map key', [0x81, 0x01, 0x02], /keys must be strings/],
    ['array map key', [0x81, 0x91, 0x01, 0x02], /keys must be strings/],
    ['truncated float64', [0xcb, 0, 0, 0], /number runs past/],
    ['deep nesting', new Array(100_000).fill(0x91), /nesting deeper than 32/],
    ['too many values', [0xdd, 0x00, 0x03, 0x0d, 0x40, ...new Array(200_000).fill(0)], /more than 100000 values/],
  ];
  it.each(crafted)('%s', (_, bytes, why) => {
    const t0 = performance.now();
    const e = gradroomError(() => decodeMessage(Uint8Array.from(bytes)));
    expect(performance.now() - t0).toBeLessThan(200);
    expect(e.code).toBe('BAD_MESSAGE');
    expect(e.message).toMatch(why);
  });

  it('renames nothing onto prototypes: __proto__ keys are inert', () => {
    const bytes = encodeMessage({ v: 3, type: 'heartbeat', t: 1 });
    expect(bytes[0]).toBe(0x83); // a fixmap of 3 entries
    // Splice a '__proto__': {} entry in by hand (map header count + 1).
    const key = [0xa9, ...new TextEncoder().encode('__proto__'), 0x80];
    const evil = Uint8Array.from([bytes[0] + 1, ...key, ...bytes.subarray(1)]);
    const e = gradroomError(() => decodeMessage(evil));
    expect(e.message).toMatch(/unknown field/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('scanMsgpack accepts exactly what msgpackr produces for our messages', () => {
    for (const m of samples()) expect(() => scanMsgpack(encodeMessage(m), DEFAULT_CODEC_LIMITS)).not.toThrow();
  });

  it('still decodes correctly after rejecting garbage', () => {
    for (const [, bytes] of crafted) decodeOrError(Uint8Array.from(bytes));
    for (const m of samples()) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });
});

describe('fuzz', () => {
  const encoded = samples().map((m) => encodeMessage(m));
  const anyEncoded = fc.constantFrom(...encoded);

  /** Everything decoded from garbage must still be a message that validates. */
  function check(bytes: Uint8Array): void {
    const r = decodeOrError(bytes);
    if (!(r instanceof GradroomError)) expect(validateMessage(r)).toBe(r);
  }

  it('random bytes never crash the decoder', () => {
    const t0 = performance.now();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => check(b)),
      { numRuns: 3000 },
    );
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('random bytes behind a valid-looking prefix never crash the decoder', () => {
    // Starting with a fixmap and the 'v' key gets the random part past the first byte's checks.
    const prefix = fc.constantFrom([0x84, 0xa1, 0x76, 0x01], [0xde, 0x00, 0x05], [0x8b, 0xa4, 0x74, 0x79, 0x70, 0x65]);
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 512 }), (p, b) => check(Uint8Array.from([...p, ...b]))),
      { numRuns: 3000 },
    );
  });

  it('every truncation of a valid message is rejected', () => {
    for (const bytes of encoded) {
      const cut = bytes.length > 2000 ? [0, 1, 2, 5, 17, 100, 1000, bytes.length - 1] : [...bytes.keys()];
      for (const n of cut) expect(gradroomError(() => decodeMessage(bytes.subarray(0, n))).code).toBe('BAD_MESSAGE');
    }
  });

  it('bit-flipped valid messages decode to a valid message or a GradroomError', () => {
    fc.assert(
      fc.property(
        anyEncoded,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }),
        (bytes, flips) => {
          // Flips land in the first 64 bytes (the structure) half the time, anywhere otherwise.
          const b = bytes.slice();
          for (const [at, bit] of flips) {
            const i = at % 2 === 0 ? at % Math.min(64, b.length) : at % b.length;
            b[i] ^= 1 << bit;
          }
          check(b);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('overwritten bytes and inserted length headers never crash the decoder', () => {
    const header = fc.constantFrom(
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0xdf, 0x7f, 0xff, 0xff, 0xff],
      [0xdb, 0xff, 0xff, 0xff, 0xf0],
      [0xc9, 0x80, 0, 0, 0, 0x74, 7],
      [0xdc, 0xff, 0xff],
      [0x9f],
    );
    fc.assert(
      fc.property(anyEncoded, fc.nat(), header, (bytes, at, h) => {
        const i = at % bytes.length;
        check(Uint8Array.from([...bytes.subarray(0, i), ...h, ...bytes.subarray(i, Math.min(bytes.length, i + 300))]));
        const over = bytes.slice();
        over.set(h.slice(0, over.length - i), i);
        check(over);
      }),
      { numRuns: 2000 },
    );
  });

  it('any msgpack value other than a valid message is a BAD_MESSAGE', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withTypedArray: true,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
        }),
        (value) => {
          let bytes: Uint8Array;
          try {
            bytes = raw.pack(value);
          } catch {
            return; // msgpackr cannot pack it; nothing to decode
          }
          const r = decodeOrError(Uint8Array.from(bytes));
          expect(r).toBeInstanceOf(GradroomError);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('valid messages with one field replaced decode to a valid message or a GradroomError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples()),
        fc.nat(),
        fc.anything({ withTypedArray: true, maxDepth: 3 }),
        (msg, k, value) => {
          const keys = Object.keys(msg);
          const mutated = { ...msg, [keys[k % keys.length]]: value };
          let bytes: Uint8Array;
          try {
            bytes = raw.pack(mutated);
          } catch {
            return;
          }
          check(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
