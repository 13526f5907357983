/**
 * Draw to train: the field tables and cross-field rules of its messages (drawings, class-eval,
 * class-evaluated, and local-result's ownExamples), which validate.ts merges into its own. Kept apart
 * so each file stays small; the checks are as strict as the rest (unknown fields are refused there).
 */
import { GradroomError } from '../errors.js';
import { MAX_CLASS_DIGITS, MAX_DRAWINGS_PER_DIGIT, MAX_SHARED_THUMBNAILS, THUMBNAIL_PIXELS } from './messages.js';

type Check = (value: unknown, path: string, limits: { maxParams: number }) => void;
type Table = Readonly<Record<string, { check: Check; optional?: boolean }>>;

function fail(path: string, what: string): never {
  throw new GradroomError('BAD_MESSAGE', `${path} must be ${what}`);
}

const int =
  (min: number, max: number): Check =>
  (v, p) => {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
      fail(p, `an integer in [${min}, ${max}]`);
  };
const ints =
  (min: number, max: number, most: number, exactly?: number): Check =>
  (v, p) => {
    if (!Array.isArray(v) || v.length > most || (exactly !== undefined && v.length !== exactly))
      fail(p, exactly !== undefined ? `an array of ${exactly} entries` : `an array of at most ${most} entries`);
    for (let i = 0; i < v.length; i++) int(min, max)(v[i], `${p}[${i}]`, { maxParams: 0 });
  };
/** One count per digit, in order. */
const perDigit = ints(0, MAX_DRAWINGS_PER_DIGIT, MAX_CLASS_DIGITS, MAX_CLASS_DIGITS);
const exactClass =
  (ctor: typeof Uint8Array | typeof Float32Array, what: string, max?: number): Check =>
  (v, p, l) => {
    if (!(v instanceof ctor) || Object.getPrototypeOf(v) !== ctor.prototype) fail(p, what);
    const cap = max ?? l.maxParams;
    if ((v as ArrayLike<number>).length > cap) fail(p, `${what} of at most ${cap} values`);
  };

export const CLASS_MESSAGES: Readonly<Record<string, Table>> = {
  drawings: {
    counts: { check: perDigit },
    heldOut: { check: perDigit },
    shared: { check: exactClass(Uint8Array, 'a Uint8Array', MAX_SHARED_THUMBNAILS * THUMBNAIL_PIXELS), optional: true },
    sharedDigits: { check: ints(0, MAX_CLASS_DIGITS - 1, MAX_SHARED_THUMBNAILS), optional: true },
    named: {
      check: (v, p) => {
        if (typeof v !== 'boolean') fail(p, 'a boolean');
      },
      optional: true,
    },
  },
  'class-eval': {
    evalId: { check: int(0, Number.MAX_SAFE_INTEGER) },
    weights: { check: exactClass(Float32Array, 'a Float32Array') },
  },
  'class-evaluated': {
    evalId: { check: int(0, Number.MAX_SAFE_INTEGER) },
    correct: { check: perDigit },
    count: { check: perDigit },
  },
};

/** local-result's draw-to-train field. */
export const OWN_EXAMPLES_FIELD: Table = {
  ownExamples: { check: int(0, MAX_CLASS_DIGITS * MAX_DRAWINGS_PER_DIGIT), optional: true },
};

/** The rules across fields of the draw-to-train messages (after their tables passed). */
export function checkClassRules(type: string, value: Record<string, unknown>): void {
  if (type === 'class-evaluated') {
    const c = value.correct as number[];
    const n = value.count as number[];
    if (c.some((x, i) => x > n[i])) fail('class-evaluated.correct', 'at most class-evaluated.count, digit by digit');
  }
  if (type === 'drawings') {
    const shared = value.shared as Uint8Array | undefined;
    const digits = value.sharedDigits as number[] | undefined;
    if ((shared === undefined) !== (digits === undefined)) fail('drawings', 'shared with its sharedDigits, or neither');
    if (shared && digits && shared.length !== digits.length * THUMBNAIL_PIXELS)
      fail('drawings.shared', `${THUMBNAIL_PIXELS} grey levels per entry of sharedDigits (${digits.length})`);
  }
}
