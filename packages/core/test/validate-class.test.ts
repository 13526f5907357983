// Draw to train on the wire: a peer's drawings report, the federated class evaluation and the
// ownExamples count are checked as strictly as the rest; every malformed field is refused, named.
import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { decodeMessage, encodeMessage } from '../src/protocol/codec.js';
import { type Message, PROTOCOL_VERSION, THUMBNAIL_PIXELS } from '../src/protocol/messages.js';
import { validateMessage } from '../src/protocol/validate.js';

const v = PROTOCOL_VERSION;
const digits = (n = 0) => new Array(10).fill(n);
const drawings = { v, type: 'drawings', counts: digits(2), heldOut: digits(1) };
const shared = { ...drawings, shared: new Uint8Array(2 * THUMBNAIL_PIXELS), sharedDigits: [3, 7], named: true };
const evaluated = { v, type: 'class-evaluated', evalId: 4, correct: digits(0), count: digits(1) };
const localResult = {
  v,
  type: 'local-result',
  round: 0,
  version: 0,
  delta: new Float32Array(3),
  lossSum: 1,
  correct: 1,
  count: 64,
  computeMs: 1,
  backend: 'wasm',
};

function reject(m: unknown): string {
  try {
    validateMessage(m);
  } catch (e) {
    expect(e).toBeInstanceOf(GradroomError);
    expect((e as GradroomError).code).toBe('BAD_MESSAGE');
    return (e as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(m)}`);
}

describe('draw-to-train messages', () => {
  it('accepts well-formed ones, and they survive the codec', () => {
    const good: unknown[] = [
      drawings,
      shared,
      { v, type: 'class-eval', evalId: 0, weights: new Float32Array(5) },
      evaluated,
      { ...localResult, ownExamples: 24 },
      localResult,
    ];
    for (const m of good) {
      expect(validateMessage(m)).toBe(m);
      expect(decodeMessage(encodeMessage(m as Message))).toEqual(m);
    }
  });

  it('refuses malformed drawings reports', () => {
    expect(reject({ ...drawings, counts: digits(1).slice(0, 9) })).toMatch(/drawings\.counts must be an array of 10/);
    expect(reject({ ...drawings, heldOut: [...digits(0).slice(1), -1] })).toMatch(
      /drawings\.heldOut\[9\] must be an integer/,
    );
    expect(reject({ ...drawings, counts: [...digits(0).slice(1), 1.5] })).toMatch(/counts\[9\]/);
    expect(reject({ ...drawings, counts: [...digits(0).slice(1), 1001] })).toMatch(
      /counts\[9\] must be an integer in \[0, 1000\]/,
    );
    expect(reject({ ...drawings, counts: new Uint32Array(10) })).toMatch(/drawings\.counts must be an array/);
    // thumbnails: exactly 784 grey levels per shared digit, both fields or neither
    expect(reject({ ...shared, sharedDigits: [3] })).toMatch(/drawings\.shared: *|784 grey levels per entry/);
    expect(reject({ ...shared, shared: new Uint8Array(2 * THUMBNAIL_PIXELS + 1) })).toMatch(/784 grey levels/);
    expect(reject({ ...drawings, shared: new Uint8Array(THUMBNAIL_PIXELS) })).toMatch(/shared with its sharedDigits/);
    expect(reject({ ...drawings, sharedDigits: [1] })).toMatch(/shared with its sharedDigits/);
    expect(reject({ ...shared, shared: new Float32Array(2 * THUMBNAIL_PIXELS) })).toMatch(
      /drawings\.shared must be a Uint8Array/,
    );
    expect(reject({ ...shared, shared: Array.from(new Uint8Array(2 * THUMBNAIL_PIXELS)) })).toMatch(
      /must be a Uint8Array/,
    );
    expect(reject({ ...shared, sharedDigits: [3, 10] })).toMatch(/sharedDigits\[1\] must be an integer in \[0, 9\]/);
    expect(
      reject({ ...drawings, shared: new Uint8Array(31 * THUMBNAIL_PIXELS), sharedDigits: new Array(31).fill(1) }),
    ).toMatch(/at most/);
    expect(reject({ ...shared, named: 'yes' })).toMatch(/drawings\.named must be a boolean/);
    expect(reject({ ...drawings, pixels: new Float32Array(784) })).toBe("drawings has an unknown field 'pixels'");
  });

  it('refuses malformed class evaluations and own-example counts', () => {
    expect(reject({ ...evaluated, correct: [...digits(0).slice(1), 2] })).toMatch(
      /class-evaluated\.correct must be at most class-evaluated\.count, digit by digit/,
    );
    expect(reject({ ...evaluated, count: digits(1).slice(0, 11).concat([1]) })).toMatch(/count must be an array of 10/);
    expect(reject({ ...evaluated, evalId: -1 })).toMatch(/evalId/);
    expect(reject({ ...evaluated, accuracy: 0.5 })).toMatch(/unknown field 'accuracy'/);
    expect(reject({ v, type: 'class-eval', evalId: 0, weights: [1, 2] })).toMatch(
      /class-eval\.weights must be a Float32Array/,
    );
    expect(reject({ ...localResult, ownExamples: -1 })).toMatch(/local-result\.ownExamples must be an integer/);
    expect(reject({ ...localResult, ownExamples: 0.5 })).toMatch(/ownExamples/);
    expect(reject({ ...localResult, ownExamples: 1e9 })).toMatch(/ownExamples/);
  });
});
