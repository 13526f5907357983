// The fuzz of issue 10: frames and messages from a hostile peer against everything that reads
// them first. Four targets, each fed valid inputs and seeded mutations of them:
//   decode:   bytes -> core's decodeMessage (size check, msgpack pre-scan, msgpackr, validation)
//   validate: decoded values -> core's validateMessage (schema, field by field)
//   frames:   chunks -> core's Reassembler (long-lived links sharing one ReassemblyBudget, a clock
//             that jumps so partial messages expire), what it completes -> decodeMessage
//   signal:   text -> the room server's parseClientMessage (JSON control messages)
// Every input must end in an accepted value or a GradroomError (the validators' documented
// rejection); anything else thrown is a crash. Counts are kept per target and outcome (the
// rejection code), and invariants are checked as it goes: what is accepted validates again, a
// stream that was only reordered reassembles to the same bytes, unfinished messages never hold
// more than their limits, and the shared budget is back to 0 once the links are closed.
// Used by scripts/fuzz.mjs (1,000,000 cases) and a CI-sized vitest test.
import {
  decodeMessage,
  encodeMessage,
  frameMessage,
  GradroomError,
  PROTOCOL_VERSION,
  packFloats,
  Reassembler,
  ReassemblyBudget,
  rngFor,
  validateMessage,
} from '../packages/core/dist/index.js';
import { parseClientMessage } from '../packages/worker/dist/peer/index.js';

const task = {
  model: { kind: 'mlp', inputShape: [20], hidden: [16], classes: 4, activation: 'relu' },
  dataset: { kind: 'synthetic', seed: 5, examples: 300, features: 20, classes: 4, split: 'train' },
  layout: [
    { name: 'd1/kernel', shape: [20, 16] },
    { name: 'd1/bias', shape: [16] },
    { name: 'out/kernel', shape: [16, 4] },
    { name: 'out/bias', shape: [4] },
  ],
  paramCount: 20 * 16 + 16 + 16 * 4 + 4,
};

/** One valid message of every type the wire protocol has. */
export function validMessages() {
  const f32 = (n, s = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s));
  return [
    { v: PROTOCOL_VERSION, type: 'hello', token: 'room-token', name: 'tab 1', backends: ['wasm', 'webgl'] },
    { v: PROTOCOL_VERSION, type: 'welcome', peerId: 'p1', task },
    {
      v: PROTOCOL_VERSION,
      type: 'task',
      task: {
        ...task,
        model: {
          kind: 'layers',
          topology: { class_name: 'Sequential', config: { layers: [{ units: 3 }] } },
          classes: 3,
        },
        dataset: { kind: 'mnist', split: 'test' },
      },
    },
    { v: PROTOCOL_VERSION, type: 'weights', version: 3, weights: f32(404) },
    {
      v: PROTOCOL_VERSION,
      type: 'assign',
      iteration: 4,
      version: 3,
      shardId: 2,
      indices: Uint32Array.from([5, 9, 0xffffffff]),
    },
    {
      v: PROTOCOL_VERSION,
      type: 'result',
      iteration: 4,
      version: 3,
      shardId: 2,
      gradSum: f32(404, 0.3),
      lossSum: 12.25,
      correct: 7,
      count: 16,
      computeMs: 3.5,
      backend: 'wasm',
    },
    { v: PROTOCOL_VERSION, type: 'heartbeat', t: 123456.5, echo: 42 },
    { v: PROTOCOL_VERSION, type: 'leave', reason: 'tab closed' },
    { v: PROTOCOL_VERSION, type: 'error', code: 'BAD_LENGTH', message: 'gradient has 99 values, expected 100' },
    {
      v: PROTOCOL_VERSION,
      type: 'ready',
      backend: 'wasm',
      layout: task.layout,
      paramCount: task.paramCount,
      trainSize: 300,
      testSize: 300,
    },
    {
      v: PROTOCOL_VERSION,
      type: 'evaluate',
      evalId: 3,
      version: 2,
      split: 'test',
      indices: Uint32Array.from([1, 2, 3, 4]),
    },
    { v: PROTOCOL_VERSION, type: 'evaluated', evalId: 3, lossSum: 1.5, correct: 2, count: 4 },
    {
      v: PROTOCOL_VERSION,
      type: 'share',
      iteration: 9,
      epoch: 1,
      loss: 0.4,
      share: 0.25,
      workers: 3,
      standby: 'standing by',
    },
    {
      v: PROTOCOL_VERSION,
      type: 'local',
      round: 12,
      version: 12,
      indices: Uint32Array.from([5, 1, 9, 3, 2]),
      sizes: Uint32Array.from([3, 2]),
      lrs: Float32Array.from([0.01, 0.009]),
      inner: { kind: 'adam', lr: 0.01 },
      compress: 'int8',
    },
    {
      v: PROTOCOL_VERSION,
      type: 'local-result',
      round: 12,
      version: 12,
      q8: Int8Array.from([1, -2, 127, 0]),
      scales: Float32Array.from([0.5, 0.25]),
      block: 2,
      lossSum: 3.5,
      correct: 2,
      count: 5,
      computeMs: 4,
      backend: 'wasm',
      ownExamples: 8,
    },
    // draw to train
    {
      v: PROTOCOL_VERSION,
      type: 'drawings',
      counts: [1, 0, 2, 0, 0, 1, 0, 0, 3, 1],
      heldOut: [0, 0, 1, 0, 0, 0, 0, 0, 1, 0],
      shared: Uint8Array.from({ length: 784 }, (_, i) => i % 256),
      sharedDigits: [8],
      named: true,
    },
    { v: PROTOCOL_VERSION, type: 'class-eval', evalId: 1, weights: f32(404) },
    {
      v: PROTOCOL_VERSION,
      type: 'class-evaluated',
      evalId: 1,
      correct: [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
      count: [0, 0, 1, 0, 0, 0, 0, 0, 1, 0],
    },
    // exact mode's packed floats (protocol 3): a weights change and a packed sum, whose bytes the
    // mutations reach through checkPacked
    {
      v: PROTOCOL_VERSION,
      type: 'weights-change',
      version: 4,
      base: 3,
      packed: packFloats(f32(404, 0.5), f32(404)),
    },
    {
      v: PROTOCOL_VERSION,
      type: 'result',
      iteration: 4,
      version: 3,
      shardId: 2,
      gradPacked: packFloats(f32(404, 0.3).map((x, i) => (i % 3 ? 0 : x))),
      lossSum: 12.25,
      correct: 7,
      count: 16,
      computeMs: 3.5,
      backend: 'wasm',
    },
  ];
}

