import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { GradroomError } from '../src/errors.js';
import { decodeMessage, encodeMessage } from '../src/protocol/codec.js';
import type { Message, ResultMessage, TaskSpec } from '../src/protocol/messages.js';
import { packFloats } from '../src/protocol/packed-floats.js';
import { checkResult, validateMessage } from '../src/protocol/validate.js';

const task: TaskSpec = {
  model: { kind: 'cnn', inputShape: [28, 28, 1], filters: [8], dense: 32, classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  layout: [
    { name: 'k', shape: [3, 3, 1, 8] },
    { name: 'b', shape: [8] },
    { name: 's', shape: [] },
  ],
  paramCount: 72 + 8 + 1,
};

const result = (over: Partial<ResultMessage> = {}): ResultMessage => ({
  v: 3,
  type: 'result',
  iteration: 1,
  version: 1,
  shardId: 3,
  gradSum: new Float32Array(100),
  lossSum: 2.5,
  correct: 4,
  count: 8,
  computeMs: 1,
  backend: 'cpu',
  ...over,
});

const samples: Message[] = [
  { v: 3, type: 'hello', token: 't', name: 'n', backends: [] },
  { v: 3, type: 'welcome', peerId: 'p', task },
  { v: 3, type: 'task', task },
  { v: 3, type: 'weights', version: 0, weights: new Float32Array(3) },
  {
    v: 3,
    type: 'weights-change',
    version: 4,
    base: 3,
    packed: packFloats(new Float32Array([1, 2]), new Float32Array(2)),
  },
  { v: 3, type: 'assign', iteration: 0, version: 0, shardId: 0, indices: new Uint32Array(2) },
  result(),
  { v: 3, type: 'heartbeat', t: -5, echo: 1e12 },
  { v: 3, type: 'leave', reason: '' },
  { v: 3, type: 'error', code: 'X', message: 'm' },
  {
    v: 3,
    type: 'ready',
    backend: 'wasm',
    layout: task.layout,
    paramCount: task.paramCount,
    trainSize: 10,
    testSize: 2,
  },
  { v: 3, type: 'evaluate', evalId: 3, version: 2, split: 'test', indices: new Uint32Array(4) },
  { v: 3, type: 'evaluated', evalId: 3, lossSum: 1.5, correct: 2, count: 4 },
  { v: 3, type: 'share', iteration: 9, epoch: 1, loss: 0.4, share: 0.25, workers: 3 },
];

/** The BAD_MESSAGE text that validateMessage gives for `value`. */
function reject(value: unknown, limits?: Parameters<typeof validateMessage>[1]): string {
  try {
    validateMessage(value, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(GradroomError);
    expect((e as GradroomError).code).toBe('BAD_MESSAGE');
    return (e as GradroomError).message;
  }
  throw new Error(`accepted: ${JSON.stringify(value)}`);
}

const withField = (msg: Message, key: string, value: unknown): unknown => ({ ...msg, [key]: value });

// A value of the wrong type for each kind of field.
function wrongValue(v: unknown): unknown {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return 7;
  if (v instanceof Float32Array) return new Float64Array(v.length);
  if (v instanceof Uint32Array) return Array.from(v);
  if (Array.isArray(v)) return 'list';
  return 1;
}

describe('validateMessage', () => {
  it.each(samples.map((m) => [m.type, m] as const))('accepts a valid %s and returns it', (_, m) => {
    expect(validateMessage(m)).toBe(m);
  });

  for (const msg of samples) {
    const fields = Object.keys(msg).filter((k) => k !== 'v' && k !== 'type');
    it(`${msg.type}: each missing or mistyped field is named`, () => {
      for (const k of fields) {
        const missing: Record<string, unknown> = { ...msg };
        delete missing[k];
        if (msg.type === 'heartbeat' && k === 'echo') expect(validateMessage(missing)).toBe(missing);
        else if (msg.type === 'result' && k === 'gradSum')
          expect(reject(missing)).toBe('result must be holding exactly one of gradSum, gradPacked');
        else expect(reject(missing)).toBe(`${msg.type}.${k} is missing`);
        expect(reject(withField(msg, k, wrongValue((msg as unknown as Record<string, unknown>)[k])))).toMatch(
          new RegExp(`^${msg.type}\\.${k}(\\.|\\[| )`),
        );
      }
    });
  }

  it('checks the room messages: shares are fractions, evaluated counts add up, splits are named', () => {
    expect(reject({ v: 3, type: 'share', iteration: 1, epoch: 0, loss: 1, share: 1.5, workers: 2 })).toBe(
      'share.share must be a number in [0, 1]',
    );
    expect(reject({ v: 3, type: 'evaluated', evalId: 1, lossSum: 1, correct: 5, count: 4 })).toMatch(
      /evaluated.correct must be at most evaluated.count/,
    );
    expect(
      reject({ v: 3, type: 'evaluate', evalId: 1, version: 0, split: 'val', indices: new Uint32Array(1) }),
    ).toMatch(/^evaluate.split/);
    expect(
      reject({
        v: 3,
        type: 'ready',
        backend: 'cpu',
        layout: [{ name: 'k', shape: [0] }],
        paramCount: 0,
        trainSize: 1,
        testSize: 1,
      }),
    ).toMatch(/^ready.layout\[0\].shape/);
  });

  it('names the exact problem', () => {
    expect(reject(result({ gradSum: new Float64Array(3) as unknown as Float32Array }))).toBe(
      'result.gradSum must be a Float32Array',
    );
    expect(reject(result({ gradSum: [1, 2] as unknown as Float32Array }))).toBe(
      'result.gradSum must be a Float32Array',
    );
    expect(reject(result({ iteration: -1 }))).toBe('result.iteration must be a non-negative integer');
    expect(reject(result({ shardId: 1.5 }))).toBe('result.shardId must be a non-negative integer');
    expect(reject(result({ lossSum: Number.NaN }))).toBe('result.lossSum must be a finite number');
    expect(reject(result({ lossSum: Number.POSITIVE_INFINITY }))).toMatch(/lossSum must be a finite/);
    expect(reject(result({ computeMs: -1 }))).toMatch(/computeMs must be a finite number >= 0/);
    expect(reject(result({ correct: 9 }))).toBe('result.correct must be at most result.count (8)');
    expect(reject(result({ backend: '' }))).toMatch(/^result\.backend must be a non-empty string/);
    expect(reject(result({ backend: 'x'.repeat(257) }))).toMatch(/at most 256 chars/);
    expect(reject({ ...samples[0], backends: ['ok', 3] })).toMatch(/^hello\.backends\[1\] must be/);
    expect(reject({ v: 3, type: 'heartbeat', t: Number.NEGATIVE_INFINITY })).toBe(
      'heartbeat.t must be a finite number',
    );
  });

  it('packed floats: a weights change from an earlier version, a result with exactly one gradient form', () => {
    const grad = Float32Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? i / 7 : 0));
    const packed = result({ gradSum: undefined, gradPacked: packFloats(grad) });
    // through the codec, as a peer sends it; and the host reads the sum back bit for bit
    const decoded = decodeMessage(encodeMessage(packed)) as ResultMessage;
    expect(decoded.gradPacked).toEqual(packed.gradPacked);
    expect(checkResult(decoded, { paramCount: 100 }).gradSum).toEqual(grad);
    expect(reject({ ...packed, gradSum: grad })).toBe('result must be holding exactly one of gradSum, gradPacked');
    expect(reject({ ...packed, gradPacked: packed.gradPacked?.subarray(0, 20).slice() })).toMatch(
      /^result\.gradPacked must be packed floats in their form \(packed floats: .*runs past the end|bytes where/,
    );
    expect(reject(packed, { maxParams: 99 })).toMatch(/gradPacked must be packed floats .*100 values, more than 99/);
    // a wrong count is the result gate's, as for float32 sums
    expect(() => checkResult(decoded, { paramCount: 101 })).toThrow('shard 3: gradient has 100 values, expected 101');
    const change = samples[4];
    expect(reject({ ...change, base: 4 })).toBe('weights-change.base must be an earlier version than 4');
    expect(reject({ ...change, packed: new Uint8Array(12) })).toMatch(
      /^weights-change\.packed must be packed floats .*format 0/,
    );
    expect(reject({ ...change, packed: Buffer.from(change.type === 'weights-change' ? change.packed : []) })).toBe(
      'weights-change.packed must be a Uint8Array',
    );
  });

  it('rejects typed-array subclasses (e.g. a Node Buffer-like view)', () => {
    class Sneaky extends Float32Array {}
    expect(reject(result({ gradSum: new Sneaky(100) }))).toBe('result.gradSum must be a Float32Array');
  });

  it("assign's examples (pixels and labels): both or neither, one label and as many bytes for each index", () => {
    const assign = samples[5];
    const withBytes = { ...assign, pixels: new Uint8Array(2 * 784), labels: new Uint8Array([3, 9]) };
    // through the codec as well: a peer decodes what a host encoded
    expect(decodeMessage(encodeMessage(withBytes as Message))).toEqual(withBytes);
    // as a browser's msgpackr writes a Uint8Array (bin, not the typed-array extension), decoded from a
    // Buffer (a Node data channel's, or simple-peer's polyfill in a tab): still a plain Uint8Array
    const asBin = new Packr({ useRecords: false, moreTypes: true }).pack({
      ...withBytes,
      pixels: Buffer.from(withBytes.pixels),
      labels: Buffer.from(withBytes.labels),
    });
    const decoded = decodeMessage(Buffer.from(asBin)) as typeof withBytes;
    expect(Object.getPrototypeOf(decoded.pixels)).toBe(Uint8Array.prototype);
    expect(decoded).toEqual(withBytes);
    expect(reject({ ...assign, pixels: new Uint8Array(2 * 784) })).toBe(
      'assign must be pixels with their labels, or neither',
    );
    expect(reject({ ...assign, labels: new Uint8Array(2) })).toBe(
      'assign must be pixels with their labels, or neither',
    );
    expect(reject({ ...withBytes, labels: new Uint8Array(3) })).toBe('assign.labels must be one label per index (2)');
    expect(reject({ ...withBytes, pixels: new Uint8Array(2 * 784 + 1) })).toBe(
      'assign.pixels must be the same number of bytes for each of the 2 examples',
    );
    expect(reject({ ...withBytes, pixels: new Uint8Array(0) })).toMatch(/^assign\.pixels must be the same number/);
    expect(reject({ ...withBytes, labels: new Int32Array(2) })).toBe('assign.labels must be a Uint8Array');
    expect(reject({ ...withBytes, pixels: new Uint8Array(2 * 784) }, { maxParams: 1000 })).toMatch(
      /assign\.pixels must be a Uint8Array of at most 1000/,
    );
  });

  it('enforces the limits', () => {
    expect(reject(samples[3], { maxParams: 2 })).toBe('weights.weights must be a Float32Array of at most 2 values');
    expect(reject(samples[5], { maxIndices: 1 })).toMatch(/assign\.indices must be a Uint32Array of at most 1/);
    expect(reject({ v: 3, type: 'leave', reason: 'abc' }, { maxStringLength: 2 })).toMatch(/leave\.reason/);
    expect(reject({ ...samples[0], backends: new Array(33).fill('x') })).toMatch(/hello\.backends must be an array/);
  });

  it('checks version, type and shape of the envelope', () => {
    expect(reject({ ...samples[8], v: 2 })).toBe('message.v: protocol version 2 is not supported (expected 3)');
    expect(reject({ type: 'leave', reason: '' })).toMatch(/protocol version undefined/);
    expect(reject({ v: 3, type: 'nope' })).toMatch(/^message\.type must be one of hello, welcome/);
    expect(reject({ v: 3, type: 'constructor' })).toMatch(/^message\.type/);
    expect(reject({ v: 3 })).toMatch(/^message\.type/);
    expect(reject(null)).toBe('message must be an object');
    expect(reject([1])).toBe('message must be an object');
    expect(reject(new Map())).toBe('message must be an object');
    expect(reject({ ...samples[8], extra: 1 })).toBe("leave has an unknown field 'extra'");
    // undefined counts as absent, as the encoder drops it
    expect(validateMessage({ ...samples[8], extra: undefined })).toBeTruthy();
  });

  describe('task spec', () => {
    const withTask = (t: unknown) => ({ v: 3, type: 'task', task: t });
    const ok = (t: unknown) => expect(validateMessage(withTask(t))).toBeTruthy();

    it('accepts every model and data set variant', () => {
      ok({ ...task, model: { kind: 'mlp', inputShape: [784], hidden: [], classes: 10 } });
      ok({ ...task, model: { kind: 'mlp', inputShape: [4], hidden: [8, 8], classes: 3, activation: 'tanh' } });
      ok({ ...task, model: { kind: 'layers', topology: { a: [1, 'x', null, true, { b: -2.5 }] }, classes: 2 } });
      ok({
        ...task,
        dataset: { kind: 'synthetic', seed: 0xffffffff, examples: 1, features: 4, classes: 2, split: 'test' },
      });
    });

    it('rejects bad specs, naming the field', () => {
      const cases: [unknown, RegExp][] = [
        [{ ...task, model: { kind: 'rnn' } }, /^task\.task\.model\.kind must be one of 'mlp', 'cnn', 'layers'/],
        [
          { ...task, model: { ...task.model, filters: [0] } },
          /^task\.task\.model\.filters\[0\] must be an integer in \[1, 65536\]/,
        ],
        [{ ...task, model: { ...task.model, inputShape: [28, 28] } }, /model\.inputShape must be an array of 3 to 3/],
        [{ ...task, model: { ...task.model, extra: 1 } }, /task\.task\.model has an unknown field 'extra'/],
        [
          { ...task, model: { kind: 'mlp', inputShape: [4], hidden: [], classes: 2, activation: 'gelu' } },
          /activation must be one of/,
        ],
        [
          { ...task, model: { kind: 'layers', topology: { w: new Float32Array(2) }, classes: 2 } },
          /topology\.w must be JSON data/,
        ],
        [
          { ...task, model: { kind: 'layers', topology: { w: Number.NaN }, classes: 2 } },
          /topology\.w must be JSON data/,
        ],
        [{ ...task, model: { kind: 'layers', topology: [], classes: 2 } }, /topology must be an object/],
        [
          { ...task, dataset: { kind: 'synthetic', seed: -1, examples: 1, features: 1, classes: 2, split: 'train' } },
          /dataset\.seed/,
        ],
        [{ ...task, dataset: { kind: 'mnist', split: 'val' } }, /dataset\.split must be one of 'train', 'test'/],
        [{ ...task, paramCount: 80 }, /^task\.task\.paramCount must be the layout's total size 81 \(got 80\)/],
        [{ ...task, layout: [{ name: 'a', shape: [0] }] }, /layout\[0\]\.shape\[0\] must be an integer in \[1,/],
        [{ ...task, layout: [{ name: 'a', shape: [1.5] }] }, /layout\[0\]\.shape\[0\]/],
        [{ ...task, layout: [{ name: '', shape: [1] }] }, /layout\[0\]\.name must be a non-empty string/],
        [{ ...task, layout: [] }, /layout must be an array of 1 to/],
        [
          {
            ...task,
            layout: [
              { name: 'a', shape: [1] },
              { name: 'a', shape: [1] },
            ],
            paramCount: 2,
          },
          /duplicate tensor names/,
        ],
        [{ ...task, layout: [{ name: 'a', shape: [1 << 24, 1 << 24] }] }, /layout must be at most 16777216 parameters/],
        [{ ...task, paramCount: 0 }, /paramCount must be an integer in \[1, 16777216\]/],
      ];
      for (const [t, why] of cases) expect(reject(withTask(t))).toMatch(why);
    });

    it('bounds the depth of a layers topology', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = { a: deep };
      expect(reject(withTask({ ...task, model: { kind: 'layers', topology: deep, classes: 2 } }))).toMatch(
        /nested at most 32/,
      );
    });
  });
});

describe('checkResult', () => {
  it('passes a result of the right length with finite values', () => {
    expect(() => checkResult(result(), { paramCount: 100 })).not.toThrow();
  });
  it('rejects a wrong length with BAD_LENGTH naming the shard', () => {
    const e = (() => {
      try {
        checkResult(result({ gradSum: new Float32Array(99) }), { paramCount: 100 });
      } catch (err) {
        return err as GradroomError;
      }
    })();
    expect(e?.code).toBe('BAD_LENGTH');
    expect(e?.message).toBe('shard 3: gradient has 99 values, expected 100');
  });
  it('rejects NaN and Inf with NON_FINITE naming the index', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const g = new Float32Array(100);
      g[17] = bad;
      expect(() => checkResult(result({ gradSum: g }), { paramCount: 100 })).toThrow(
        `shard 3: gradient holds ${bad} at index 17`,
      );
    }
    expect(() => checkResult(result({ lossSum: Number.NaN }), { paramCount: 100 })).toThrow(/lossSum is NaN/);
  });
});

describe('decode + validate', () => {
  it('reports schema errors from bytes as BAD_MESSAGE', () => {
    const bytes = encodeMessage(result());
    const bad = bytes.slice();
    // 'result' -> 'resulu': an unknown type after a successful msgpack decode.
    const at = bytes.indexOf(0x74, bytes.indexOf(0x72));
    bad[at] = 0x75;
    expect(() => decodeMessage(bad)).toThrow(/message\.type must be one of/);
  });
});
