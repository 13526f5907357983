/**
 * The packed data set format ("GRDS" version 1): what `gradroom pack-data` writes, what a data set
 * spec of kind 'url' names, and how Fashion-MNIST ships. All integers little-endian.
 *
 *   offset  size  field
 *   0       u32   magic 0x53445247 ('GRDS' as bytes)
 *   4       u32   version, 1
 *   8       u32   train examples (the first ones in the file)
 *   12      u32   test examples (after them)
 *   16      u32   classes: > 0 means integer labels 0..classes-1; 0 means float targets
 *   20      u32   targets: values per example in the labels section (1 for class labels)
 *   24      u8    feature type: 0 float32, 1 uint8 (value / 255)
 *   25      u8    label type: 0 uint8, 1 float32, 2 uint32
 *   26      u8    rank of one example's shape (1..4)
 *   27      u8    0
 *   28      u32   dims[rank]
 *   then    features of every example, row by row (train then test)
 *   then    0-3 zero bytes, so the labels start at a multiple of 4
 *   then    labels: one per example, or `targets` float32 per example
 *
 * The file's length must be exactly what its header promises: a truncated file is an error.
 */
import { GradroomError } from '@gradroom/core';
import { bytesToUnit, type Dataset } from './dataset.js';

export const PACKED_MAGIC = 0x53445247;
export const PACKED_VERSION = 1;

