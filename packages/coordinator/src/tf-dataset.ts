/**
 * A `tf.data.Dataset` as an `arrays` data set (issue 21): `await fromTfDataset(ds, { classes, test })`
 * reads the elements once, `{ xs, ys }` batches as `model.fitDataset` takes them (or one example
 * each with `batched: false`), disposes each element as it goes (fitDataset does too) and checks
 * everything as `arrays` and tensors are checked. Bounded: at most `maxExamples` examples per split.
 * Typed structurally, so the coordinator never imports tfjs.
 */
import { type DatasetSpec, GradroomError } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';
import {
  asValues,
  checkTensor,
  featuresOf,
  isTensorLike,
  labelsOf,
  type ReadTensor,
  type TensorLike,
  type TensorSplit,
  XS_DTYPES,
  YS_DTYPES,
  type YsKind,
} from './tensor-input.js';

/** What gradroom uses of a `tf.data.Dataset`. */
export interface TfDatasetLike {
  iterator(): Promise<{ next(): Promise<{ value: unknown; done?: boolean }> }>;
}

export interface TfDatasetOptions {
  /** Classification: the number of classes (ys: class indices or one-hot rows). Give this or targets. */
  classes?: number;
  /** Regression: values per example in ys. */
  targets?: number;
  /** The split scored after each epoch: another tf.data.Dataset, or tensors. */
  test: TfDatasetLike | TensorSplit;
  /**
   * Read at most this many examples from each split (the first ones; a batch across the bound is
   * cut). Without it a split of more than DEFAULT_MAX_EXAMPLES examples is refused.
   */
  maxExamples?: number;
  /** Elements are batches, [b, ...] (default, as model.fitDataset takes); false: one example each. */
  batched?: boolean;
  /** Shown in errors and progress (default 'tf.data'). */
  name?: string;
}

export const DEFAULT_MAX_EXAMPLES = 1_000_000;

type ArraysSpec = Extract<DatasetSpec, { kind: 'arrays' }>;

const badData = (m: string): never => {
  throw new GradroomError('BAD_DATA', m);
};
const badConfig = (m: string): never => {
  throw new GradroomError('BAD_CONFIG', m);
};

async function read(t: TensorLike, what: string): Promise<ReadTensor> {
  let values: unknown;
  try {
    values = await t.data();
  } catch (e) {
    return badData(`${what} could not be read: ${(e as Error).message}`);
  }
  return { shape: [...t.shape], dtype: t.dtype, values: asValues(values, what) };
}

const dispose = (v: unknown) => {
  if (isTensorLike(v)) (v as unknown as { dispose?: () => void }).dispose?.();
};

