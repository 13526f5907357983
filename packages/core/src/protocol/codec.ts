/**
 * Message <-> bytes, with msgpackr. `moreTypes` keeps typed arrays binary (ext 't'; PLATFORM.md:
 * plain pack would turn a Float32Array into an unaligned Buffer); msgpackr copies each one into a
 * fresh, aligned ArrayBuffer on decode.
 *
 * Decoding untrusted bytes: size check first, then a structural pre-scan (scanMsgpack) that walks
 * the msgpack tokens without allocating and rejects anything our protocol never sends (extensions
 * other than Float32Array/Uint32Array (Int8Array/Uint16Array for compressed updates, Uint8Array for thumbnails), non-string map keys, trailing bytes, nesting past maxDepth,
 * more than maxNodes values, lengths running past the input). Only then does msgpackr see the bytes,
 * so no msgpackr code path (records, structured-clone references, big ints, deep recursion, its
 * error messages that stringify the decoded value) is reachable from a peer. Last, validateMessage.
 */
import { Packr } from 'msgpackr';
import { GradroomError } from '../errors.js';
import type { Message } from './messages.js';
import { type CodecLimits, resolveLimits, validateMessage } from './validate.js';

// useRecords: false keeps the wire plain msgpack (records would let one message define structures
// the decoder remembers); structuredClone: false refuses msgpackr's reference extensions outright.
// skipValues (missing from msgpackr's typings) drops undefined fields instead of writing ext 0.
const packrOptions = { moreTypes: true, useRecords: false, structuredClone: false, skipValues: [undefined] };
const packr = new Packr(packrOptions);

/** msgpackr's type codes for typed arrays in its ext 't' (0x74); the only extension accepted. */
const EXT_TYPED_ARRAY = 0x74;
const ALLOWED_TYPED_ARRAYS: Readonly<Record<number, number>> = {
  0: 1 /* Int8Array: int8 updates */,
  1: 1 /* Uint8Array: the thumbnails a student shares (draw to train) */,
  4: 2 /* Uint16Array: fp16 updates */,
  6: 4 /* Uint32Array */,
  7: 4 /* Float32Array */,
};

/** Messages whose typed arrays exceed this get their own exactly-sized output buffer (see encode). */
const BIG_PAYLOAD = 64 * 1024;

/**
 * Encodes a message (validated first: we never send what a peer would refuse). The result shares
 * its ArrayBuffer with nothing, so it may be transferred to a worker; that buffer may run past the
 * view's end, so send the view, never `.buffer`.
 * Throws BAD_MESSAGE for an invalid message, TOO_LARGE past limits.maxMessageBytes.
 */
export function encodeMessage(msg: Message, limits?: Partial<CodecLimits>): Uint8Array {
  const l = resolveLimits(limits);
  validateMessage(msg, l);
  // msgpackr writes into a module-wide buffer and returns views of it. For a big message, hand it a
  // buffer of the right size so the bytes are written once and not shared; small ones are copied out.
  let typedBytes = 0;
  for (const value of Object.values(msg)) if (ArrayBuffer.isView(value)) typedBytes += value.byteLength;
  const big = typedBytes >= BIG_PAYLOAD;
  if (big) packr.useBuffer(new Uint8Array(typedBytes + 16 * 1024));
  let packed: Uint8Array;
  try {
    packed = packr.pack(msg);
  } catch (e) {
    throw new GradroomError('BAD_MESSAGE', `${msg.type}: cannot encode: ${reason(e)}`);
  } finally {
    // Never leave msgpackr writing into a buffer we handed out: give it a fresh one of its own.
    if (big) packr.useBuffer(new Uint8Array(8192));
  }
  if (packed.length > l.maxMessageBytes) {
    throw new GradroomError('TOO_LARGE', `${msg.type}: ${packed.length} bytes encoded, limit ${l.maxMessageBytes}`);
  }
  // A plain Uint8Array view (msgpackr may return a Node Buffer, whose slice() does not copy).
  return big && packed.byteOffset === 0
    ? new Uint8Array(packed.buffer, 0, packed.byteLength)
    : Uint8Array.prototype.slice.call(packed);
}

/**
 * Decodes and validates one message from untrusted bytes. Throws GradroomError: TOO_LARGE (checked
 * before decoding), BAD_MESSAGE (malformed msgpack, or a schema violation naming the field).
 */
export function decodeMessage(bytes: Uint8Array, limits?: Partial<CodecLimits>): Message {
  const l = resolveLimits(limits);
  if (!(bytes instanceof Uint8Array)) throw new GradroomError('BAD_MESSAGE', 'message bytes must be a Uint8Array');
  if (bytes.length > l.maxMessageBytes) {
    throw new GradroomError('TOO_LARGE', `message of ${bytes.length} bytes exceeds the limit of ${l.maxMessageBytes}`);
  }
  scanMsgpack(bytes, l);
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (e) {
    throw new GradroomError('BAD_MESSAGE', `malformed msgpack: ${reason(e)}`);
  }
  return validateMessage(plainBytes(value), l);
}

