/**
 * Serializable descriptions of what to train. They travel to untrusted peers, so they are plain
 * data (never code) and every field is validated on arrival (see protocol/validate.ts).
 */

/**
 * How a model's outputs are scored. The model's last layer outputs raw scores (logits for the
 * cross-entropies, predictions for the regressions); the loss applies softmax or sigmoid itself.
 * - softmax-cross-entropy: integer class labels, one output per class (the default);
 * - sigmoid-cross-entropy: binary labels: integer labels 0/1 with one output, or 0/1 targets, one
 *   output each (multi-label);
 * - mean-squared-error, mean-absolute-error: regression targets, one output each.
 * Per example the loss is the mean over its outputs, so lossSum / count is tfjs's mean loss.
 */
export type LossName = 'softmax-cross-entropy' | 'sigmoid-cross-entropy' | 'mean-squared-error' | 'mean-absolute-error';

/**
 * A model from the built-in zoo, or a tfjs layers topology (model.toJSON()). `classes` is the number
 * of outputs of the last layer (classes, or targets for regression). A cnn with `conv: '3d'` runs its
 * 3x3 convolutions as depth-1 Conv3D: the same function and weights, with gradient kernels on every
 * backend (wasm has no Conv2DBackpropFilter).
 */
export type ModelSpec =
  | {
      kind: 'mlp';
      inputShape: number[];
      hidden: number[];
      classes: number;
      activation?: 'relu' | 'tanh' | 'sigmoid';
      loss?: LossName;
    }
  | {
      kind: 'cnn';
      inputShape: [number, number, number];
      filters: number[];
      dense: number;
      classes: number;
      conv?: '2d' | '3d';
      loss?: LossName;
    }
  | { kind: 'layers'; topology: Record<string, unknown>; classes: number; loss?: LossName };

/** Examples held by the app: features row by row, and integer labels or float targets. */
export interface ArraySplit {
  /** size x features values. */
  x: Float32Array;
  /** Integer class labels (one per example), or float targets (size x targets). */
  y: Uint8Array | Int32Array | Float32Array;
}

/**
 * A data set the worker can load by itself; the coordinator then sends indices only.
 * - mnist, fashion-mnist (all 70,000 images), fashion-mnist-small (a 15,000-image subset for quick
 *   runs): built in, packed at build time with a fixed split.
 * - synthetic: generated from its seed.
 * - url: a packed data set file (packages/worker/src/data/format.ts) that the worker fetches once
 *   and checks against `sha256` (hex) before it joins; what volunteers in a room use.
 * - chunked: the same data cut into chunks of `chunkExamples` training examples, each its own
 *   packed file, listed with its SHA-256 in a manifest at `url` (whose own SHA-256 is `sha256`);
 *   the test split is one file. A worker fetches a chunk when a task first needs one of its
 *   examples, so in mode local a member fetches only its partition (packages/worker/src/data/chunked.ts).
 * - arrays: the app's own arrays, for local workers only (threads, Web Workers): they receive
 *   them once with the task. `classes` > 0 means integer labels 0..classes-1; 0 means float
 *   targets, `targets` per example.
 */
export type DatasetSpec =
  | { kind: 'mnist'; split: 'train' | 'test' }
  | { kind: 'fashion-mnist'; split: 'train' | 'test' }
  | { kind: 'fashion-mnist-small'; split: 'train' | 'test' }
  | { kind: 'synthetic'; seed: number; examples: number; features: number; classes: number; split: 'train' | 'test' }
  | { kind: 'url'; url: string; sha256: string; split: 'train' | 'test' }
  | {
      kind: 'chunked';
      url: string;
      sha256: string;
      split: 'train' | 'test';
      train: number;
      test: number;
      chunkExamples: number;
    }
  | {
      kind: 'arrays';
      name: string;
      inputShape: number[];
      classes: number;
      targets: number;
      train: ArraySplit;
      test: ArraySplit;
      split: 'train' | 'test';
    };

/** One named tensor of the model, in the order of the flat parameter buffer. */
export interface TensorShape {
  name: string;
  shape: number[];
}
