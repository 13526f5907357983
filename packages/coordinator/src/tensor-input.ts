/**
 * tf.Tensors as a job's data set (issue 21): `{ kind: 'tensors', xs, ys, test: { xs, ys } }` is
 * read once, at `new Trainer`, into an `arrays` data set (copies: the app may dispose its tensors
 * afterwards). Labels may come as class indices ([n] or [n, 1]) or one-hot rows ([n, K]), as a tfjs
 * classifier's `ys` usually do; targets as [n] or [n, T]. Typed structurally: the trainer never
 * imports tfjs. The same checks serve `fromTfDataset` (tf-dataset.ts).
 */
import { type ArraySplit, type DatasetSpec, GradroomError, lossInfo, type ModelSpec } from '@gradroom/core';
import { arraysDataset } from '@gradroom/worker/data';

/** What gradroom reads of a `tf.Tensor`. */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly isDisposed: boolean;
  dataSync(): unknown;
  data(): Promise<unknown>;
}

/** A split as tensors: `xs` [n, ...inputShape], `ys` labels, one-hot rows or targets, n rows. */
export interface TensorSplit {
  xs: TensorLike;
  ys: TensorLike;
}

/** Tensors as a job's data set; converted to an `arrays` data set at `new Trainer`. */
export interface TensorsDatasetInput extends TensorSplit {
  kind: 'tensors';
  /** Scored after every epoch (as tfjs's validationData). */
  test: TensorSplit;
  /** Shown in errors and progress (default 'tensors'). */
  name?: string;
  /** Default: from the model (its outputs, for a cross-entropy loss). */
  classes?: number;
  /** Regression: values per example; default: the model's outputs, for mse or mae. */
  targets?: number;
}

/** What a job's `dataset` may be: a spec, or tensors. */
export type DatasetInput = DatasetSpec | TensorsDatasetInput;

/** Class labels (classes > 0) or `targets` floats per example: what ys must become. */
export interface YsKind {
  classes: number;
  targets: number;
}

type Values = Float32Array | Int32Array | Uint8Array;

/** A tensor's values and shape, read once. */
export interface ReadTensor {
  shape: number[];
  dtype: string;
  values: Values;
}

const badData = (m: string): never => {
  throw new GradroomError('BAD_DATA', m);
};
const badConfig = (m: string): never => {
  throw new GradroomError('BAD_CONFIG', m);
};

export function isTensorLike(t: unknown): t is TensorLike {
  return (
    typeof t === 'object' &&
    t !== null &&
    Array.isArray((t as TensorLike).shape) &&
    typeof (t as TensorLike).dtype === 'string' &&
    typeof (t as TensorLike).dataSync === 'function'
  );
}

/** Checks what can be known before reading: a tensor, not disposed, a dtype gradroom trains on. */
export function checkTensor(t: unknown, what: string, dtypes: readonly string[]): TensorLike {
  if (!isTensorLike(t)) return badConfig(`${what} must be a tf.Tensor`);
  if (t.isDisposed)
    badData(`${what} is disposed: give the tensors before disposing them (gradroom copies them at new Trainer)`);
  if (!dtypes.includes(t.dtype)) badData(`${what} has dtype ${t.dtype}; gradroom reads ${dtypes.join(' or ')}`);
  return t;
}

export const XS_DTYPES = ['float32', 'int32'] as const;
export const YS_DTYPES = ['float32', 'int32', 'bool'] as const;

/** The values of a tensor read with dataSync (every backend has it; webgpu warns that it is slow). */
function readSync(t: TensorLike, what: string): ReadTensor {
  let values: unknown;
  try {
    values = t.dataSync();
  } catch (e) {
    return badData(`${what} could not be read: ${(e as Error).message}`);
  }
  return { shape: [...t.shape], dtype: t.dtype, values: asValues(values, what) };
}

export function asValues(v: unknown, what: string): Values {
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  return badData(`${what} did not give numbers`);
}

/** xs [n, ...inputShape] as float32 features (a copy). */
export function featuresOf(t: ReadTensor, what: string): { inputShape: number[]; x: Float32Array } {
  if (t.shape.length < 2)
    badData(`${what} has shape [${t.shape}]: it needs [examples, ...features], e.g. [n, 1] for one feature`);
  return { inputShape: t.shape.slice(1), x: Float32Array.from(t.values) };
}

/**
 * ys as gradroom's labels or targets (a copy). Labels: [n] or [n, 1] class indices, or [n, K] one-hot
 * rows (exactly one 1); targets: [n] or [n, T].
 */