/**
 * msgpackr gives a bin value (what a browser's msgpackr writes for a Uint8Array) as a view of its
 * input: from a Buffer (Node's, or simple-peer's polyfill in a tab) it is a Buffer, which the
 * validator refuses as not a Uint8Array. A message's top-level bytes become plain Uint8Array views
 * of the same memory (no copy).
 */
function plainBytes(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return value;
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (v instanceof Uint8Array && Object.getPrototypeOf(v) !== Uint8Array.prototype)
      o[k] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  return value;
}

function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function malformed(at: number, what: string): never {
  throw new GradroomError('BAD_MESSAGE', `malformed msgpack at byte ${at}: ${what}`);
}

/**
 * Walks the msgpack token stream once, iteratively, allocating nothing per token. Throws BAD_MESSAGE
 * unless `bytes` holds exactly one value that our decoder accepts (see the file header).
 */
export function scanMsgpack(
  bytes: Uint8Array,
  limits: Pick<CodecLimits, 'maxDepth' | 'maxNodes' | 'maxStringLength'>,
): void {
  const end = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Open containers: entries still to read; maps count keys and values (2n), keys at even counts.
  const left: number[] = [];
  const isMap: boolean[] = [];
  let pos = 0;
  let nodes = 0;
  const need = (n: number, what: string): void => {
    if (n > end - pos) malformed(pos, `${what} runs past the end (${n} bytes needed, ${end - pos} left)`);
  };
  const len = (size: 1 | 2 | 4): number => {
    need(size, 'length');
    const n = size === 1 ? bytes[pos] : size === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += size;
    return n;
  };
  do {
    const start = pos;
    need(1, 'value');
    if (++nodes > limits.maxNodes) malformed(start, `more than ${limits.maxNodes} values`);
    const depth = left.length;
    const atKey = depth > 0 && isMap[depth - 1] && left[depth - 1] % 2 === 0;
    const t = bytes[pos++];
    let str = -1; // string length, when the token is a string
    let items = -1; // entries to read (2n for maps), when the token opens a container
    let map = false;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // fixint, nil, bool: the token is the value
    } else if (t <= 0x8f) {
      items = (t & 0x0f) * 2;
      map = true;
    } else if (t <= 0x9f) {
      items = t & 0x0f;
    } else if (t <= 0xbf) {
      str = t & 0x1f;
    } else if (t >= 0xca && t <= 0xd3) {
      // float32/64, uint8..64, int8..64: fixed size after the token
      const size = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8][t - 0xca];
      need(size, 'number');
      pos += size;
    } else if (t >= 0xd9 && t <= 0xdb) {
      str = len(t === 0xd9 ? 1 : t === 0xda ? 2 : 4);
    } else if (t === 0xdc || t === 0xdd) {
      items = len(t === 0xdc ? 2 : 4);
    } else if (t === 0xde || t === 0xdf) {
      items = len(t === 0xde ? 2 : 4) * 2;
      map = true;
    } else if (t >= 0xc4 && t <= 0xc6) {
      const n = len(t === 0xc4 ? 1 : t === 0xc5 ? 2 : 4);
      need(n, 'binary');
      pos += n;
    } else if ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)) {
      const n = t <= 0xc9 ? len(t === 0xc7 ? 1 : t === 0xc8 ? 2 : 4) : 1 << (t - 0xd4);
      need(n + 1, 'extension');
      const type = bytes[pos];
      const code = bytes[pos + 1];
      const size = ALLOWED_TYPED_ARRAYS[code];
      if (type !== EXT_TYPED_ARRAY || n < 1 || size === undefined) {
        malformed(
          start,
          `extension type ${type}${type === EXT_TYPED_ARRAY ? ` (typed array code ${code})` : ''} is not accepted`,
        );
      }
      if ((n - 1) % size !== 0) malformed(start, `typed array of ${n - 1} bytes is not a multiple of ${size}`);
      pos += n + 1;
    } else {
      malformed(start, `byte 0x${t.toString(16)} is not a msgpack type`); // 0xc1 (never used)
    }
    if (atKey && str < 0) malformed(start, 'map keys must be strings');
    if (str >= 0) {
      if (str > limits.maxStringLength) malformed(start, `string of ${str} bytes exceeds ${limits.maxStringLength}`);
      need(str, 'string');
      pos += str;
    }
    // This value fills one slot of its parent; close every container it completes.
    if (depth > 0) left[depth - 1]--;
    if (items > 0) {
      // Every entry takes at least one byte: a header claiming more than what is left is a lie.
      need(items, map ? 'map' : 'array');
      if (depth + 1 > limits.maxDepth) malformed(start, `nesting deeper than ${limits.maxDepth}`);
      left.push(items);
      isMap.push(map);
    }
    while (left.length > 0 && left[left.length - 1] === 0) {
      left.pop();
      isMap.pop();
    }
  } while (left.length > 0);
  if (pos !== end) malformed(pos, `${end - pos} trailing bytes after the message`);
}