/** Values appended batch by batch, then joined once. */
class Rows {
  private parts: Float32Array[] = [];
  length = 0;
  add(v: Float32Array | Int32Array | Uint8Array, count: number): void {
    const part = new Float32Array(count);
    part.set(v.subarray(0, count)); // a copy: the element's tensors are disposed next
    this.parts.push(part);
    this.length += count;
  }
  join(): Float32Array {
    const out = new Float32Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Reads one split of a tf.data.Dataset: features and ys rows, at most `max` examples. */
async function readDataset(
  ds: TfDatasetLike,
  o: { max: number; explicitMax: boolean; batched: boolean },
  what: string,
): Promise<{ x: ReadTensor; y: ReadTensor }> {
  if (typeof (ds as Partial<TfDatasetLike>)?.iterator !== 'function')
    badConfig(`${what} must be a tf.data.Dataset (it has no iterator())`);
  const it = await ds.iterator();
  const xs = new Rows();
  const ys = new Rows();
  let xShape: number[] | undefined;
  let yShape: number[] | undefined;
  let n = 0;
  // each element brings at least one example, so max + 1 elements are enough to know more remain
  for (let e = 0; e <= o.max; e++) {
    const r = await it.next();
    if (r.done) break;
    const el = r.value as { xs?: unknown; ys?: unknown } | null;
    try {
      if (typeof el !== 'object' || el === null || !isTensorLike(el.xs) || !isTensorLike(el.ys))
        return badData(`${what}: element ${e} is not { xs, ys } (two tf.Tensors), as model.fitDataset takes`);
      const ex = checkTensor(el.xs, `${what} element ${e} xs`, XS_DTYPES);
      const ey = checkTensor(el.ys, `${what} element ${e} ys`, YS_DTYPES);
      const bx = o.batched ? [...ex.shape] : [1, ...ex.shape];
      const by = o.batched ? [...ey.shape] : [1, ...ey.shape];
      if (bx.length < 2)
        badData(
          `${what}: element ${e} xs has shape [${ex.shape}], not a batch [b, ...features]; for elements of one example each give batched: false`,
        );
      if (by.length < 1 || by[0] !== bx[0])
        badData(`${what}: element ${e} has ${bx[0]} examples in xs and ${by[0] ?? 0} in ys`);
      if (bx[0] < 1) badData(`${what}: element ${e} holds no examples`);
      xShape ??= bx.slice(1);
      yShape ??= by.slice(1);
      if (!same(xShape, bx.slice(1)) || !same(yShape, by.slice(1)))
        badData(
          `${what}: element ${e} has examples of shape [${bx.slice(1)}] -> [${by.slice(1)}]; element 0 had [${xShape}] -> [${yShape}]`,
        );
      if (n + bx[0] > o.max && !o.explicitMax)
        badData(`${what} holds more than ${o.max} examples: give maxExamples to read the first ones`);
      if (n === o.max) break;
      const take = Math.min(bx[0], o.max - n);
      const fx = xShape.reduce((a, b) => a * b, 1);
      const fy = yShape.reduce((a, b) => a * b, 1);
      xs.add((await read(ex, `${what} element ${e} xs`)).values, take * fx);
      ys.add((await read(ey, `${what} element ${e} ys`)).values, take * fy);
      n += take;
    } finally {
      dispose(el?.xs);
      dispose(el?.ys);
    }
  }
  if (n === 0 || !xShape || !yShape) return badData(`${what} gave no examples`);
  return {
    x: { shape: [n, ...xShape], dtype: 'float32', values: xs.join() },
    y: { shape: [n, ...yShape], dtype: 'float32', values: ys.join() },
  };
}

async function readTensors(s: TensorSplit, what: string): Promise<{ x: ReadTensor; y: ReadTensor }> {
  const x = await read(checkTensor(s.xs, `${what}.xs`, XS_DTYPES), `${what}.xs`);
  const y = await read(checkTensor(s.ys, `${what}.ys`, YS_DTYPES), `${what}.ys`);
  return { x, y };
}

/** Reads a tf.data.Dataset (and its test split) into a checked `arrays` data set. */
export async function fromTfDataset(ds: TfDatasetLike, opts: TfDatasetOptions): Promise<ArraysSpec> {
  if (typeof opts !== 'object' || opts === null) return badConfig('fromTfDataset needs options: { classes, test }');
  if ((opts.classes === undefined) === (opts.targets === undefined))
    badConfig('fromTfDataset: give classes (integer labels or one-hot rows) or targets (regression), exactly one');
  const max = opts.maxExamples ?? DEFAULT_MAX_EXAMPLES;
  if (!(Number.isSafeInteger(max) && max >= 1)) badConfig(`maxExamples must be a positive integer, got ${max}`);
  if (opts.test === undefined)
    badConfig('fromTfDataset: give test, the split scored after each epoch (a tf.data.Dataset or { xs, ys })');
  const name = opts.name ?? 'tf.data';
  const kind: YsKind =
    opts.classes !== undefined ? { classes: opts.classes, targets: 1 } : { classes: 0, targets: opts.targets ?? 1 };
  const how = { max, explicitMax: opts.maxExamples !== undefined, batched: opts.batched ?? true };
  const train = await readDataset(ds, how, name);
  const test = isTensorLike((opts.test as Partial<TensorSplit>).xs)
    ? await readTensors(opts.test as TensorSplit, `${name} test`)
    : await readDataset(opts.test as TfDatasetLike, how, `${name} test`);
  const split = (s: { x: ReadTensor; y: ReadTensor }, what: string) => {
    const f = featuresOf(s.x, `${what} xs`);
    return { inputShape: f.inputShape, x: f.x, y: labelsOf(s.y, s.x.shape[0], kind, `${what} ys`) };
  };
  const tr = split(train, name);
  const te = split(test, `${name} test`);
  if (!same(tr.inputShape, te.inputShape))
    badData(`${name} test has examples of shape [${te.inputShape}]; the training split [${tr.inputShape}]`);
  return arraysDataset({
    name,
    inputShape: tr.inputShape,
    train: { x: tr.x, y: tr.y },
    test: { x: te.x, y: te.y },
    ...(kind.classes > 0 ? { classes: kind.classes } : { targets: kind.targets }),
  });
}