const FEATURE_TYPES = ['float32', 'uint8'] as const;
const LABEL_TYPES = ['uint8', 'float32', 'uint32'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
type LabelType = (typeof LABEL_TYPES)[number];

const BYTES: Record<FeatureType | LabelType, number> = { float32: 4, uint8: 1, uint32: 4 };

export interface PackedHeader {
  train: number;
  test: number;
  classes: number;
  targets: number;
  featureType: FeatureType;
  labelType: LabelType;
  inputShape: number[];
  /** Byte offsets of the two sections and the whole file's length. */
  featuresAt: number;
  labelsAt: number;
  byteLength: number;
}

const bad = (name: string, m: string): never => {
  throw new GradroomError('BAD_DATA', `${name}: ${m}`);
};

/** Rounds up to a multiple of 4 in plain numbers: `(n + 3) & ~3` wraps at 2^31 and let a lying header pass. */
const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/** Reads and checks the header, including that the file holds exactly what it promises. */
export function readPackedHeader(bytes: Uint8Array, name = 'data set file'): PackedHeader {
  if (bytes.byteLength < 32) bad(name, `${bytes.byteLength} bytes is too short for a packed data set header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== PACKED_MAGIC) bad(name, 'not a packed gradroom data set (no GRDS magic)');
  const version = dv.getUint32(4, true);
  if (version !== PACKED_VERSION) bad(name, `format version ${version} is not supported (expected ${PACKED_VERSION})`);
  const [train, test, classes, targets] = [8, 12, 16, 20].map((o) => dv.getUint32(o, true));
  const featureType = FEATURE_TYPES[bytes[24]];
  const labelType = LABEL_TYPES[bytes[25]];
  const rank = bytes[26];
  if (!featureType) bad(name, `unknown feature type ${bytes[24]}`);
  if (!labelType) bad(name, `unknown label type ${bytes[25]}`);
  if (!(rank >= 1 && rank <= 4)) bad(name, `example rank ${rank} is outside 1..4`);
  if (train + test === 0 || train === 0) bad(name, 'holds no training examples');
  if (targets === 0) bad(name, 'targets must be at least 1');
  if (classes > 0 && (targets !== 1 || labelType === 'float32'))
    bad(name, 'class labels must be one integer per example');
  if (classes === 0 && labelType !== 'float32') bad(name, 'float targets (classes 0) must be float32');
  const headerBytes = 28 + 4 * rank;
  if (bytes.byteLength < headerBytes) bad(name, 'truncated inside its header');
  const inputShape = Array.from({ length: rank }, (_, i) => dv.getUint32(28 + 4 * i, true));
  if (inputShape.some((d) => d === 0)) bad(name, `example shape ${JSON.stringify(inputShape)} has a zero dimension`);
  const features = inputShape.reduce((a, b) => a * b, 1);
  const n = train + test;
  const featuresAt = headerBytes;
  const labelsAt = pad4(featuresAt + n * features * BYTES[featureType as FeatureType]);
  const byteLength = labelsAt + n * targets * BYTES[labelType as LabelType];
  if (!Number.isSafeInteger(byteLength)) bad(name, 'header promises an impossible size');
  if (bytes.byteLength !== byteLength) {
    bad(
      name,
      `has ${bytes.byteLength} bytes but its header promises ${byteLength} (${n} examples of ${JSON.stringify(inputShape)})${bytes.byteLength < byteLength ? ': the file is truncated' : ''}`,
    );
  }
  return {
    train,
    test,
    classes,
    targets,
    featureType: featureType as FeatureType,
    labelType: labelType as LabelType,
    inputShape,
    featuresAt,
    labelsAt,
    byteLength,
  };
}

/**
 * One split of a packed file as a Dataset (features become float32; uint8 ones are divided by 255).
 * `keepBytes`: uint8 features stay bytes (Dataset.pixels, scaled as they are gathered), with no
 * decoding pass: what a worker that trains on the file holds.
 */
export function decodePacked(
  bytes: Uint8Array,
  split: 'train' | 'test',
  name = 'data set file',
  opts: { keepBytes?: boolean } = {},
): Dataset {
  const h = readPackedHeader(bytes, name);
  const features = h.inputShape.reduce((a, b) => a * b, 1);
  const [first, size] = split === 'train' ? [0, h.train] : [h.train, h.test];
  if (size === 0) bad(name, `has no ${split} examples`);
  const keep = opts.keepBytes === true && h.featureType === 'uint8';
  const x = new Float32Array(keep ? 0 : size * features);
  const fStart = h.featuresAt + first * features * BYTES[h.featureType];
  // kept: a copy, so the file's buffer (and the other split in it) can be let go
  const pixels = keep ? bytes.slice(fStart, fStart + size * features) : undefined;
  if (h.featureType === 'uint8') {
    if (!keep) bytesToUnit(bytes.subarray(fStart, fStart + size * features), x);
  } else {
    // copy through a fresh buffer: the file's float section need not be 4-byte aligned in memory
    x.set(new Float32Array(bytes.slice(fStart, fStart + size * features * 4).buffer));
  }
  const t = h.targets;
  const lStart = h.labelsAt + first * t * BYTES[h.labelType];
  const raw = bytes.slice(lStart, lStart + size * t * BYTES[h.labelType]).buffer;
  const y =
    h.labelType === 'uint8'
      ? new Uint8Array(raw)
      : h.labelType === 'uint32'
        ? new Int32Array(raw)
        : new Float32Array(raw);
  if (h.labelType === 'uint32' && (y as Int32Array).some((v) => v < 0))
    bad(`${name}/${split}`, 'a label is above 2^31');
  return {
    name: `${name}/${split}`,
    size,
    inputShape: h.inputShape,
    features,
    classes: h.classes,
    targets: t,
    x,
    ...(pixels ? { pixels } : {}),
    y,
  };
}

export interface PackInput {
  inputShape: number[];
  /** > 0: integer labels 0..classes-1 in y; 0: float targets, `targets` per example. */
  classes: number;
  targets?: number;
  train: { x: Float32Array | Uint8Array; y: ArrayLike<number> };
  test: { x: Float32Array | Uint8Array; y: ArrayLike<number> };
}

/**
 * Writes the packed format. Features given as Uint8Array are stored as bytes (read back as
 * value / 255); Float32Array features are stored as float32.
 */
export function encodePacked(d: PackInput): Uint8Array {
  const rank = d.inputShape.length;
  if (!(rank >= 1 && rank <= 4)) throw new GradroomError('BAD_DATA', `example rank ${rank} is outside 1..4`);
  const features = d.inputShape.reduce((a, b) => a * b, 1);
  const targets = d.classes > 0 ? 1 : (d.targets ?? 1);
  const featureType: FeatureType = d.train.x instanceof Uint8Array ? 'uint8' : 'float32';
  if ((d.test.x instanceof Uint8Array ? 'uint8' : 'float32') !== featureType) {
    throw new GradroomError('BAD_DATA', 'train and test features must have the same type');
  }
  const labelType: LabelType = d.classes === 0 ? 'float32' : d.classes <= 256 ? 'uint8' : 'uint32';
  const train = d.train.y.length / targets;
  const test = d.test.y.length / targets;
  for (const [s, part, n] of [
    ['train', d.train, train],
    ['test', d.test, test],
  ] as const) {
    if (!Number.isInteger(n) || part.x.length !== n * features) {
      throw new GradroomError(
        'BAD_DATA',
        `${s}: ${part.x.length} feature values and ${part.y.length} labels do not fit ${features} features and ${targets} target(s) per example`,
      );
    }
  }
  const headerBytes = 28 + 4 * rank;
  const n = train + test;
  const labelsAt = pad4(headerBytes + n * features * BYTES[featureType]);
  const out = new Uint8Array(labelsAt + n * targets * BYTES[labelType]);
  const dv = new DataView(out.buffer);
  [PACKED_MAGIC, PACKED_VERSION, train, test, d.classes, targets].forEach((v, i) => dv.setUint32(i * 4, v, true));
  out[24] = FEATURE_TYPES.indexOf(featureType);
  out[25] = LABEL_TYPES.indexOf(labelType);
  out[26] = rank;
  d.inputShape.forEach((v, i) => dv.setUint32(28 + 4 * i, v, true));
  let o = headerBytes;
  for (const part of [d.train, d.test]) {
    const b = new Uint8Array(part.x.buffer, part.x.byteOffset, part.x.byteLength);
    out.set(b, o);
    o += b.byteLength;
  }
  o = labelsAt;
  for (const part of [d.train, d.test]) {
    for (let i = 0; i < part.y.length; i++) {
      const v = part.y[i];
      if (labelType === 'float32') dv.setFloat32(o, v, true);
      else if (!(Number.isInteger(v) && v >= 0 && v < d.classes)) {
        throw new GradroomError('BAD_DATA', `label ${v} at ${i} is outside 0..${d.classes - 1}`);
      } else if (labelType === 'uint8') out[o] = v;
      else dv.setUint32(o, v, true);
      o += BYTES[labelType];
    }
  }
  return out;
}