export function labelsOf(t: ReadTensor, n: number, kind: YsKind, what: string): Uint8Array | Int32Array | Float32Array {
  if (t.shape.length < 1 || t.shape.length > 2)
    badData(`${what} has shape [${t.shape}]: it needs [examples] or [examples, values]`);
  if (t.shape[0] !== n) badData(`${what} has ${t.shape[0]} examples; the features have ${n}`);
  const width = t.shape.length === 2 ? t.shape[1] : 1;
  const v = t.values;
  if (kind.classes === 0) {
    if (width !== kind.targets)
      badData(`${what} has shape [${t.shape}]: the model predicts ${kind.targets} targets per example`);
    return Float32Array.from(v);
  }
  const labels = new Int32Array(n);
  if (width === 1) {
    for (let i = 0; i < n; i++) {
      if (!(Number.isInteger(v[i]) && v[i] >= 0 && v[i] < kind.classes))
        badData(`${what}: example ${i} has label ${v[i]}, not a class index 0..${kind.classes - 1}`);
      labels[i] = v[i];
    }
    return labels;
  }
  if (width !== kind.classes)
    badData(
      `${what} has shape [${t.shape}]: labels need [n] or [n, 1] (class indices) or [n, ${kind.classes}] (one-hot)`,
    );
  for (let i = 0; i < n; i++) {
    let hot = -1;
    let ones = 0;
    let others = 0;
    for (let k = 0; k < width; k++) {
      const x = v[i * width + k];
      if (x === 1) {
        hot = k;
        ones++;
      } else if (x !== 0) others++;
    }
    if (ones !== 1 || others > 0) badData(`${what}: example ${i} is not a one-hot row (exactly one 1, the rest 0)`);
    labels[i] = hot;
  }
  return labels;
}

/** One split of tensors as arrays, read now. */
function splitOf(s: unknown, kind: YsKind, what: string): { inputShape: number[]; split: ArraySplit } {
  if (typeof s !== 'object' || s === null) return badConfig(`${what} must be { xs, ys } (tf.Tensors)`);
  const { xs, ys } = s as Partial<TensorSplit>;
  const x = readSync(checkTensor(xs, `${what}.xs`, XS_DTYPES), `${what}.xs`);
  checkTensor(ys, `${what}.ys`, YS_DTYPES);
  const f = featuresOf(x, `${what}.xs`);
  const n = x.shape[0];
  if (n < 1) badData(`${what}.xs holds no examples`);
  const y = labelsOf(readSync(ys as TensorLike, `${what}.ys`), n, kind, `${what}.ys`);
  return { inputShape: f.inputShape, split: { x: f.x, y } };
}

/** What ys must be for this model: its loss and outputs decide, unless the input says. */
export function ysKindFor(model: ModelSpec, given: { classes?: number; targets?: number }): YsKind {
  if (given.classes !== undefined && given.targets !== undefined) badConfig('give classes or targets, not both');
  if (given.classes !== undefined) return { classes: given.classes, targets: 1 };
  if (given.targets !== undefined) return { classes: 0, targets: given.targets };
  const loss = model.loss ?? 'softmax-cross-entropy';
  if (lossInfo(loss).task === 'regression') return { classes: 0, targets: model.classes };
  // sigmoid with one output: 0/1 labels (two classes); with several, 0/1 targets (multi-label)
  if (loss === 'sigmoid-cross-entropy')
    return model.classes === 1 ? { classes: 2, targets: 1 } : { classes: 0, targets: model.classes };
  return { classes: model.classes, targets: 1 };
}

/** Tensors read into an arrays data set now; a spec as it is. */
export function datasetSpecOf(d: DatasetInput, model: ModelSpec): DatasetSpec {
  if ((d as { kind?: unknown })?.kind !== 'tensors') return d as DatasetSpec;
  const t = d as TensorsDatasetInput;
  const kind = ysKindFor(model, t);
  const name = t.name ?? 'tensors';
  const train = splitOf(t, kind, 'dataset');
  if (t.test === undefined)
    badConfig(
      'dataset.test is missing: give test: { xs, ys }, the split scored after each epoch (tfjs: validationData)',
    );
  const test = splitOf(t.test, kind, 'dataset.test');
  if (test.inputShape.join() !== train.inputShape.join())
    badData(`dataset.test.xs has examples of shape [${test.inputShape}]; dataset.xs [${train.inputShape}]`);
  return arraysDataset({
    name,
    inputShape: train.inputShape,
    train: train.split,
    test: test.split,
    ...(kind.classes > 0 ? { classes: kind.classes } : { targets: kind.targets }),
  });
}
