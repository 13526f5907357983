/**
 * Lossless packing of float32 vectors for exact mode's wire: the bits come back exactly, so the
 * training contract (DESIGN.md, equal to serial training) is untouched.
 *
 * A vector is cut into its four byte planes (the most significant byte of every value, then the
 * next, ...). A plane with many zero bytes travels as a bitmap of its nonzero bytes and those bytes;
 * any other plane as it is. Two kinds of vector have such planes:
 * - a weights change, XORed with the weights the peer already holds: one optimizer step leaves the
 *   sign, the exponent and the top of the mantissa of most values as they were (cnn-portable under
 *   Adam: 0.56-0.58 of the float32 bytes after 200 iterations);
 * - a gradient sum where whole rows are zero (a ReLU unit silent on a shard's examples, a pixel that
 *   is background in all of them): 0.77 for cnn-portable, 0.51 for the MNIST MLP on 16-example shards.
 * Nothing here is a general compressor: the cost is one pass over the values in plain JS (zlib's
 * deflate gains ~5 points more, at 4-8x the time, which a laptop at a fifth of a CPU pays per send).
 *
 * Form: [1 byte format = 1][n: uint32 LE][4 bytes: each plane's kind, 0 raw, 1 sparse], then the
 * planes, most significant first: raw, n bytes; sparse, ceil(n/8) bitmap bytes (bit i of byte k is
 * value 8k+i) followed by one byte per bit set. Typed arrays use the platform's byte order; every
 * browser and Node platform gradroom runs on is little-endian.
 */
import { GradroomError } from '../errors.js';

const FORMAT = 1;
const HEADER = 9;
const RAW = 0;
const SPARSE = 1;

/** Bits set in each byte value. */
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let x = b; x; x >>= 1) c += x & 1;
  return c;
});

function wordsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/** `values` packed; with `base` (same length), the XOR of their bits with base's is packed instead. */
export function packFloats(values: Float32Array, base?: Float32Array): Uint8Array {
  const n = values.length;
  let words = wordsOf(values);
  if (base) {
    if (base.length !== n) throw new GradroomError('BAD_STATE', `packFloats: base has ${base.length} values, not ${n}`);
    const b = wordsOf(base);
    const x = new Uint32Array(n);
    for (let i = 0; i < n; i++) x[i] = words[i] ^ b[i];
    words = x;
  }
  const nz = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const w = words[i];
    if (w >>> 24) nz[0]++;
    if ((w >>> 16) & 255) nz[1]++;
    if ((w >>> 8) & 255) nz[2]++;
    if (w & 255) nz[3]++;
  }
  const mapBytes = Math.ceil(n / 8);
  const kinds = nz.map((k) => (mapBytes + k < n ? SPARSE : RAW));
  const size = kinds.reduce((a, kind, p) => a + (kind === SPARSE ? mapBytes + nz[p] : n), HEADER);
  const out = new Uint8Array(size);
  out[0] = FORMAT;
  new DataView(out.buffer).setUint32(1, n, true);
  out.set(kinds, 5);
  const bytes = new Uint8Array(words.buffer, words.byteOffset, 4 * n);
  let o = HEADER;
  for (let p = 0; p < 4; p++) {
    const at = 3 - p; // the plane's byte within a little-endian value
    if (kinds[p] === RAW) {
      for (let i = 0; i < n; i++) out[o + i] = bytes[4 * i + at];
      o += n;
      continue;
    }
    let v = o + mapBytes;
    for (let i = 0; i < n; i++) {
      const b = bytes[4 * i + at];
      if (b !== 0) {
        out[o + (i >> 3)] |= 1 << (i & 7);
        out[v++] = b;
      }
    }
    o = v;
  }
  return out;
}

function bad(what: string): never {
  throw new GradroomError('BAD_MESSAGE', `packed floats: ${what}`);
}

/**
 * The number of values `packed` holds, once its form is checked: header, each plane's length, no
 * bit set past the last value, nothing after the last plane. At most `maxValues` values, so a
 * peer cannot make its receiver allocate more than the task allows.
 */
export function checkPacked(packed: Uint8Array, maxValues: number): number {
  if (packed.length < HEADER) bad(`${packed.length} bytes, shorter than the ${HEADER}-byte header`);
  if (packed[0] !== FORMAT) bad(`format ${packed[0]} is not ${FORMAT}`);
  const n = new DataView(packed.buffer, packed.byteOffset, packed.byteLength).getUint32(1, true);
  if (n > maxValues) bad(`${n} values, more than ${maxValues}`);
  const mapBytes = Math.ceil(n / 8);
  let o = HEADER;
  for (let p = 0; p < 4; p++) {
    const kind = packed[5 + p];
    if (kind === RAW) {
      o += n;
      continue;
    }
    if (kind !== SPARSE) bad(`plane ${p} is of kind ${kind}, not 0 (raw) or 1 (sparse)`);
    if (o + mapBytes > packed.length) bad(`plane ${p}'s bitmap runs past the end`);
    let set = 0;
    for (let k = 0; k < mapBytes; k++) set += POPCOUNT[packed[o + k]];
    if (n % 8 !== 0 && packed[o + mapBytes - 1] >> (n % 8) !== 0) bad(`plane ${p}'s bitmap marks values past ${n}`);
    o += mapBytes + set;
  }
  if (o !== packed.length) bad(`${packed.length} bytes where its planes take ${o}`);
  return n;
}

/** The values `packed` holds (packFloats' form); with `base`, the bits XORed back onto base's. */
export function unpackFloats(packed: Uint8Array, base?: Float32Array, maxValues = 2 ** 31): Float32Array {
  const n = checkPacked(packed, maxValues);
  if (base && base.length !== n) bad(`${n} values against a base of ${base.length}`);
  const out = new Float32Array(n);
  const bytes = new Uint8Array(out.buffer);
  const mapBytes = Math.ceil(n / 8);
  let o = HEADER;
  for (let p = 0; p < 4; p++) {
    const at = 3 - p;
    if (packed[5 + p] === RAW) {
      for (let i = 0; i < n; i++) bytes[4 * i + at] = packed[o + i];
      o += n;
      continue;
    }
    let v = o + mapBytes;
    for (let k = 0; k < mapBytes; k++) {
      let m = packed[o + k];
      while (m !== 0) {
        const bit = 31 - Math.clz32(m & -m);
        bytes[4 * (8 * k + bit) + at] = packed[v++];
        m &= m - 1;
      }
    }
    o = v;
  }
  if (base) {
    const w = wordsOf(out);
    const b = wordsOf(base);
    for (let i = 0; i < n; i++) w[i] ^= b[i];
  }
  return out;
}
