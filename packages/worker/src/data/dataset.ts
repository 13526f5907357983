/** In-memory data with indexed access: what a worker gathers a shard from. */
import { GradroomError } from '@gradroom/core';

export interface Dataset {
  readonly name: string;
  readonly size: number;
  /** Shape of one example, e.g. [784] or [28, 28, 1]. */
  readonly inputShape: number[];
  readonly features: number;
  /** Classification: labels 0..classes-1, one per example in `y`. 0: `y` holds float targets. */
  readonly classes: number;
  /** Values per example in `y`: 1 for class labels, the target width otherwise. */
  readonly targets: number;
  /** Features of example i live at x[i*features .. (i+1)*features). */
  readonly x: Float32Array;
  /**
   * Features kept as the file's bytes (a uint8 source, e.g. images), each value byte / 255 once
   * gathered; `x` is then empty. A quarter of the memory of floats (Fashion-MNIST: 47 MB, not 188),
   * and loading skips a decoding pass and a finiteness check over every value.
   */
  readonly pixels?: Uint8Array;
  /** Class labels (integers), or targets of example i at y[i*targets .. (i+1)*targets). */
  readonly y: Uint8Array | Int32Array | Float32Array;
  /**
   * A data set held in parts (a chunked training split, chunked.ts, keeps only the chunks it
   * fetched): the part that holds example i and i's row in it; `x` and `y` are then empty.
   */
  readonly part?: (i: number) => Part;
}

/** The features (floats, or bytes as in Dataset.pixels) and targets of a part, and a row in it. */
export interface Part {
  x: Float32Array;
  pixels?: Uint8Array;
  y: Uint8Array | Int32Array | Float32Array;
  at: number;
}

/** Examples of an image data set as it stores them: `features` bytes each (value byte / 255), one class label each. */
export interface ExampleBytes {
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** A shard's examples: integer labels (Int32Array) or float targets (Float32Array, n x targets). */
export interface Examples {
  x: Float32Array;
  y: Int32Array | Float32Array;
}

/**
 * Image bytes as the [0, 1] floats a model takes: byte / 255 in double, then float32 (the one
 * place that scales them: decodePacked and gather agree bit for bit).
 */
export function bytesToUnit(src: Uint8Array, out: Float32Array, at = 0): void {
  for (let i = 0; i < src.length; i++) out[at + i] = src[i] / 255;
}

/** Where example `i` lives (the data set itself, or the part holding it) and its row there; the index checked. */
function row(ds: Dataset, i: number): Part {
  if (!Number.isInteger(i) || i < 0 || i >= ds.size) {
    throw new GradroomError('BAD_MESSAGE', `${ds.name}: example index ${i} is outside 0..${ds.size - 1}`);
  }
  return ds.part?.(i) ?? { x: ds.x, pixels: ds.pixels, y: ds.y, at: i };
}

/** Copies the examples at `indices` into contiguous buffers, checking every index. */
export function gather(ds: Dataset, indices: ArrayLike<number>): Examples {
  const f = ds.features;
  const t = ds.classes > 0 ? 1 : ds.targets;
  const x = new Float32Array(indices.length * f);
  const y = ds.classes > 0 ? new Int32Array(indices.length) : new Float32Array(indices.length * t);
  for (let k = 0; k < indices.length; k++) {
    const { x: sx, pixels, y: sy, at: j } = row(ds, indices[k]);
    if (pixels) bytesToUnit(pixels.subarray(j * f, (j + 1) * f), x, k * f);
    else x.set(sx.subarray(j * f, (j + 1) * f), k * f);
    if (t === 1) y[k] = sy[j];
    else y.set(sy.subarray(j * t, (j + 1) * t), k * t);
  }
  return { x, y };
}

/**
 * The examples at `indices` as the data set stores them (ExampleBytes: image bytes and class
 * labels), what a peer's exact-mode shard carries; undefined where the data set does not store
 * bytes (float features, regression targets, more than 256 classes).
 */
export function gatherBytes(ds: Dataset, indices: ArrayLike<number>): ExampleBytes | undefined {
  const f = ds.features;
  if (ds.classes < 2 || ds.classes > 256) return undefined;
  const pixels = new Uint8Array(indices.length * f);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const { pixels: src, y: sy, at: j } = row(ds, indices[k]);
    if (!src) return undefined;
    pixels.set(src.subarray(j * f, (j + 1) * f), k * f);
    labels[k] = sy[j];
  }
  return { pixels, labels };
}

