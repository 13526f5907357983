/**
 * Schema checks for decoded wire messages. Peers are untrusted (DESIGN.md, Trust): nothing reads a
 * message before it has passed here. Checks are hand-written because typed arrays make generic schema
 * libraries awkward; they stay table-driven: one field table per message type and per spec variant.
 *
 * Policy on unknown fields: rejected, at every level. A message that passes is exactly its TypeScript
 * type, so no unchecked data rides along; a new field therefore needs a PROTOCOL_VERSION bump.
 * A field whose value is `undefined` counts as absent (the encoder drops such fields).
 *
 * Checks here need no context. Those that do (gradient length against the task, NaN/Inf inside a
 * gradient) are the result gate's (result-gate.ts; `checkResult` below runs it).
 */

import { COMPRESSIONS } from '../cost-model.js';
import { GradroomError } from '../errors.js';
import { createOptimizer } from '../optimizers/index.js';
import type { OptimizerConfig } from '../optimizers/types.js';
import { CheckedShard } from '../result-gate.js';
import { LOSS_NAMES } from '../zoo.js';
import { type CodecLimits, MAX_PREFETCH, resolveLimits } from './limits.js';
import { resultData } from './mapping.js';
import { type Message, PROTOCOL_VERSION, type ResultMessage } from './messages.js';
import { checkPacked } from './packed-floats.js';
import { CLASS_MESSAGES, checkClassRules, OWN_EXAMPLES_FIELD } from './validate-class.js';

export { type CodecLimits, DEFAULT_CODEC_LIMITS, MAX_PREFETCH, resolveLimits } from './limits.js';

// Sane ranges for task specs; far above any model a browser trains, far below overflow.
const MAX_DIM = 1 << 24;
const MAX_UNITS = 1 << 16;
const MAX_CLASSES = 1 << 16;
const MAX_RANK = 8;
const MAX_EXAMPLES = 2 ** 31;

type Check = (value: unknown, path: string, limits: CodecLimits) => void;
interface Field {
  check: Check;
  optional?: boolean;
}
type FieldTable = Readonly<Record<string, Field>>;