/** One valid control message of every kind a room server client sends. */
export function validSignals() {
  const T = 'x'.repeat(27);
  return [
    { t: 'join', token: T },
    { t: 'join', token: T, name: 'Ana', key: 'k'.repeat(22) },
    { t: 'host', token: T, hostKey: T },
    { t: 'signal', data: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1' } },
    { t: 'signal', to: 'p1', data: { candidate: { candidate: 'a', sdpMLineIndex: 0, sdpMid: '0' } } },
    { t: 'relay' },
    { t: 'relay', to: 'p2' },
    { t: 'kick', peer: 'p1', reason: 'sent NaN', ban: true },
  ];
}

// ---- a small msgpack writer: schema-broken values must still reach the decoder as valid msgpack

const TYPED_CODES = new Map([
  [Int8Array, 0],
  [Uint8Array, 1],
  [Uint16Array, 4],
  [Uint32Array, 6],
  [Float32Array, 7],
  [Float64Array, 8],
  [Int32Array, 5],
]);

function pack(value, out) {
  const u8 = (...b) => out.push(...b);
  const u16 = (n) => u8((n >>> 8) & 0xff, n & 0xff);
  const u32 = (n) => u8((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  if (value === null || value === undefined) return u8(0xc0);
  if (value === true) return u8(0xc3);
  if (value === false) return u8(0xc2);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 128) return u8(value);
    if (Number.isInteger(value) && value >= -32 && value < 0) return u8(value & 0xff);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value);
    return u8(0xcb, ...b);
  }
  if (typeof value === 'string') {
    const b = new TextEncoder().encode(value);
    if (b.length < 32) u8(0xa0 | b.length);
    else if (b.length < 65536) {
      u8(0xda);
      u16(b.length);
    } else {
      u8(0xdb);
      u32(b.length);
    }
    for (const x of b) out.push(x);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const code = TYPED_CODES.get(value.constructor) ?? 1;
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    u8(0xc9);
    u32(bytes.length + 1);
    u8(0x74, code);
    for (const x of bytes) out.push(x);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length < 16) u8(0x90 | value.length);
    else {
      u8(0xdc);
      u16(value.length);
    }
    for (const v of value) pack(v, out);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length < 16) u8(0x80 | keys.length);
  else {
    u8(0xde);
    u16(keys.length);
  }
  for (const k of keys) {
    pack(k, out);
    pack(value[k], out);
  }
}