/**
 * A shard's examples from their bytes (gatherBytes' form), as gather makes them: checked against
 * this data set's shape and classes, since they come from the coordinator over the wire.
 */
export function fromBytes(ds: Dataset, bytes: ExampleBytes, n: number): Examples {
  if (ds.classes < 2) throw new GradroomError('BAD_MESSAGE', `${ds.name}: examples as bytes need class labels`);
  if (bytes.labels.length !== n || bytes.pixels.length !== n * ds.features)
    throw new GradroomError(
      'BAD_MESSAGE',
      `${ds.name}: ${n} examples need ${n * ds.features} pixel bytes and ${n} labels, got ${bytes.pixels.length} and ${bytes.labels.length}`,
    );
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    if (bytes.labels[k] >= ds.classes)
      throw new GradroomError('BAD_MESSAGE', `${ds.name}: label ${bytes.labels[k]} is outside 0..${ds.classes - 1}`);
    y[k] = bytes.labels[k];
  }
  const x = new Float32Array(n * ds.features);
  bytesToUnit(bytes.pixels, x);
  return { x, y };
}

/** Indices 0..n-1, for evaluating on a whole split. */
export function allIndices(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

const bad = (m: string): never => {
  throw new GradroomError('BAD_DATA', m);
};

/**
 * Checks a data set as it loads: sizes agree with the shapes, every feature and target is finite,
 * every label is an integer in 0..classes-1. The error names the first bad example.
 */
export function validateDataset(ds: Dataset): Dataset {
  const { name, size, features, classes, targets } = ds;
  if (!(Number.isSafeInteger(size) && size > 0)) bad(`${name}: needs at least one example, got size ${size}`);
  if (!(ds.inputShape.length > 0 && ds.inputShape.every((d) => Number.isSafeInteger(d) && d > 0))) {
    bad(`${name}: input shape ${JSON.stringify(ds.inputShape)} must be positive integers`);
  }
  const per = ds.inputShape.reduce((a, b) => a * b, 1);
  if (per !== features) bad(`${name}: input shape ${JSON.stringify(ds.inputShape)} has ${per} values, not ${features}`);
  if (!(Number.isSafeInteger(classes) && classes >= 0)) bad(`${name}: classes must be an integer >= 0, got ${classes}`);
  if (classes === 1) bad(`${name}: classification needs at least 2 classes, got 1`);
  if (!(Number.isSafeInteger(targets) && targets > 0))
    bad(`${name}: targets must be a positive integer, got ${targets}`);
  if (classes > 0 && targets !== 1)
    bad(`${name}: class labels are one per example (targets 1), got targets ${targets}`);
  const held = ds.pixels ?? ds.x;
  if (held.length !== size * features) {
    bad(`${name}: ${size} examples of ${features} features need ${size * features} feature values, got ${held.length}`);
  }
  if (ds.y.length !== size * targets) {
    const what = classes > 0 ? 'labels' : `targets (${targets} each)`;
    bad(`${name}: ${size} examples need ${size * targets} ${what}, got ${ds.y.length}`);
  }
  // bytes are finite by construction: only floats are checked
  const x = ds.x;
  for (let i = 0; !ds.pixels && i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const ex = Math.floor(i / features);
      bad(`${name}: example ${ex} has a non-finite feature (${x[i]}) at position ${i - ex * features}`);
    }
  }
  const y = ds.y;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (classes > 0) {
      if (!(Number.isInteger(v) && v >= 0 && v < classes))
        bad(`${name}: example ${i} has label ${v}, outside 0..${classes - 1}`);
    } else if (!Number.isFinite(v)) {
      const ex = Math.floor(i / targets);
      bad(`${name}: example ${ex} has a non-finite target (${v}) at position ${i - ex * targets}`);
    }
  }
  return ds;
}