function fail(path: string, what: string): never {
  throw new GradroomError('BAD_MESSAGE', `${path} must be ${what}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const isUint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** An integer in [min, max]. */
const int =
  (min: number, max: number): Check =>
  (v, p) => {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
      fail(p, `an integer in [${min}, ${max}]`);
    }
  };
const boolean: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'true or false');
};
const uint: Check = (v, p) => {
  if (!isUint(v)) fail(p, 'a non-negative integer');
};
const finite: Check = (v, p) => {
  if (!isFiniteNumber(v)) fail(p, 'a finite number');
};
const fraction: Check = (v, p) => {
  if (!isFiniteNumber(v) || v < 0 || v > 1) fail(p, 'a number in [0, 1]');
};
const nonNegFinite: Check = (v, p) => {
  if (!isFiniteNumber(v) || v < 0) fail(p, 'a finite number >= 0');
};
const text: Check = (v, p, l) => {
  if (typeof v !== 'string' || v.length > l.maxStringLength) fail(p, `a string of at most ${l.maxStringLength} chars`);
};
const name: Check = (v, p, l) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > l.maxNameLength) {
    fail(p, `a non-empty string of at most ${l.maxNameLength} chars`);
  }
};
const oneOf =
  (...values: string[]): Check =>
  (v, p) => {
    if (typeof v !== 'string' || !values.includes(v)) fail(p, `one of ${values.map((s) => `'${s}'`).join(', ')}`);
  };

// Exact class, not instanceof: a Buffer or another subclass would change slice() semantics downstream.
const float32Array: Check = (v, p, l) => {
  if (!(v instanceof Float32Array) || Object.getPrototypeOf(v) !== Float32Array.prototype) {
    fail(p, 'a Float32Array');
  }
  if (v.length > l.maxParams) fail(p, `a Float32Array of at most ${l.maxParams} values`);
};
const uint32Array: Check = (v, p, l) => {
  if (!(v instanceof Uint32Array) || Object.getPrototypeOf(v) !== Uint32Array.prototype) fail(p, 'a Uint32Array');
  if (v.length > l.maxIndices) fail(p, `a Uint32Array of at most ${l.maxIndices} values`);
};
const uint16Array: Check = (v, p, l) => {
  if (!(v instanceof Uint16Array) || Object.getPrototypeOf(v) !== Uint16Array.prototype) fail(p, 'a Uint16Array');
  if (v.length > l.maxParams) fail(p, `a Uint16Array of at most ${l.maxParams} values`);
};
const uint8Array: Check = (v, p, l) => {
  if (!(v instanceof Uint8Array) || Object.getPrototypeOf(v) !== Uint8Array.prototype) fail(p, 'a Uint8Array');
  if (v.length > l.maxParams) fail(p, `a Uint8Array of at most ${l.maxParams} values`);
};
const int8Array: Check = (v, p, l) => {
  if (!(v instanceof Int8Array) || Object.getPrototypeOf(v) !== Int8Array.prototype) fail(p, 'an Int8Array');
  if (v.length > l.maxParams) fail(p, `an Int8Array of at most ${l.maxParams} values`);
};
/** Float32 values packed losslessly (packed-floats.ts): its form checked, at most maxParams values. */
const packedFloats: Check = (v, p, l) => {
  if (!(v instanceof Uint8Array) || Object.getPrototypeOf(v) !== Uint8Array.prototype) fail(p, 'a Uint8Array');
  try {
    checkPacked(v, l.maxParams);
  } catch (e) {
    fail(p, `packed floats in their form (${(e as Error).message.slice(0, 200)})`);
  }
};
/** An optimizer configuration, as core's own optimizers accept it (data only, checked field by field). */
const optimizerConfig: Check = (v, p) => {
  if (!isPlainObject(v)) fail(p, 'an object');
  try {
    createOptimizer(v as unknown as OptimizerConfig);
  } catch (e) {
    fail(p, `a valid optimizer configuration (${(e as Error).message.slice(0, 200)})`);
  }
};

/** A list of `item`, with 1..max entries (max defaults to limits.maxListLength). */
const listOf =
  (item: Check, { min = 1, max }: { min?: number; max?: number } = {}): Check =>
  (v, p, l) => {
    const cap = Math.min(max ?? l.maxListLength, l.maxListLength);
    if (!Array.isArray(v) || v.length < min || v.length > cap) fail(p, `an array of ${min} to ${cap} entries`);
    for (let i = 0; i < v.length; i++) item(v[i], `${p}[${i}]`, l);
  };

/** A plain object holding exactly the fields of `table` (unknown fields rejected, see header). */
function checkFields(v: unknown, path: string, table: FieldTable, limits: CodecLimits): asserts v is object {
  if (!isPlainObject(v)) fail(path, 'an object');
  for (const key of Object.keys(v)) {
    if (v[key] !== undefined && !Object.hasOwn(table, key)) {
      throw new GradroomError('BAD_MESSAGE', `${path} has an unknown field '${key.slice(0, 64)}'`);
    }
  }
  for (const key of Object.keys(table)) {
    const field = table[key];
    const value = v[key];
    if (value === undefined) {
      if (!field.optional) throw new GradroomError('BAD_MESSAGE', `${path}.${key} is missing`);
    } else {
      field.check(value, `${path}.${key}`, limits);
    }
  }
}

/** A variant picked by its `kind` field, then checked against that variant's table. */
const variant =
  (tables: Readonly<Record<string, FieldTable>>): Check =>
  (v, p, l) => {
    if (!isPlainObject(v)) fail(p, 'an object');
    const kind = v.kind;
    if (typeof kind !== 'string' || !Object.hasOwn(tables, kind)) {
      fail(
        `${p}.kind`,
        `one of ${Object.keys(tables)
          .map((s) => `'${s}'`)
          .join(', ')}`,
      );
    }
    checkFields(v, p, tables[kind], l);
  };

/** Plain JSON data (a tfjs topology): bounded depth, finite numbers, no binary, no class instances. */
const json: Check = (v, p, l) => {
  const walk = (x: unknown, path: string, depth: number): void => {
    if (x === null || typeof x === 'boolean' || isFiniteNumber(x)) return;
    if (typeof x === 'string') {
      text(x, path, l);
      return;
    }
    if (depth >= l.maxDepth) fail(path, `nested at most ${l.maxDepth} deep`);
    if (Array.isArray(x)) {
      if (x.length > l.maxListLength) fail(path, `an array of at most ${l.maxListLength} entries`);
      for (let i = 0; i < x.length; i++) walk(x[i], `${path}[${i}]`, depth + 1);
      return;
    }
    if (!isPlainObject(x)) fail(path, 'JSON data (null, boolean, finite number, string, array or object)');
    for (const key of Object.keys(x)) walk(x[key], `${path}.${key.slice(0, 64)}`, depth + 1);
  };
  if (!isPlainObject(v)) fail(p, 'an object');
  walk(v, p, 0);
};

const dim = int(1, MAX_DIM);
const units = int(1, MAX_UNITS);
const classes = int(1, MAX_CLASSES);
const shape = listOf(dim, { max: MAX_RANK });

const loss = oneOf(...LOSS_NAMES);
const MODEL: Readonly<Record<string, FieldTable>> = {
  mlp: {
    kind: { check: oneOf('mlp') },
    inputShape: { check: shape },
    hidden: { check: listOf(units, { min: 0 }) },
    classes: { check: classes },
    activation: { check: oneOf('relu', 'tanh', 'sigmoid'), optional: true },
    loss: { check: loss, optional: true },
  },
  cnn: {
    kind: { check: oneOf('cnn') },
    inputShape: { check: listOf(dim, { min: 3, max: 3 }) },
    filters: { check: listOf(units, { min: 0 }) },
    dense: { check: units },
    classes: { check: classes },
    conv: { check: oneOf('2d', '3d'), optional: true },
    loss: { check: loss, optional: true },
  },
  layers: {
    kind: { check: oneOf('layers') },
    topology: { check: json },
    classes: { check: classes },
    loss: { check: loss, optional: true },
  },
};

/** Where a peer fetches a packed data set: http(s), or a path on the server that served its page. */
const dataUrl: Check = (v, p, l) => {
  text(v, p, l);
  const s = v as string;
  if (!(/^https?:\/\/[^\s]+$/i.test(s) || /^\/[^\s/\\][^\s]*$/.test(s)))
    fail(p, 'an http(s) URL or a path starting with /');
};
const sha256: Check = (v, p) => {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) fail(p, 'a SHA-256 as 64 lowercase hex digits');
};

const split = oneOf('train', 'test');
// 'arrays' data sets stay with local workers: a peer never receives one
const DATASET: Readonly<Record<string, FieldTable>> = {
  mnist: { kind: { check: oneOf('mnist') }, split: { check: split } },
  'fashion-mnist': { kind: { check: oneOf('fashion-mnist') }, split: { check: split } },
  'fashion-mnist-small': { kind: { check: oneOf('fashion-mnist-small') }, split: { check: split } },
  url: { kind: { check: oneOf('url') }, url: { check: dataUrl }, sha256: { check: sha256 }, split: { check: split } },
  chunked: {
    kind: { check: oneOf('chunked') },
    url: { check: dataUrl },
    sha256: { check: sha256 },
    split: { check: split },
    train: { check: int(1, MAX_EXAMPLES) },
    test: { check: int(1, MAX_EXAMPLES) },
    chunkExamples: { check: int(1, MAX_EXAMPLES) },
  },
  synthetic: {
    kind: { check: oneOf('synthetic') },
    seed: { check: int(0, 0xffffffff) },
    examples: { check: int(1, MAX_EXAMPLES) },
    features: { check: dim },
    classes: { check: classes },
    split: { check: split },
  },
};

/** A chunked data set's manifest lists at most MAX_CHUNKS chunks (a bounded list for every peer). */
export const MAX_CHUNKS = 1 << 16;
const datasetSpec: Check = (v, p, l) => {
  variant(DATASET)(v, p, l);
  const d = v as { kind: string; train: number; chunkExamples: number };
  if (d.kind === 'chunked' && Math.ceil(d.train / d.chunkExamples) > MAX_CHUNKS)
    fail(`${p}.chunkExamples`, `at least train / ${MAX_CHUNKS} (at most ${MAX_CHUNKS} chunks)`);
};

const TENSOR: FieldTable = { name: { check: name }, shape: { check: listOf(dim, { min: 0, max: MAX_RANK }) } };

const TASK: FieldTable = {
  model: { check: variant(MODEL) },
  dataset: { check: datasetSpec },
  layout: { check: listOf((v, p, l) => checkFields(v, p, TENSOR, l)) },
  paramCount: { check: (v, p, l) => int(1, l.maxParams)(v, p, l) },
};

/** Cross-field rule of a task: the layout's sizes add up to paramCount, names are unique. */
function checkTask(v: unknown, p: string, l: CodecLimits): void {
  checkFields(v, p, TASK, l);
  const task = v as { layout: { name: string; shape: number[] }[]; paramCount: number };
  const names = new Set<string>();
  let total = 0;
  for (const t of task.layout) {
    if (names.has(t.name)) fail(`${p}.layout`, `free of duplicate tensor names ('${t.name}' appears twice)`);
    names.add(t.name);
    // Dimensions are <= 2^24 and the running total is capped, so the product stays exact.
    let size = 1;
    for (const d of t.shape) {
      size *= d;
      if (size > l.maxParams) fail(`${p}.layout`, `at most ${l.maxParams} parameters`);
    }
    total += size;
    if (total > l.maxParams) fail(`${p}.layout`, `at most ${l.maxParams} parameters`);
  }
  if (total !== task.paramCount) {
    fail(`${p}.paramCount`, `the layout's total size ${total} (got ${task.paramCount})`);
  }
}

