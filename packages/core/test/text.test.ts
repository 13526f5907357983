import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanText } from '../src/text.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters the output must not contain
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('cleanText', () => {
  it('turns escape sequences and forged log lines into harmless text', () => {
    expect(cleanText('\u001b[2J\u001b[Hmallory', 40)).toBe('[2J [Hmallory');
    expect(cleanText('tab\n2026-01-01T00:00:00Z [room x] host left', 80)).toBe(
      'tab 2026-01-01T00:00:00Z [room x] host left',
    );
    expect(cleanText('a\r\n\t\u0000b', 10)).toBe('a b');
    expect(cleanText('\u0085next\u2028line\u202eevil', 40)).toBe('next line evil');
    expect(cleanText('  padded  ', 40)).toBe('padded');
  });

  it('caps the length in code points, marks a cut, and never splits a surrogate pair', () => {
    expect(cleanText('abcdef', 6)).toBe('abcdef');
    expect(cleanText('abcdefg', 6)).toBe('abcde…');
    expect(cleanText('😀'.repeat(10), 4)).toBe('😀😀😀…');
    expect(cleanText('x'.repeat(1_000_000), 40)).toHaveLength(40);
    expect(cleanText('a\ud800b', 10)).toBe('a\ufffdb');
  });

  it('refuses a bad limit and turns non-strings into nothing', () => {
    expect(cleanText(undefined, 10)).toBe('');
    expect(cleanText({ toString: () => '\u001b[2J' }, 10)).toBe('');
    expect(() => cleanText('x', 0)).toThrow(RangeError);
  });

  it('for any input: no control characters, at most max code points, no lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 1, max: 120 }), (s, max) => {
        const out = cleanText(s, max);
        expect(CONTROL.test(out)).toBe(false);
        expect(Array.from(out).length).toBeLessThanOrEqual(max);
        expect(() => encodeURIComponent(out)).not.toThrow(); // throws on a lone surrogate
      }),
      { numRuns: 2000 },
    );
  });
});
