/**
 * Compressed updates (OpenDiLoCo, INTELLECT-1): what a worker sends back, a gradient sum or a
 * pseudo-gradient, travels as fp16 (half the bytes) or as int8 with one float32 scale per block of
 * `block` values (about a quarter). Rounding error is not lost: the sender keeps what rounding
 * dropped and adds it to its next update (error feedback), so the sum of what was sent tracks the
 * sum of the true updates within one quantum.
 *
 * 'topk' (SparseLoCo, DeMo) keeps only the TOPK_KEEP largest of each block of TOPK_BLOCK values, as
 * int8 with a scale per block and a byte for each one's place in its block: 0.23 bytes a value, 17x
 * fewer than float32 (4.3x fewer than int8). What it drops is not lost either: error feedback sends
 * it once it has grown into a block's largest.
 */
import type { Compression } from './cost-model.js';
import { GradroomError } from './errors.js';

export const INT8_BLOCK = 256;
/** topk: values per block (at most 256: a value's place in its block is one byte). */
export const TOPK_BLOCK = 256;
/**
 * topk: values kept per block. Measured (README "Top-k compression"): keeping 16 cost 0.9 points on
 * Fashion-MNIST (9 threads, H = 8, 600 iterations, 5 seeds), 24 cost 0.14 and 28 none (+0.02).
 */
export const TOPK_KEEP = 28;
const HALF_MAX = 65504;
/** The largest int8 block scale whose values (up to 127 x scale) stay finite in float32. */
export const INT8_SCALE_MAX = 3.4028234663852886e38 / 127;

export type EncodedUpdate =
  | { kind: 'fp16'; length: number; data: Uint16Array }
  | { kind: 'int8'; length: number; block: number; data: Int8Array; scales: Float32Array }
  | {
      kind: 'topk';
      length: number;
      block: number;
      /** Values kept per block (fewer in a last block shorter than that). */
      keep: number;
      /** Each kept value's place in its block, increasing within a block; blocks in order. */
      index: Uint8Array;
      data: Int8Array;
      scales: Float32Array;
    };

/** Values a topk update keeps: `keep` a block, or all of a shorter last block. */
export function topkCount(length: number, block: number, keep: number): number {
  const full = Math.floor(length / block);
  return full * keep + Math.min(keep, length - full * block);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from a float32, rounded to nearest even; overflow goes to +-Inf (then refused). */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  if ((h & 0x7c00) === 0x7c00) e = 0x1f;
  return sign | h;
}

/** Every half's float value, made on first use: decoding a 100k-value update is then a table read each. */
let halves: Float32Array | undefined;
function halfTable(): Float32Array {
  if (!halves) {
    halves = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halves[h] = fromHalf(h);
  }
  return halves;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Encodes `v` (not modified). */
export function encodeUpdate(v: Float32Array, kind: Exclude<Compression, 'none'>, block = INT8_BLOCK): EncodedUpdate {
  if (kind === 'topk') return encodeTopk(v, TOPK_BLOCK, TOPK_KEEP);
  if (kind === 'fp16') {
    const data = new Uint16Array(v.length);
    // clamped to half's range: what does not fit goes into the error feedback, not to Inf
    for (let i = 0; i < v.length; i++) data[i] = toHalf(Math.max(-HALF_MAX, Math.min(HALF_MAX, v[i])));
    return { kind, length: v.length, data };
  }
  if (!(Number.isInteger(block) && block > 0))
    throw new GradroomError('BAD_CONFIG', `int8 block must be > 0, got ${block}`);
  const blocks = Math.ceil(v.length / block);
  const data = new Int8Array(v.length);
  const scales = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const end = Math.min(v.length, (b + 1) * block);
    let max = 0;
    for (let i = b * block; i < end; i++) max = Math.max(max, Math.abs(v[i]));
    const scale = max / 127;
    scales[b] = scale;
    if (scale === 0) continue;
    for (let i = b * block; i < end; i++) data[i] = Math.round(v[i] / scale);
  }
  return { kind, length: v.length, block, data, scales };
}

function encodeTopk(v: Float32Array, block: number, keep: number): EncodedUpdate {
  const length = v.length;
  const blocks = Math.ceil(length / block);
  const total = topkCount(length, block, keep);
  const index = new Uint8Array(total);
  const data = new Int8Array(total);
  const scales = new Float32Array(blocks);
  // the block's largest `keep` by magnitude: places in `best`, smallest magnitude first
  const best = new Int32Array(keep);
  const mags = new Float64Array(keep);
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    const start = b * block;
    const end = Math.min(length, start + block);
    const k = Math.min(keep, end - start);
    let held = 0;
    for (let i = start; i < end; i++) {
      const m = Math.abs(v[i]);
      let j: number;
      if (held < k) {
        // room left: insert in order from the top
        j = held++;
        while (j > 0 && mags[j - 1] > m) {
          mags[j] = mags[j - 1];
          best[j] = best[j - 1];
          j--;
        }
      } else {
        if (m <= mags[0]) continue;
        // full: the smallest goes, the rest move down until m's place
        j = 0;
        while (j + 1 < k && mags[j + 1] < m) {
          mags[j] = mags[j + 1];
          best[j] = best[j + 1];
          j++;
        }
      }
      mags[j] = m;
      best[j] = i;
    }
    const places = best.subarray(0, k).sort(); // a typed array sorts by value, in place
    const max = mags[k - 1];
    const scale = max / 127;
    scales[b] = scale;
    for (const i of places) {
      index[o] = i - start;
      data[o] = scale === 0 ? 0 : Math.round(v[i] / scale);
      o++;
    }
  }
  return { kind: 'topk', length, block, keep, index, data, scales };
}