const MESSAGES: Readonly<Record<string, FieldTable>> = {
  hello: { token: { check: name }, name: { check: name }, backends: { check: listOf(name, { min: 0, max: 32 }) } },
  welcome: { peerId: { check: name }, task: { check: checkTask } },
  task: { task: { check: checkTask } },
  weights: { version: { check: uint }, weights: { check: float32Array } },
  'weights-change': { version: { check: uint }, base: { check: uint }, packed: { check: packedFloats } },
  assign: {
    iteration: { check: uint },
    version: { check: uint },
    shardId: { check: uint },
    indices: { check: uint32Array },
    pixels: { check: uint8Array, optional: true },
    labels: { check: uint8Array, optional: true },
    pack: { check: boolean, optional: true },
  },
  result: {
    iteration: { check: uint },
    version: { check: uint },
    shardId: { check: uint },
    gradSum: { check: float32Array, optional: true },
    gradPacked: { check: packedFloats, optional: true },
    lossSum: { check: finite },
    correct: { check: uint },
    count: { check: uint },
    computeMs: { check: nonNegFinite },
    backend: { check: name },
  },
  ready: {
    backend: { check: name },
    device: { check: text, optional: true },
    layout: { check: listOf((v, p, l) => checkFields(v, p, TENSOR, l), { min: 0 }) },
    paramCount: { check: uint },
    trainSize: { check: uint },
    testSize: { check: uint },
  },
  evaluate: {
    evalId: { check: uint },
    version: { check: uint },
    split: { check: split },
    indices: { check: uint32Array },
  },
  evaluated: { evalId: { check: uint }, lossSum: { check: finite }, correct: { check: uint }, count: { check: uint } },
  share: {
    iteration: { check: uint },
    epoch: { check: uint },
    loss: { check: nonNegFinite },
    share: { check: fraction },
    workers: { check: uint },
    standby: { check: text, optional: true },
    state: { check: oneOf('running', 'paused', 'waiting', 'stopped', 'done', 'failed'), optional: true },
    testAccuracy: { check: fraction, optional: true },
    speed: { check: nonNegFinite, optional: true },
  },
  heartbeat: { t: { check: finite }, echo: { check: finite, optional: true } },
  leave: { reason: { check: text } },
  error: { code: { check: name }, message: { check: text } },
  local: {
    round: { check: uint },
    version: { check: uint },
    indices: { check: uint32Array },
    sizes: { check: uint32Array },
    lrs: { check: float32Array },
    inner: { check: optimizerConfig },
    compress: { check: oneOf(...COMPRESSIONS) },
    baseVersion: { check: uint, optional: true },
    whalf: { check: uint16Array, optional: true },
    wq8: { check: int8Array, optional: true },
    wscales: { check: float32Array, optional: true },
    wblock: { check: int(1, 1 << 20), optional: true },
    prefetch: { check: uint32Array, optional: true },
    early: { check: boolean, optional: true },
  },
  prefetch: { examples: { check: uint32Array } },
  catchup: {
    round: { check: uint },
    q8: { check: int8Array },
    scales: { check: float32Array },
    block: { check: int(1, 1 << 20) },
  },
  'local-result': {
    round: { check: uint },
    version: { check: uint },
    delta: { check: float32Array, optional: true },
    half: { check: uint16Array, optional: true },
    q8: { check: int8Array, optional: true },
    scales: { check: float32Array, optional: true },
    block: { check: int(1, 1 << 20), optional: true },
    /** topk: each q8 value's place in its block, and how many a block keeps. */
    places: { check: uint8Array, optional: true },
    keep: { check: int(1, 256), optional: true },
    values: { check: uint, optional: true },
    lossSum: { check: finite },
    correct: { check: uint },
    count: { check: uint },
    computeMs: { check: nonNegFinite },
    backend: { check: name },
    ...OWN_EXAMPLES_FIELD,
    caughtUp: { check: boolean, optional: true },
  },
  ...CLASS_MESSAGES,
};
// v and type are checked first, by validateMessage itself; the tables list them so they are known.
const COMMON: FieldTable = { v: { check: () => {} }, type: { check: () => {} } };
const TABLES: Readonly<Record<string, FieldTable>> = Object.fromEntries(
  Object.entries(MESSAGES).map(([type, fields]) => [type, { ...COMMON, ...fields }]),
);

