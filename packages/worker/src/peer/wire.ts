/**
 * The room's wire: core's protocol messages (hello, welcome, weights, assign, result, heartbeat,
 * leave, error) plus four room messages that core's protocol has no type for:
 *
 *   ready     peer -> coordinator  the task is set up: backend, model layout, data sizes (WorkerInfo)
 *   evaluate  coordinator -> peer  loss/accuracy sums over indices of a split, against `version`
 *   evaluated peer -> coordinator  those sums
 *   share     coordinator -> peer  this peer's share of the last mini-batch (shown on the page)
 *
 * Decoding untrusted bytes follows core's codec exactly: size check, core's structural pre-scan
 * (scanMsgpack), msgpackr, then a schema check: core's validateMessage for core types, the tables
 * below for the room types. Unknown fields are rejected, as in core.
 */
import {
  type CodecLimits,
  encodeMessage,
  GradroomError,
  type Message,
  PROTOCOL_VERSION,
  resolveLimits,
  scanMsgpack,
  type TensorShape,
  validateMessage,
} from '@gradroom/core';
import { Packr } from 'msgpackr';

export interface ReadyMessage {
  v: number;
  type: 'ready';
  backend: string;
  device?: string;
  layout: TensorShape[];
  paramCount: number;
  trainSize: number;
  testSize: number;
}

export interface EvaluateMessage {
  v: number;
  type: 'evaluate';
  evalId: number;
  version: number;
  split: 'train' | 'test';
  indices: Uint32Array;
}

export interface EvaluatedMessage {
  v: number;
  type: 'evaluated';
  evalId: number;
  lossSum: number;
  correct: number;
  count: number;
}

export interface ShareMessage {
  v: number;
  type: 'share';
  iteration: number;
  share: number;
  workers: number;
}

export type RoomMessage = ReadyMessage | EvaluateMessage | EvaluatedMessage | ShareMessage;
export type PeerMessage = Message | RoomMessage;

// The same options as core's codec; skipValues (missing from msgpackr's typings) drops undefined fields.
const packr = new Packr({
  moreTypes: true,
  useRecords: false,
  structuredClone: false,
  skipValues: [undefined],
} as object);

