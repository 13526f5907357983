/**
 * Text from peers (names, backend names, leave reasons, error messages) before it is shown or
 * logged: a terminal must not receive escape sequences (screen clears, cursor moves), a log must
 * not receive forged lines, and nothing may be arbitrarily long.
 */

/**
 * C0 and C1 controls, DEL, line/paragraph separators, and the bidi and zero-width format
 * characters that make text display differently from what it is (Trojan Source).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]+/g;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `s` with every run of control characters turned into one space, lone surrogates replaced, outer
 * spaces trimmed, and at most `max` code points (the last one an ellipsis when it was cut).
 * Anything that is not a string becomes ''.
 */
export function cleanText(s: unknown, max: number): string {
  if (typeof s !== 'string') return '';
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`cleanText: max must be a positive integer, got ${max}`);
  // cut long input before the regexes run, so their cost is bounded by max, not by the input
  const head = s.length > 4 * max + 8 ? s.slice(0, 4 * max + 8) : s;
  const clean = head.replace(CONTROL, ' ').replace(LONE_SURROGATE, '\ufffd').trim();
  const points = Array.from(clean);
  if (head.length === s.length && points.length <= max) return clean;
  return `${points
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}
