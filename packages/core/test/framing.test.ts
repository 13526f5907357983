import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { decodeMessage, encodeMessage } from '../src/protocol/codec.js';
import {
  FRAME_HEADER_BYTES,
  frameMessage,
  InFlightLimitError,
  Reassembler,
  ReassemblyBudget,
  WEBRTC_MAX_MESSAGE_BYTES,
} from '../src/protocol/framing.js';
import type { Message } from '../src/protocol/messages.js';

const bytesOf = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);

/** Byte equality; much faster than toEqual on megabytes. */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A chunk with a hand-written header. */
function chunk(h: { id?: number; index: number; count: number; total: number }, payload: number, magic = 0x47) {
  const c = new Uint8Array(FRAME_HEADER_BYTES + payload);
  const v = new DataView(c.buffer);
  c[0] = magic;
  c[1] = 1;
  v.setUint32(4, h.id ?? 0);
  v.setUint32(8, h.index);
  v.setUint32(12, h.count);
  v.setUint32(16, h.total);
  return c;
}

function errorOf(fn: () => unknown): GradroomError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradroomError) return e;
    throw e;
  }
  throw new Error('nothing thrown');
}

describe('frameMessage + Reassembler', () => {
  it('frame then reassemble is the identity, in any chunk order, for any size and chunk size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: FRAME_HEADER_BYTES + 1, max: 700 }),
        fc.nat(),
        fc.integer(),
        (n, max, id, seed) => {
          const msg = bytesOf(n, seed);
          const chunks = frameMessage(msg, id >>> 0, max);
          expect(chunks.length).toBe(Math.max(1, Math.ceil(n / (max - FRAME_HEADER_BYTES))));
          for (const c of chunks) expect(c.length).toBeLessThanOrEqual(max);
          // Shuffle with a seeded Fisher-Yates.
          let s = seed >>> 0;
          for (let i = chunks.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            const j = s % (i + 1);
            [chunks[i], chunks[j]] = [chunks[j], chunks[i]];
          }
          const r = new Reassembler({ maxMessageBytes: 5000, maxChunkBytes: max });
          for (const c of chunks.slice(0, -1)) expect(r.push(c)).toBeNull();
          const out = r.push(chunks[chunks.length - 1]);
          expect(out !== null && same(out, msg)).toBe(true);
          expect(r.pendingMessages).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reassembles interleaved messages', () => {
    const a = bytesOf(1000, 1);
    const b = bytesOf(700, 2);
    const ca = frameMessage(a, 1, 120);
    const cb = frameMessage(b, 2, 120);
    const r = new Reassembler({ maxMessageBytes: 1000, maxChunkBytes: 120 });
    const out: Uint8Array[] = [];
    for (let i = 0; i < Math.max(ca.length, cb.length); i++) {
      for (const c of [ca[i], cb[i]]) {
        const m = c && r.push(c);
        if (m) out.push(m);
      }
    }
    expect(out).toEqual([b, a]);
  });

  it('keeps every chunk of a 4 MB message within the WebRTC limit', () => {
    const msg = bytesOf(4 * 1024 * 1024 + 77);
    const chunks = frameMessage(msg, 9, WEBRTC_MAX_MESSAGE_BYTES);
    expect(Math.max(...chunks.map((c) => c.length))).toBe(WEBRTC_MAX_MESSAGE_BYTES);
    const r = new Reassembler({ maxMessageBytes: 8 << 20 });
    let out: Uint8Array | null = null;
    for (const c of chunks) out = r.push(c);
    expect(out && same(out, msg)).toBe(true);
  });

  it('refuses bad arguments when framing', () => {
    expect(errorOf(() => frameMessage(bytesOf(3), -1, 100)).code).toBe('BAD_CONFIG');
    expect(errorOf(() => frameMessage(bytesOf(3), 2 ** 32, 100)).code).toBe('BAD_CONFIG');
    expect(errorOf(() => frameMessage(bytesOf(3), 0, FRAME_HEADER_BYTES)).code).toBe('BAD_CONFIG');
  });
});