export function packValue(value) {
  const out = [];
  pack(value, out);
  return Uint8Array.from(out);
}

// ---- mutations

const WEIRD_NUMBERS = [
  -1,
  0,
  1,
  0.5,
  -0.0,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  5e-324,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0xffffffff,
  65536,
  4096,
  1e-300,
];
const WEIRD_STRINGS = [
  '',
  'x',
  '\u001b[2J\u001b[H',
  'line\nforged: ok',
  '__proto__',
  'constructor',
  'a'.repeat(300),
  'b'.repeat(70_000),
  '\ud800',
  'wasm',
  'test',
  'adam',
  '../../etc/passwd',
];

function pick(r, list) {
  return list[Math.floor(r.next() * list.length)];
}
const int = (r, n) => Math.floor(r.next() * n);

/** A random value of any kind the decoder could produce (and some it could not). */
function randomValue(r, depth = 0) {
  switch (int(r, depth > 2 ? 6 : 10)) {
    case 0:
      return pick(r, WEIRD_NUMBERS);
    case 1:
      return pick(r, WEIRD_STRINGS);
    case 2:
      return r.next() < 0.5;
    case 3:
      return null;
    case 4:
      return int(r, 1000) - 10;
    case 5: {
      const n = pick(r, [0, 1, 3, 404, 405, 4096]);
      const kind = pick(r, [Float32Array, Uint32Array, Int8Array, Uint16Array, Uint8Array, Float64Array]);
      const a = new kind(n);
      if (kind === Float32Array && n > 0 && r.next() < 0.5) a[int(r, n)] = pick(r, [Number.NaN, Infinity, 1e30]);
      return a;
    }
    case 6:
      return Array.from({ length: int(r, 5) }, () => randomValue(r, depth + 1));
    case 7: {
      const o = {};
      for (let i = int(r, 4); i > 0; i--)
        o[pick(r, ['kind', 'lr', 'shape', 'name', 'x', 'units'])] = randomValue(r, depth + 1);
      return o;
    }
    case 8: {
      // deep nesting
      let v = 1;
      for (let i = int(r, 60); i > 0; i--) v = r.next() < 0.5 ? [v] : { a: v };
      return v;
    }
    default:
      return JSON.parse('{"__proto__": {"polluted": true}, "kind": "mlp"}');
  }
}

/** A structural mutation of a message object (a shallow copy; nested values replaced, not edited). */
function mutateValue(r, m) {
  const v = { ...m };
  const keys = Object.keys(v);
  const k = pick(r, keys);
  switch (int(r, 7)) {
    case 0:
      delete v[k];
      break;
    case 1:
    case 2:
      v[k] = randomValue(r);
      break;
    case 3:
      v[pick(r, ['extra', 'constructor', 'then', 'type2', 'v '])] = randomValue(r);
      break;
    case 4:
      v.type = pick(r, ['result', 'weights', 'hello', 'assign', 'nope', '', 'local', 'ready']);
      break;
    case 5:
      v.v = pick(r, [0, 2, 1.5, '1', null]);
      break;
    default: {
      // one level down: a nested object's field
      const nested = keys.filter((x) => v[x] && typeof v[x] === 'object' && !ArrayBuffer.isView(v[x]));
      if (nested.length === 0) v[k] = randomValue(r);
      else {
        const n = pick(r, nested);
        v[n] = Array.isArray(v[n]) ? [...v[n], randomValue(r)] : mutateValue(r, v[n]);
      }
    }
  }
  return v;
}

const HEADERS = [
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xdf, 0x7f, 0xff, 0xff, 0xff],
  [0xdb, 0xff, 0xff, 0xff, 0xf0],
  [0xc9, 0x80, 0, 0, 0, 0x74, 7],
  [0xc9, 0, 0, 0, 3, 0x74, 7],
  [0xd4, 0x74, 7],
  [0xc7, 5, 0x01, 0, 0, 0, 0],
  [0xdc, 0xff, 0xff],
  [0x9f],
  [0xc1],
  [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
];

