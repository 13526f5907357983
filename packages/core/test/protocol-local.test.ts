/** The wire messages of mode local and compressed updates: round trips, and fuzzed fields refused with typed errors. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUpdate, encodeUpdate } from '../src/compress.js';
import { GradroomError } from '../src/errors.js';
import { decodeMessage, encodeMessage } from '../src/protocol/codec.js';
import { updateFields, updateFrom } from '../src/protocol/mapping.js';
import { msg } from '../src/protocol/messages.js';

const local = () =>
  msg({
    type: 'local',
    round: 12,
    version: 12,
    indices: Uint32Array.from([5, 1, 9, 3, 2]),
    sizes: Uint32Array.from([3, 2]),
    lrs: Float32Array.from([0.01, 0.009]),
    inner: { kind: 'adam', lr: 0.01 },
    compress: 'int8',
  });

/** `m` is refused when sent, with an error matching `re`. */
const bad = (m: object, re: RegExp) => expect(() => encodeMessage(m as never)).toThrow(re);

describe('local messages', () => {
  it('round-trip with int8 and fp16 payloads', () => {
    expect(decodeMessage(encodeMessage(local()))).toEqual(local());
    const q = encodeUpdate(Float32Array.from([0.5, -1, 2, 0]), 'int8', 2);
    if (q.kind !== 'int8') throw new Error('int8 expected');
    const r = msg({
      type: 'local-result',
      round: 12,
      version: 12,
      q8: q.data,
      scales: q.scales,
      block: 2,
      lossSum: 3.5,
      correct: 2,
      count: 5,
      computeMs: 4,
      backend: 'wasm',
    });
    const back = decodeMessage(encodeMessage(r));
    expect(back).toEqual(r);
    // overlap: the round says a catch-up reached it, as a boolean
    const caught = { ...r, caughtUp: true };
    expect(decodeMessage(encodeMessage(caught))).toEqual(caught);
    expect(() => encodeMessage({ ...r, caughtUp: 1 } as never)).toThrow(/local-result.caughtUp must be true or false/);
    const h = encodeUpdate(Float32Array.from([0.5, -1]), 'fp16');
    const half = msg({
      type: 'local-result',
      round: 1,
      version: 1,
      half: h.data as Uint16Array,
      lossSum: 1,
      correct: 0,
      count: 1,
      computeMs: 1,
      backend: 'cpu',
    });
    expect(decodeMessage(encodeMessage(half))).toEqual(half);
  });

  it('a topk pseudo-gradient travels as its kept values, their places, keep and length, and decodes the same at the other end', () => {
    const v = Float32Array.from({ length: 600 }, (_, i) => Math.sin(i * 1.3) * (i % 17));
    const e = encodeUpdate(v, 'topk');
    const r = msg({
      type: 'local-result',
      round: 3,
      version: 3,
      ...updateFields(e, undefined),
      lossSum: 1,
      correct: 0,
      count: 8,
      computeMs: 1,
      backend: 'wasm',
    });
    expect(Object.keys(updateFields(e, undefined)).sort()).toEqual([
      'block',
      'keep',
      'places',
      'q8',
      'scales',
      'values',
    ]);
    const back = decodeMessage(encodeMessage(r));
    expect(back).toEqual(r);
    if (back.type !== 'local-result') throw new Error('local-result expected');
    const got = updateFrom(back);
    expect(got?.kind).toBe('topk');
    expect(decodeUpdate(got as NonNullable<typeof got>, 600)).toEqual(decodeUpdate(e, 600));
    // a room may ask for it
    const asked = { ...local(), compress: 'topk' as const };
    expect(decodeMessage(encodeMessage(asked))).toEqual(asked);
    bad({ ...local(), compress: 'top5' }, /local.compress must be one of 'none', 'fp16', 'int8', 'topk'/);
    // partial topk fields, or topk fields without values, are refused before anything is decoded
    const { places: _p, ...noPlaces } = r as unknown as Record<string, unknown>;
    bad(noPlaces, /topk: places, keep and values together, with q8, or none of them/);
    const { q8: _q, scales: _s, block: _b, ...noValues } = r as unknown as Record<string, unknown>;
    bad({ ...noValues, delta: new Float32Array(600) }, /topk: places, keep and values together, with q8/);
    bad({ ...r, places: Array.from((r as { places: Uint8Array }).places) }, /local-result.places must be a Uint8Array/);
    bad({ ...r, keep: 300 }, /local-result.keep must be/);
  });

  it('refuses inconsistent fields with a clear reason', () => {
    bad({ ...local(), sizes: Uint32Array.from([3, 3]) }, /local.sizes must be one entry per learning rate, adding up/);
    bad({ ...local(), inner: { kind: 'adam', lr: -1 } }, /local.inner must be a valid optimizer configuration/);
    bad({ ...local(), inner: { kind: 'eval', code: 'x' } }, /local.inner must be a valid optimizer configuration/);
    bad({ ...local(), compress: 'int4' }, /local.compress must be one of/);
    // overlap needs no mark: an early round starts from the weights as sent, like any other
    bad({ ...local(), eager: true }, /eager/);
    // an early group is marked as such (it takes the catch-up that will come), with a boolean
    const early = { ...local(), early: true };
    expect(decodeMessage(encodeMessage(early))).toEqual(early);
    bad({ ...local(), early: 1 }, /local.early must be true or false/);
    // the catch-up an early round is sent: int8 with one scale per block, nothing else
    const catchup = msg({
      type: 'catchup',
      round: 8,
      q8: Int8Array.from([1, -2, 3]),
      scales: Float32Array.from([0.5, 0.25]),
      block: 2,
    });
    expect(decodeMessage(encodeMessage(catchup))).toEqual(catchup);
    bad({ ...catchup, scales: Float32Array.from([0.5]) }, /catchup.scales must be one scale per block of q8/);
    bad({ ...catchup, round: -1 }, /catchup.round/);
    bad({ ...catchup, change: new Float32Array(3) }, /change/);
    bad(
      { ...local(), whalf: new Uint16Array(3) },
      /a weights change \(whalf or wq8\) with its baseVersion, or neither/,
    );
    bad({ ...local(), baseVersion: 3 }, /a weights change \(whalf or wq8\) with its baseVersion, or neither/);
    bad({ ...local(), baseVersion: 3, wq8: new Int8Array(3) }, /wq8 with its wscales and wblock/);
    bad({ ...local(), baseVersion: 3, whalf: new Uint16Array(3), wq8: new Int8Array(3) }, /at most one of whalf, wq8/);
    // a prefetch hint: a few example indices (one per chunk), nothing else
    const hinted = { ...local(), prefetch: Uint32Array.of(0, 1000, 5000) };
    expect(decodeMessage(encodeMessage(hinted))).toEqual(hinted);
    bad({ ...local(), prefetch: new Uint32Array(17) }, /local.prefetch must be at most 16 examples/);
    bad({ ...local(), prefetch: [1, 2] }, /local.prefetch must be/);
    // the warm start's own prefetch message: the same hint, alone
    const warm = msg({ type: 'prefetch', examples: Uint32Array.of(0, 1000, 5000) });
    expect(decodeMessage(encodeMessage(warm))).toEqual(warm);
    bad({ v: 3, type: 'prefetch', examples: new Uint32Array(17) }, /prefetch.examples must be at most 16 examples/);
    bad({ v: 3, type: 'prefetch', examples: [1, 2] }, /prefetch.examples must be/);
    bad({ v: 3, type: 'prefetch' }, /prefetch.examples/);
    const base = {
      v: 3,
      type: 'local-result',
      round: 1,
      version: 1,
      lossSum: 1,
      correct: 0,
      count: 1,
      computeMs: 1,
      backend: 'cpu',
    };
    bad(base, /exactly one of delta, half, q8 \(got none\)/);
    bad(
      { ...base, delta: new Float32Array(2), half: new Uint16Array(2) },
      /exactly one of delta, half, q8 \(got delta, half\)/,
    );
    bad({ ...base, q8: new Int8Array(2) }, /q8 with its scales and block/);
    bad({ ...base, delta: new Float32Array(2), correct: 2 }, /correct must be at most/);
  });

  it('fuzz: random field values are either accepted or refused with a GradroomError, never thrown otherwise', () => {
    const value = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.constant(undefined),
      fc.constant(null),
      fc.uint8Array({ maxLength: 8 }).map((b) => new Int8Array(b.buffer)),
      fc.uint32Array({ maxLength: 8 }),
      fc.float32Array({ maxLength: 8 }),
      fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 8 }).map((a) => Uint16Array.from(a)),
      fc.record({ kind: fc.constantFrom('sgd', 'adam', 'momentum', 'nope'), lr: fc.double() }),
    );
    const fields = [
      'round',
      'version',
      'indices',
      'sizes',
      'lrs',
      'inner',
      'compress',
      'delta',
      'half',
      'q8',
      'scales',
      'block',
      'lossSum',
      'correct',
      'count',
      'baseVersion',
      'whalf',
      'wq8',
      'wscales',
      'wblock',
      'places',
      'keep',
      'values',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom('local', 'local-result'),
        fc.dictionary(fc.constantFrom(...fields), value),
        (type, extra) => {
          const m = {
            ...(type === 'local'
              ? local()
              : {
                  v: 3,
                  type,
                  round: 1,
                  version: 1,
                  lossSum: 1,
                  correct: 0,
                  count: 1,
                  computeMs: 1,
                  backend: 'cpu',
                  delta: new Float32Array(1),
                }),
            ...extra,
          };
          try {
            const bytes = encodeMessage(m as never);
            expect(decodeMessage(bytes).type).toBe(type);
          } catch (e) {
            expect(e).toBeInstanceOf(GradroomError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