function bad(path: string, what: string): never {
  throw new GradroomError('BAD_MESSAGE', `${path} must be ${what}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

type Check = (v: unknown, path: string, l: CodecLimits) => void;
const uint: Check = (v, p) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) bad(p, 'a non-negative integer');
};
const finite: Check = (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(p, 'a finite number');
};
const fraction: Check = (v, p) => {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(p, 'a number in [0, 1]');
};
const name: Check = (v, p, l) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > l.maxNameLength) {
    bad(p, `a non-empty string of at most ${l.maxNameLength} chars`);
  }
};
const split: Check = (v, p) => {
  if (v !== 'train' && v !== 'test') bad(p, "'train' or 'test'");
};
const indices: Check = (v, p, l) => {
  if (!(v instanceof Uint32Array) || Object.getPrototypeOf(v) !== Uint32Array.prototype) bad(p, 'a Uint32Array');
  if (v.length > l.maxIndices) bad(p, `a Uint32Array of at most ${l.maxIndices} values`);
};
const layout: Check = (v, p, l) => {
  if (!Array.isArray(v) || v.length > l.maxListLength) bad(p, `an array of at most ${l.maxListLength} tensors`);
  v.forEach((t, i) => {
    fields(t, `${p}[${i}]`, { name: [name], shape: [shape] }, l);
  });
};
const shape: Check = (v, p) => {
  if (!Array.isArray(v) || v.length > 8) bad(p, 'an array of at most 8 dimensions');
  for (const d of v) if (!Number.isSafeInteger(d) || d < 1 || d > 1 << 24) bad(p, 'dimensions in [1, 2^24]');
};

type Table = Record<string, [Check, 'optional'?]>;
const noop: Check = () => {};
const COMMON: Table = { v: [noop], type: [noop] };
const TABLES: Record<RoomMessage['type'], Table> = {
  ready: {
    ...COMMON,
    backend: [name],
    device: [(v, p, l) => name(v, p, { ...l, maxNameLength: l.maxStringLength }), 'optional'],
    layout: [layout],
    paramCount: [uint],
    trainSize: [uint],
    testSize: [uint],
  },
  evaluate: { ...COMMON, evalId: [uint], version: [uint], split: [split], indices: [indices] },
  evaluated: { ...COMMON, evalId: [uint], lossSum: [finite], correct: [uint], count: [uint] },
  share: { ...COMMON, iteration: [uint], share: [fraction], workers: [uint] },
};

function fields(v: unknown, path: string, table: Table, l: CodecLimits): void {
  if (!isPlainObject(v)) bad(path, 'an object');
  for (const key of Object.keys(v)) {
    if (v[key] !== undefined && !Object.hasOwn(table, key)) {
      throw new GradroomError('BAD_MESSAGE', `${path} has an unknown field '${key.slice(0, 64)}'`);
    }
  }
  for (const [key, [check, optional]] of Object.entries(table)) {
    if (v[key] === undefined) {
      if (!optional) throw new GradroomError('BAD_MESSAGE', `${path}.${key} is missing`);
    } else check(v[key], `${path}.${key}`, l);
  }
}

function isRoomType(t: unknown): t is RoomMessage['type'] {
  return typeof t === 'string' && Object.hasOwn(TABLES, t);
}

/** Checks a decoded value as a room or core message of this protocol version. */
export function validatePeerMessage(value: unknown, limits?: Partial<CodecLimits>): PeerMessage {
  const l = resolveLimits(limits);
  if (isPlainObject(value) && isRoomType(value.type)) {
    if (value.v !== PROTOCOL_VERSION) {
      throw new GradroomError('BAD_MESSAGE', `message.v: protocol version ${String(value.v)} is not supported`);
    }
    fields(value, value.type, TABLES[value.type], l);
    if (value.type === 'evaluated' && (value.correct as number) > (value.count as number)) {
      bad('evaluated.correct', 'at most evaluated.count');
    }
    return value as unknown as RoomMessage;
  }
  return validateMessage(value, l);
}

/** Encodes a core or room message (validated first). The result owns its buffer. */
export function encodePeerMessage(msg: PeerMessage, limits?: Partial<CodecLimits>): Uint8Array {
  if (!isRoomType(msg.type)) return encodeMessage(msg as Message, limits);
  const l = resolveLimits(limits);
  validatePeerMessage(msg, l);
  const packed = packr.pack(msg);
  if (packed.length > l.maxMessageBytes) {
    throw new GradroomError('TOO_LARGE', `${msg.type}: ${packed.length} bytes encoded, limit ${l.maxMessageBytes}`);
  }
  return Uint8Array.prototype.slice.call(packed);
}

/** Decodes and validates one message from untrusted bytes (see the file header). */
export function decodePeerMessage(bytes: Uint8Array, limits?: Partial<CodecLimits>): PeerMessage {
  const l = resolveLimits(limits);
  if (bytes.length > l.maxMessageBytes) {
    throw new GradroomError('TOO_LARGE', `message of ${bytes.length} bytes exceeds the limit of ${l.maxMessageBytes}`);
  }
  scanMsgpack(bytes, l);
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (e) {
    throw new GradroomError('BAD_MESSAGE', `malformed msgpack: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  return validatePeerMessage(value, l);
}

/** A message without its protocol version field. */
export type Unversioned<T> = T extends unknown ? Omit<T, 'v'> : never;

/** A message with `v` filled in. */
export function msg(m: Unversioned<PeerMessage>): PeerMessage {
  return { v: PROTOCOL_VERSION, ...m } as PeerMessage;
}