/** A byte-level mutation of an encoded message. */
function mutateBytes(r, bytes) {
  switch (int(r, 7)) {
    case 0: {
      const b = bytes.slice();
      for (let i = 1 + int(r, 4); i > 0; i--) {
        const at = r.next() < 0.5 ? int(r, Math.min(64, b.length)) : int(r, b.length);
        b[at] ^= 1 << int(r, 8);
      }
      return b;
    }
    case 1:
      return bytes.subarray(0, int(r, bytes.length));
    case 2: {
      const at = int(r, bytes.length);
      const h = pick(r, HEADERS);
      const out = new Uint8Array(bytes.length + h.length);
      out.set(bytes.subarray(0, at));
      out.set(h, at);
      out.set(bytes.subarray(at), at + h.length);
      return out;
    }
    case 3: {
      const b = bytes.slice();
      const at = int(r, b.length);
      const h = pick(r, HEADERS);
      b.set(h.slice(0, b.length - at), at);
      return b;
    }
    case 4:
      return Uint8Array.from({ length: int(r, 512) }, () => int(r, 256));
    case 5: {
      // two messages glued together: trailing bytes
      const out = new Uint8Array(bytes.length * 2);
      out.set(bytes);
      out.set(bytes, bytes.length);
      return out;
    }
    default:
      return packValue(mutateValue(r, JSON_SAFE_CACHE.get(bytes) ?? {}));
  }
}
const JSON_SAFE_CACHE = new Map();

/** A string-level mutation of a JSON control message. */
function mutateText(r, text, value) {
  switch (int(r, 8)) {
    case 0:
      return text.slice(0, int(r, text.length));
    case 1: {
      const at = int(r, text.length + 1);
      return text.slice(0, at) + pick(r, ['"', '{', '}', ']', ',', '\\', '\u0000', 'null', '1e999']) + text.slice(at);
    }
    case 2:
      return String.fromCharCode(...Array.from({ length: int(r, 200) }, () => int(r, 128)));
    case 3:
      return '['.repeat(int(r, 5000)) + ']'.repeat(int(r, 5000));
    case 4:
      return pick(r, [undefined, null, 42, {}, new Uint8Array(4)]);
    case 5:
      return `{"t":"signal","data":${'{"a":'.repeat(int(r, 40))}1${'}'.repeat(int(r, 40))}}`;
    case 6:
      return 'x'.repeat(64 * 1024 + int(r, 10));
    default:
      return JSON.stringify(mutateValue(r, value));
  }
}

// ---- the run

function outcome(counts, target, fn) {
  try {
    fn();
    counts[target].accepted = (counts[target].accepted ?? 0) + 1;
  } catch (e) {
    if (e instanceof GradroomError) {
      // the host's shared budget and expired partial messages are TOO_LARGE too: counted apart
      const code = e.name === 'InFlightLimitError' ? 'TOO_LARGE (in flight)' : e.code;
      counts[target][code] = (counts[target][code] ?? 0) + 1;
      return e;
    }
    throw e;
  }
  return null;
}

/**
 * Feeds `total` inputs (a message's bytes, a decoded value, one frame, a control message's text)
 * from `seed`, over the four targets. Returns counts per target and outcome (messages the links
 * completed are decoded and counted under 'reassembled'), the crashes (anything thrown that is not
 * a GradroomError, with its target and case number; at most 20 kept) and the invariant failures.
 */
