/**
 * A CI-sized run of the fuzz behind `npm run fuzz` (bench/fuzz-lib.mjs: 1,000,000 inputs there):
 * mutated bytes, values, frames and control messages against the decoder, validation, reassembly
 * and the room server's control-message validator. Nothing but a typed GradroomError may come out,
 * and the run's invariants hold (accepted messages validate again, reordered frames reassemble to
 * the same bytes, unfinished messages stay within their limits and release the shared budget).
 */
import { decodeMessage, encodeMessage, GradroomError, parseClientMessage, validateMessage } from '@gradroom/core';
import { describe, expect, it } from 'vitest';
import { fuzz, packValue, validMessages, validSignals } from '../../../bench/fuzz-lib.mjs';

describe('fuzz (CI size)', () => {
  it('starts from valid inputs: every message type round-trips, every control message parses', () => {
    const messages = validMessages();
    expect(new Set(messages.map((m) => m.type)).size).toBe(19);
    for (const m of messages) {
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
      // its own msgpack writer, used for schema-broken values, writes what the decoder reads
      expect(decodeMessage(packValue(m))).toEqual(m);
    }
    for (const s of validSignals()) expect(parseClientMessage(JSON.stringify(s))).toEqual(s);
  });

  it('its msgpack writer reaches validation with schema-broken values', () => {
    const bad = { ...validMessages()[5], count: -1 };
    expect(() => decodeMessage(packValue(bad))).toThrow(GradroomError);
    expect(() => validateMessage(bad)).toThrow(/count/);
  });

  it('30,000 inputs, two seeds: no crash, no broken invariant, both sides of every target reached', () => {
    for (const seed of [1, 2]) {
      const r = fuzz(15_000, seed);
      expect(r.crashes).toEqual([]);
      expect(r.crashCount).toBe(0);
      expect(r.broken).toEqual([]);
      expect(r.total).toBeGreaterThanOrEqual(15_000);
      for (const target of ['decode', 'validate', 'frames', 'reassembled', 'signal'])
        expect(r.counts[target].accepted, target).toBeGreaterThan(0);
      for (const target of ['decode', 'validate', 'signal'])
        expect(r.counts[target].BAD_MESSAGE, target).toBeGreaterThan(0);
      expect(r.counts.frames.BAD_FRAME).toBeGreaterThan(0);
      expect(r.counts.frames.TOO_LARGE).toBeGreaterThan(0);
    }
  });
});