/** Block b's scale of an int8 or topk update that arrived: finite, >= 0, and 127 x it a float32. */
function checkedScale(kind: 'int8' | 'topk', scales: Float32Array, b: number): number {
  const s = scales[b];
  if (!(Number.isFinite(s) && s >= 0)) throw new GradroomError('NON_FINITE', `${kind} update: scale ${b} is ${s}`);
  // 127 x scale must stay a float32: a larger scale is no honest encoding, it decodes to Inf
  if (s > INT8_SCALE_MAX)
    throw new GradroomError(
      'BAD_MESSAGE',
      `${kind} update: scale ${b} is ${s}, over ${INT8_SCALE_MAX.toExponential(3)}`,
    );
  return s;
}

/** Checks a topk update (see decodeUpdate) and decodes it into `out`. */
function decodeTopk(e: Extract<EncodedUpdate, { kind: 'topk' }>, length: number, out: Float32Array): Float32Array {
  const { block, keep, index, data, scales } = e;
  if (!(Number.isInteger(block) && block >= 1 && block <= 256 && Number.isInteger(keep) && keep >= 1 && keep <= block))
    throw new GradroomError(
      'BAD_MESSAGE',
      `topk update: block ${block} and keep ${keep} (need 1 <= keep <= block <= 256)`,
    );
  const total = topkCount(length, block, keep);
  const blocks = Math.ceil(length / block);
  if (
    e.length !== length ||
    out.length !== length ||
    index.length !== total ||
    data.length !== total ||
    scales.length !== blocks
  )
    throw new GradroomError(
      'BAD_LENGTH',
      `topk update: ${index.length} places, ${data.length} values and ${scales.length} scales for ${e.length} values (expected ${total}, ${total} and ${blocks} for ${length})`,
    );
  out.fill(0);
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    const s = checkedScale('topk', scales, b);
    const start = b * block;
    const size = Math.min(length, start + block) - start;
    const k = Math.min(keep, size);
    let last = -1;
    for (let j = 0; j < k; j++, o++) {
      const p = index[o];
      // increasing places: no value counted twice, none outside its block
      if (p <= last || p >= size)
        throw new GradroomError(
          'BAD_MESSAGE',
          `topk update: block ${b} names place ${p} after ${last} (block of ${size})`,
        );
      last = p;
      out[start + p] = data[o] * s;
    }
  }
  return out;
}

/**
 * Checks an update that arrived (from a peer: untrusted) and decodes it into `out`. Lengths must
 * match, int8 blocks must be complete and their scales finite and >= 0, and no value may decode
 * to NaN or Inf. Throws GradroomError naming what is wrong.
 */
export function decodeUpdate(
  e: EncodedUpdate,
  length: number,
  out: Float32Array = new Float32Array(length),
): Float32Array {
  if (e.kind === 'topk') return decodeTopk(e, length, out);
  if (e.length !== length || e.data.length !== length || out.length !== length) {
    throw new GradroomError('BAD_LENGTH', `${e.kind} update holds ${e.data.length} values, expected ${length}`);
  }
  if (e.kind === 'fp16') {
    const table = halfTable();
    const d = e.data;
    for (let i = 0; i < length; i++) {
      // exponent bits all set: Inf or NaN (never an honest encoding: encodeUpdate clamps)
      if ((d[i] & 0x7c00) === 0x7c00)
        throw new GradroomError('NON_FINITE', `fp16 update holds ${fromHalf(d[i])} at index ${i}`);
      out[i] = table[d[i]];
    }
    return out;
  }
  const { block, scales } = e;
  if (!(Number.isInteger(block) && block > 0) || scales.length !== Math.ceil(length / block)) {
    throw new GradroomError(
      'BAD_LENGTH',
      `int8 update: ${scales.length} scales for ${length} values in blocks of ${block} (expected ${Math.ceil(length / Math.max(1, block))})`,
    );
  }
  for (let b = 0; b < scales.length; b++) {
    const s = checkedScale('int8', scales, b);
    const end = Math.min(length, (b + 1) * block);
    for (let i = b * block; i < end; i++) out[i] = e.data[i] * s;
  }
  return out;
}

/** Bytes an update takes on the wire (payload only). */
export function encodedBytes(e: EncodedUpdate): number {
  if (e.kind === 'topk') return e.index.byteLength + e.data.byteLength + e.scales.byteLength;
  return e.data.byteLength + (e.kind === 'int8' ? e.scales.byteLength : 0);
}

/**
 * The sender's side of error feedback: each update is sent as encode(update + residual), and the
 * residual keeps what that rounding dropped. One per stream (a worker's results, the coordinator's
 * weights to one worker).
 */
export class ErrorFeedback {
  private readonly residual: Float32Array;
  private readonly work: Float32Array;

  constructor(
    readonly length: number,
    readonly kind: Exclude<Compression, 'none'>,
    readonly block = INT8_BLOCK,
  ) {
    this.residual = new Float32Array(length);
    this.work = new Float32Array(length);
  }

  /** Encodes `update` plus what earlier rounding dropped; remembers what this rounding drops. */
  encode(update: Float32Array): EncodedUpdate {
    if (update.length !== this.length)
      throw new GradroomError('BAD_LENGTH', `update has ${update.length} values, expected ${this.length}`);
    const w = this.work;
    for (let i = 0; i < w.length; i++) w[i] = update[i] + this.residual[i];
    const e = encodeUpdate(w, this.kind, this.block);
    const sent = decodeUpdate(e, this.length, this.residual);
    for (let i = 0; i < w.length; i++) this.residual[i] = w[i] - sent[i];
    return e;
  }

  /** Forgets the residual (a new run, or a worker that starts fresh). */
  reset(): void {
    this.residual.fill(0);
  }
}