export function fuzz(total, seed = 1) {
  const r = rngFor(seed, 0x5eed);
  const counts = { decode: {}, validate: {}, frames: {}, reassembled: {}, signal: {} };
  const crashes = [];
  const broken = [];
  let crashCount = 0;
  const crash = (target, i, e) => {
    crashCount++;
    if (crashes.length < 20)
      crashes.push({ target, case: i, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  };
  const messages = validMessages();
  // plain copies: encodeMessage returns a Node Buffer, whose slice() is a view, not a copy
  const encoded = messages.map((m) => new Uint8Array(encodeMessage(m)));
  encoded.forEach((b, i) => JSON_SAFE_CACHE.set(b, messages[i]));
  const signals = validSignals();
  const signalTexts = signals.map((s) => JSON.stringify(s));

  // frames: a few long-lived links of one host sharing a budget, with a clock that jumps
  let clock = 0;
  const budget = new ReassemblyBudget(512 * 1024);
  const limits = { maxMessageBytes: 64 * 1024, maxPendingMessages: 4, maxAgeMs: 60_000, budget, now: () => clock };
  const links = Array.from({ length: 4 }, () => new Reassembler(limits));
  let msgId = 1000; // above the few ids reused on purpose below
  let frames = 0;
  let inputs = 0;

  let i = 0;
  for (; inputs < total; i++) {
    const which = i % 10;
    const target = which < 3 ? 'decode' : which < 5 ? 'validate' : which < 8 ? 'frames' : 'signal';
    try {
      if (which < 3) {
        // decode
        const k = int(r, encoded.length);
        const bytes = r.next() < 0.05 ? encoded[k] : mutateBytes(r, encoded[k]);
        inputs++;
        let decoded;
        outcome(counts, 'decode', () => {
          decoded = decodeMessage(bytes, { maxMessageBytes: 64 * 1024 });
        });
        if (decoded !== undefined && validateMessage(decoded) !== decoded)
          broken.push(`decode case ${i}: an accepted message does not validate again`);
      } else if (which < 5) {
        // validate
        const m = pick(r, messages);
        let v = r.next() < 0.05 ? m : mutateValue(r, m);
        if (r.next() < 0.3) v = mutateValue(r, v);
        if (r.next() < 0.02) v = randomValue(r);
        inputs++;
        outcome(counts, 'validate', () => validateMessage(v));
      } else if (which < 8) {
        // frames: one message's chunks, maybe reordered, maybe broken, into one of the links
        const link = int(r, links.length);
        const k = int(r, encoded.length);
        const id = r.next() < 0.9 ? msgId++ : int(r, 8); // sometimes an id another message may hold
        const chunks = frameMessage(encoded[k], id >>> 0, 21 + int(r, 1200));
        const mode = int(r, 10);
        if (mode >= 3)
          for (let j = chunks.length - 1; j > 0; j--) {
            const s = int(r, j + 1);
            [chunks[j], chunks[s]] = [chunks[s], chunks[j]];
          }
        // only reordered, under an id of its own: it must come back exactly
        const intact = mode >= 3 && id === msgId - 1;
        if (!intact) {
          const c = int(r, chunks.length);
          const b = chunks[c].slice();
          switch (mode) {
            case 0:
              b[int(r, Math.min(20, b.length))] ^= 1 << int(r, 8); // header
              chunks[c] = b;
              break;
            case 1:
              chunks.splice(c, 0, r.next() < 0.5 ? chunks[c] : b.subarray(0, int(r, b.length))); // duplicate or cut
              break;
            default:
              if (r.next() < 0.5)
                chunks.splice(c, 1); // a lost chunk: left unfinished until it expires
              else chunks[c] = Uint8Array.from({ length: int(r, 300) }, () => int(r, 256));
          }
        }
        if (r.next() < 0.01) clock += 61_000; // a peer gone quiet: whatever is pending expires
        let whole = null;
        for (const chunk of chunks) {
          frames++;
          inputs++;
          let got = null;
          const err = outcome(counts, 'frames', () => {
            got = links[link].push(chunk);
          });
          if (err) {
            // a link drops its channel on a bad frame: a fresh reassembler, its bytes released
            links[link].clear();
            links[link] = new Reassembler(limits);
            break;
          }
          if (got) {
            whole = got;
            const m = outcome(counts, 'reassembled', () => decodeMessage(got, { maxMessageBytes: 64 * 1024 }));
            if (intact && m) broken.push(`frames case ${i}: a reordered message did not decode (${m.code})`);
          }
        }
        if (intact && whole && !equalBytes(whole, encoded[k]))
          broken.push(`frames case ${i}: a reordered message came back different`);
        for (const l of links)
          if (l.pendingMessages > limits.maxPendingMessages || l.bytesPending > 2 * limits.maxMessageBytes)
            broken.push(`frames case ${i}: a link holds ${l.pendingMessages} messages, ${l.bytesPending} bytes`);
        if (budget.inFlight > budget.maxBytes) broken.push(`frames case ${i}: budget at ${budget.inFlight}`);
      } else {
        // signal
        const k = int(r, signals.length);
        const text = r.next() < 0.05 ? signalTexts[k] : mutateText(r, signalTexts[k], signals[k]);
        inputs++;
        outcome(counts, 'signal', () => parseClientMessage(text));
      }
    } catch (e) {
      crash(target, i, e);
    }
  }
  for (const l of links) l.clear();
  if (budget.inFlight !== 0) broken.push(`the shared budget holds ${budget.inFlight} bytes after every link closed`);
  return { total: inputs, cases: i, seed, frames, counts, crashes, crashCount, broken };
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