describe('Reassembler rejects', () => {
  const limits = { maxMessageBytes: 1000, maxChunkBytes: 120, maxPendingMessages: 2 };
  const cases: [string, Uint8Array[], string, RegExp][] = [
    ['bad magic', [chunk({ index: 0, count: 1, total: 1 }, 1, 0x48)], 'BAD_FRAME', /bad magic/],
    ['a short header', [new Uint8Array(FRAME_HEADER_BYTES - 1).fill(0x47)], 'BAD_FRAME', /shorter than its header/],
    ['index >= count', [chunk({ index: 2, count: 2, total: 10 }, 5)], 'BAD_FRAME', /index out of range/],
    ['count 0', [chunk({ index: 0, count: 0, total: 0 }, 0)], 'BAD_FRAME', /index out of range/],
    ['more chunks than bytes', [chunk({ index: 0, count: 11, total: 10 }, 1)], 'BAD_FRAME', /too many chunks/],
    [
      'a single chunk of the wrong size',
      [chunk({ index: 0, count: 1, total: 10 }, 9)],
      'BAD_FRAME',
      /carries 9 bytes, expected 10/,
    ],
    ['a last chunk longer than the others', [chunk({ index: 1, count: 2, total: 10 }, 6)], 'BAD_FRAME', /does not fit/],
    ['a chunk size that does not divide', [chunk({ index: 2, count: 3, total: 10 }, 3)], 'BAD_FRAME', /does not fit/],
    [
      'a chunk of another size than the first',
      [chunk({ index: 0, count: 3, total: 10 }, 4), chunk({ index: 1, count: 3, total: 10 }, 3)],
      'BAD_FRAME',
      /carries 3 bytes, expected 4/,
    ],
    [
      'a duplicated chunk',
      [chunk({ index: 0, count: 3, total: 10 }, 4), chunk({ index: 0, count: 3, total: 10 }, 4)],
      'BAD_FRAME',
      /duplicate/,
    ],
    [
      'a header that changes mid-message',
      [chunk({ index: 0, count: 3, total: 10 }, 4), chunk({ index: 1, count: 3, total: 11 }, 4)],
      'BAD_FRAME',
      /disagrees/,
    ],
    [
      'a total past the limit, from the header alone',
      [chunk({ index: 0, count: 2 ** 32 - 1, total: 2 ** 32 - 1 }, 100)],
      'TOO_LARGE',
      /exceeds the limit of 1000/,
    ],
    ['a chunk past maxChunkBytes', [chunk({ index: 0, count: 1, total: 101 }, 101)], 'TOO_LARGE', /exceeds 120/],
    [
      'too many partial messages',
      [1, 2, 3].map((id) => chunk({ id, index: 0, count: 2, total: 10 }, 5)),
      'TOO_LARGE',
      /more than 2 partial messages/,
    ],
  ];
  it.each(cases)('%s', (_, chunks, code, why) => {
    const r = new Reassembler(limits);
    for (const c of chunks.slice(0, -1)) expect(r.push(c)).toBeNull();
    const e = errorOf(() => r.push(chunks[chunks.length - 1]));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(why);
  });

  it('caps the bytes held by partial messages', () => {
    const r = new Reassembler({ maxMessageBytes: 1000, maxPendingBytes: 1500, maxChunkBytes: 520 });
    expect(r.push(chunk({ id: 1, index: 0, count: 2, total: 1000 }, 500))).toBeNull();
    expect(errorOf(() => r.push(chunk({ id: 2, index: 0, count: 2, total: 1000 }, 500))).message).toMatch(
      /hold more than 1500/,
    );
  });

  it('discards the partial message a bad chunk belongs to, and keeps working', () => {
    const r = new Reassembler({ maxMessageBytes: 1000, maxChunkBytes: 120 });
    const msg = bytesOf(300);
    const chunks = frameMessage(msg, 5, 120);
    r.push(chunks[0]);
    expect(() => r.push(chunks[0])).toThrow(/duplicate/);
    expect(r.pendingMessages).toBe(0);
    let out: Uint8Array | null = null;
    for (const c of chunks) out = r.push(c);
    expect(out).toEqual(msg);
  });

  it('rejects non-Uint8Array input', () => {
    expect(errorOf(() => new Reassembler(limits).push([1, 2] as unknown as Uint8Array)).code).toBe('BAD_FRAME');
  });
});

