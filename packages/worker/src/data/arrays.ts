/**
 * Bring your own arrays: a data set spec made from features and labels (or regression targets) the
 * app already holds. Local workers receive the arrays once, with the task; nothing is copied per
 * shard. Peers in a room cannot: pack the arrays (format.ts) and serve them by URL instead.
 */
import { type ArraySplit, type DatasetSpec, GradroomError } from '@gradroom/core';
import { type Dataset, validateDataset } from './dataset.js';

export interface ArraysOptions {
  /** Shown in errors and progress. */
  name?: string;
  /** Shape of one example, e.g. [4] or [28, 28, 1]. */
  inputShape: number[];
  train: ArraySplit;
  test: ArraySplit;
  /** Classification: the number of classes (labels are integers 0..classes-1). */
  classes?: number;
  /** Regression: values per example in `y` (float targets). Give `classes` or `targets`, not both. */
  targets?: number;
}

type ArraysSpec = Extract<DatasetSpec, { kind: 'arrays' }>;

/** A checked data set spec over the app's arrays (validated now, so a bad example fails here). */
export function arraysDataset(o: ArraysOptions): ArraysSpec {
  if ((o.classes === undefined) === (o.targets === undefined)) {
    throw new GradroomError('BAD_DATA', 'give classes (integer labels) or targets (regression), exactly one of them');
  }
  const spec: ArraysSpec = {
    kind: 'arrays',
    name: o.name ?? 'arrays',
    inputShape: [...o.inputShape],
    classes: o.classes ?? 0,
    targets: o.targets ?? 1,
    train: o.train,
    test: o.test,
    split: 'train',
  };
  datasetFromArrays(spec, 'train');
  datasetFromArrays(spec, 'test');
  return spec;
}

/** One split of an arrays spec as a validated Dataset (the arrays are used as they are, not copied). */
export function datasetFromArrays(spec: ArraysSpec, split: 'train' | 'test'): Dataset {
  const part = spec[split];
  const name = `${spec.name}/${split}`;
  if (!part || !(part.x instanceof Float32Array))
    throw new GradroomError('BAD_DATA', `${name}: x must be a Float32Array`);
  if (!(part.y instanceof Float32Array || part.y instanceof Int32Array || part.y instanceof Uint8Array)) {
    throw new GradroomError(
      'BAD_DATA',
      `${name}: y must be a Uint8Array or Int32Array of labels, or a Float32Array of targets`,
    );
  }
  if (spec.classes === 0 && !(part.y instanceof Float32Array)) {
    throw new GradroomError('BAD_DATA', `${name}: regression targets must be a Float32Array`);
  }
  const features = spec.inputShape.reduce((a, b) => a * b, 1);
  const size = part.x.length / features;
  if (!Number.isInteger(size)) {
    throw new GradroomError(
      'BAD_DATA',
      `${name}: ${part.x.length} feature values are not a whole number of examples of ${features} features (${JSON.stringify(spec.inputShape)})`,
    );
  }
  return validateDataset({
    name,
    size,
    inputShape: [...spec.inputShape],
    features,
    classes: spec.classes,
    targets: spec.targets,
    x: part.x,
    y: part.y,
  });
}