/**
 * Checks that `value` is a well-formed message of this protocol version and returns it, typed.
 * Throws GradroomError('BAD_MESSAGE') naming the message type and the offending field.
 */
export function validateMessage(value: unknown, limits?: Partial<CodecLimits>): Message {
  const l = resolveLimits(limits);
  if (!isPlainObject(value)) fail('message', 'an object');
  if (value.v !== PROTOCOL_VERSION) {
    const got = typeof value.v === 'number' ? String(value.v) : typeof value.v;
    throw new GradroomError(
      'BAD_MESSAGE',
      `message.v: protocol version ${got} is not supported (expected ${PROTOCOL_VERSION})`,
    );
  }
  const type = value.type;
  if (typeof type !== 'string' || !Object.hasOwn(MESSAGES, type)) {
    fail('message.type', `one of ${Object.keys(MESSAGES).join(', ')}`);
  }
  checkFields(value, type, TABLES[type], l);
  if (
    (type === 'result' || type === 'evaluated' || type === 'local-result') &&
    (value.correct as number) > (value.count as number)
  ) {
    fail(`${type}.correct`, `at most ${type}.count (${value.count})`);
  }
  if (type === 'result' && (value.gradSum === undefined) === (value.gradPacked === undefined))
    fail('result', 'holding exactly one of gradSum, gradPacked');
  if (type === 'weights-change' && (value.base as number) >= (value.version as number))
    fail('weights-change.base', `an earlier version than ${value.version}`);
  if (type === 'local-result') {
    const kinds = ['delta', 'half', 'q8'].filter((k) => value[k] !== undefined);
    if (kinds.length !== 1)
      fail('local-result', `holding exactly one of delta, half, q8 (got ${kinds.join(', ') || 'none'})`);
    if ((value.q8 !== undefined) !== (value.scales !== undefined && value.block !== undefined))
      fail('local-result', 'q8 with its scales and block, or none of them');
    const topk = ['places', 'keep', 'values'].filter((k) => value[k] !== undefined).length;
    if ((topk !== 0 && topk !== 3) || (topk === 3 && value.q8 === undefined))
      fail('local-result', 'topk: places, keep and values together, with q8, or none of them');
  }
  checkClassRules(type, value);
  if (type === 'local') {
    const sizes = value.sizes as Uint32Array;
    let total = 0;
    for (const n of sizes) total += n;
    if (
      sizes.length === 0 ||
      sizes.length !== (value.lrs as Float32Array).length ||
      total !== (value.indices as Uint32Array).length
    )
      fail('local.sizes', 'one entry per learning rate, adding up to the number of indices');
    const change = ['whalf', 'wq8'].filter((k) => value[k] !== undefined);
    if (change.length > 1) fail('local', 'holding at most one of whalf, wq8');
    if ((change.length === 1) !== (value.baseVersion !== undefined))
      fail('local', 'a weights change (whalf or wq8) with its baseVersion, or neither');
    if ((value.wq8 !== undefined) !== (value.wscales !== undefined && value.wblock !== undefined))
      fail('local', 'wq8 with its wscales and wblock, or none of them');
    if (value.prefetch !== undefined && (value.prefetch as Uint32Array).length > MAX_PREFETCH)
      fail('local.prefetch', `at most ${MAX_PREFETCH} examples`);
  }
  if (
    type === 'catchup' &&
    (value.scales as Float32Array).length !== Math.ceil((value.q8 as Int8Array).length / (value.block as number))
  )
    fail('catchup.scales', 'one scale per block of q8');
  if (type === 'assign' && (value.pixels !== undefined || value.labels !== undefined)) {
    const n = (value.indices as Uint32Array).length;
    const pixels = value.pixels as Uint8Array | undefined;
    const labels = value.labels as Uint8Array | undefined;
    if (pixels === undefined || labels === undefined) fail('assign', 'pixels with their labels, or neither');
    if (labels.length !== n) fail('assign.labels', `one label per index (${n})`);
    if (n === 0 || pixels.length === 0 || pixels.length % n !== 0)
      fail('assign.pixels', `the same number of bytes for each of the ${n} examples`);
  }
  if (type === 'prefetch' && (value.examples as Uint32Array).length > MAX_PREFETCH)
    fail('prefetch.examples', `at most ${MAX_PREFETCH} examples`);
  return value as unknown as Message;
}

/** The checks on a result that need the task: the result gate's CheckedShard.check (result-gate.ts). */
export function checkResult(msg: ResultMessage, expected: { paramCount: number }): CheckedShard {
  return CheckedShard.check(resultData(msg), { count: msg.count, paramCount: expected.paramCount });
}