describe('Reassembler fuzz', () => {
  // Streams of valid chunks, reordered, duplicated, dropped or truncated: every push gives null, a
  // GradroomError, or one of the original messages exactly. Bit flips are fuzzed too, but framing
  // has no checksum (the channel is reliable, SCTP checks its own CRC), so a flipped payload byte
  // or msgId can not be detected: with flips, only the error type is checked.
  it('mangled chunk streams yield the exact original or a typed error', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
      fc.record({ kind: fc.constant('dup' as const), a: fc.nat() }),
      fc.record({ kind: fc.constant('drop' as const), a: fc.nat() }),
      fc.record({ kind: fc.constant('cut' as const), a: fc.nat(), b: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), a: fc.nat(), b: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: FRAME_HEADER_BYTES + 1, max: 200 }),
        fc.array(op, { maxLength: 8 }),
        (sizes, max, ops) => {
          const msgs = sizes.map((n, i) => bytesOf(n, i + 1));
          const stream = msgs.flatMap((m, i) => frameMessage(m, i, max));
          for (const o of ops) {
            if (stream.length === 0) break;
            const a = o.a % stream.length;
            if (o.kind === 'swap') {
              const b = o.b % stream.length;
              [stream[a], stream[b]] = [stream[b], stream[a]];
            } else if (o.kind === 'dup') stream.splice(a, 0, stream[a]);
            else if (o.kind === 'drop') stream.splice(a, 1);
            else if (o.kind === 'cut') stream[a] = stream[a].subarray(0, o.b % (stream[a].length + 1));
            else {
              const c = stream[a].slice();
              c[o.b % c.length] ^= 1 << (o.b % 8);
              stream[a] = c;
            }
          }
          const flipped = ops.some((o) => o.kind === 'flip');
          const r = new Reassembler({ maxMessageBytes: 900, maxChunkBytes: max, maxPendingMessages: 3 });
          for (const c of stream) {
            try {
              const out = r.push(c);
              if (out && !flipped) expect(msgs.some((m) => same(m, out))).toBe(true);
            } catch (e) {
              expect(e).toBeInstanceOf(GradroomError);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('random bytes as chunks never throw anything but a GradroomError', () => {
    const header = fc.tuple(fc.constant(0x47), fc.constant(1), fc.constant(0), fc.constant(0));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), header, fc.uint8Array({ maxLength: 150 })), { maxLength: 10 }),
        (cs) => {
          const r = new Reassembler({ maxMessageBytes: 1 << 20, maxChunkBytes: 120 });
          for (const [withMagic, h, body] of cs) {
            try {
              r.push(withMagic ? Uint8Array.from([...h, ...body]) : body);
            } catch (e) {
              expect(e).toBeInstanceOf(GradroomError);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('messages through frames', () => {
  it('round-trips messages through 256 KiB chunks (encode, frame, reassemble, decode)', () => {
    const gradSum = Float32Array.from({ length: 1 << 20 }, (_, i) => i / 7);
    const msgs: Message[] = [
      { v: 3, type: 'heartbeat', t: 1 },
      {
        v: 3,
        type: 'result',
        ...{
          iteration: 2,
          version: 2,
          shardId: 1,
          gradSum,
          lossSum: 3,
          correct: 1,
          count: 4,
          computeMs: 9,
          backend: 'webgpu',
        },
      },
      { v: 3, type: 'leave', reason: 'bye' },
    ];
    const rx = new Reassembler({ maxMessageBytes: 64 << 20 });
    const got: Message[] = [];
    msgs.forEach((m, id) => {
      for (const c of frameMessage(encodeMessage(m), id, WEBRTC_MAX_MESSAGE_BYTES)) {
        expect(c.length).toBeLessThanOrEqual(WEBRTC_MAX_MESSAGE_BYTES);
        const out = rx.push(c);
        if (out) got.push(decodeMessage(out));
      }
    });
    expect(got.map((m) => m.type)).toEqual(['heartbeat', 'result', 'leave']);
    expect(got[0]).toEqual(msgs[0]);
    expect(got[2]).toEqual(msgs[2]);
    const r = got[1];
    expect(r.type === 'result' && r.gradSum instanceof Float32Array && same(r.gradSum, gradSum)).toBe(true);
    expect({ ...r, gradSum: null }).toEqual({ ...msgs[1], gradSum: null });
  });

  it('rejects a complete but invalid message with BAD_MESSAGE', () => {
    const rx = new Reassembler({ maxMessageBytes: 1000 });
    const [c] = frameMessage(Uint8Array.from([0x93, 1, 2, 3]), 0, 1000);
    const bytes = rx.push(c);
    expect(bytes).not.toBe(null);
    expect(errorOf(() => decodeMessage(bytes as Uint8Array)).code).toBe('BAD_MESSAGE');
  });
});

describe('memory held by unfinished messages', () => {
  /** The first of `count` chunks of a message of `total` bytes. */
  const first = (id: number, total: number, count: number) =>
    frameMessage(bytesOf(total), id, FRAME_HEADER_BYTES + Math.ceil(total / count))[0];

  it('a budget shared by the links of one host bounds what they hold together, counting what arrived', () => {
    const budget = new ReassemblyBudget(1000);
    const a = new Reassembler({ maxMessageBytes: 1000, budget });
    const b = new Reassembler({ maxMessageBytes: 1000, budget });
    const big = frameMessage(bytesOf(600), 1, FRAME_HEADER_BYTES + 200);
    expect(a.push(big[0])).toBe(null);
    // charged for the 200 bytes that arrived, not the 600 declared
    expect(budget.inFlight).toBe(200);
    expect(a.push(big[1])).toBe(null);
    expect(budget.inFlight).toBe(400);
    const other = frameMessage(bytesOf(900, 2), 7, FRAME_HEADER_BYTES + 300);
    expect(b.push(other[0])).toBe(null);
    expect(b.push(other[1])).toBe(null);
    expect(budget.inFlight).toBe(1000);
    // each link alone is within its own limits; together they are not
    const e = errorOf(() => b.push(other[2]));
    expect(e).toBeInstanceOf(InFlightLimitError);
    expect(e.code).toBe('TOO_LARGE');
    expect(e.message).toMatch(/the host holds 1000 bytes of unfinished messages already \(budget 1000\)/);
    expect(b.pendingMessages).toBe(0); // its partial message is dropped, its bytes given back
    expect(budget.inFlight).toBe(400);
    // finishing and clearing each give bytes back
    expect(same(a.push(big[2]) as Uint8Array, bytesOf(600))).toBe(true);
    expect(budget.inFlight).toBe(0);
    a.push(first(9, 900, 3));
    expect(budget.inFlight).toBe(300);
    a.clear();
    expect(budget.inFlight).toBe(0);
    expect(() => new ReassemblyBudget(-1)).toThrow(/non-negative integer/);
  });

  it('declaring much and sending little costs what was sent: 8 declarers leave room for an honest message', () => {
    const chunk = 1000;
    const budget = new ReassemblyBudget(64 * chunk);
    const limit = 1 << 20;
    for (let k = 0; k < 8; k++) {
      const declarer = new Reassembler({ maxMessageBytes: limit, budget });
      // one chunk of a message that says it is 1 MiB long
      expect(declarer.push(frameMessage(bytesOf(limit), k, FRAME_HEADER_BYTES + chunk)[0])).toBe(null);
    }
    expect(budget.inFlight).toBe(8 * chunk);
    const honest = new Reassembler({ maxMessageBytes: limit, budget });
    const parts = frameMessage(bytesOf(20 * chunk, 3), 99, FRAME_HEADER_BYTES + chunk);
    let whole: Uint8Array | null = null;
    for (const p of parts) whole = honest.push(p);
    expect(same(whole as Uint8Array, bytesOf(20 * chunk, 3))).toBe(true);
  });

  it('a partial message expires after maxAgeMs, on the next chunk or when asked', () => {
    let now = 1000;
    const budget = new ReassemblyBudget(1 << 20);
    const rx = new Reassembler({ maxMessageBytes: 1 << 20, maxAgeMs: 500, budget, now: () => now });
    const parts = frameMessage(bytesOf(3000), 5, FRAME_HEADER_BYTES + 1000);
    expect(rx.push(parts[0])).toBe(null);
    now += 500;
    expect(rx.push(parts[1])).toBe(null); // at the limit: still in time
    expect(rx.expire()).toBe(null);
    now += 1;
    // a heartbeat-sized message arrives while the big one is stale: the link learns it now
    const heartbeat = frameMessage(bytesOf(10), 6, 1000)[0];
    const e = errorOf(() => rx.push(heartbeat));
    expect(e).toBeInstanceOf(InFlightLimitError);
    expect(e.message).toBe('frame: message 5 unfinished after 501 ms (2 of 3 chunks; the limit is 500 ms)');
    expect(rx.pendingMessages).toBe(0);
    expect(rx.bytesPending).toBe(0);
    expect(budget.inFlight).toBe(0);
    // the timer's path: expire() drops and describes it without a chunk arriving
    expect(rx.push(parts[0])).toBe(null);
    now += 10_000;
    expect(rx.expire()?.message).toMatch(/^frame: message 5 unfinished after 10000 ms/);
    expect(budget.inFlight).toBe(0);
    expect(() => new Reassembler({ maxMessageBytes: 10, maxAgeMs: 0 })).toThrow(/maxAgeMs must be positive/);
  });

  it('fuzz: whatever arrives, the budget holds exactly what the reassemblers hold, and 0 once cleared', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            link: fc.integer({ min: 0, max: 2 }),
            id: fc.integer({ min: 0, max: 4 }),
            index: fc.integer({ min: 0, max: 5 }),
            count: fc.integer({ min: 1, max: 5 }),
            total: fc.integer({ min: 0, max: 900 }),
            payload: fc.integer({ min: 0, max: 300 }),
            tick: fc.integer({ min: 0, max: 400 }),
            // the payload a well-formed non-last chunk carries, so that messages do start and finish
            exact: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        (steps) => {
          let now = 0;
          const budget = new ReassemblyBudget(1500);
          const links = [0, 1, 2].map(
            () => new Reassembler({ maxMessageBytes: 800, maxChunkBytes: 400, maxAgeMs: 1000, budget, now: () => now }),
          );
          for (const s of steps) {
            now += s.tick;
            try {
              const payload = s.exact ? Math.ceil(s.total / s.count) : s.payload;
              links[s.link].push(chunk({ id: s.id, index: s.index, count: s.count, total: s.total }, payload));
            } catch (e) {
              expect(e).toBeInstanceOf(GradroomError);
            }
            const held = links.reduce((sum, r) => sum + r.bytesPending, 0);
            expect(budget.inFlight).toBe(held);
            expect(held).toBeLessThanOrEqual(1500);
          }
          for (const r of links) r.clear();
          expect(budget.inFlight).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
