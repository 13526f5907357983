/**
 * The oracle for the training contract: the plain serial loop, one process, no framework. Same seed
 * and shuffle, take the same mini-batch, gradient of the mean loss, optimizer step. Its model is
 * built here with tfjs directly, its loss is tfjs's own (tf.losses.softmaxCrossEntropy,
 * sigmoidCrossEntropy, meanSquaredError, absoluteDifference, each with its mean reduction), and for
 * Adam its step is tfjs's own optimizer, so it shares no training code with the engine it checks.
 */
import {
  initWeights,
  type LossName,
  learningRate,
  ParamLayout,
  type ScheduleConfig,
  shuffleEpoch,
} from '@gradroom/core';
import type { Dataset } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';

export interface SerialJob {
  hidden: number[];
  inputFeatures: number;
  /** Outputs of the last layer: classes for softmax, targets (or 1 for 0/1 labels) otherwise. */
  classes: number;
  /** Default: softmax-cross-entropy. */
  loss?: LossName;
  batchSize: number;
  seed: number;
  iterations: number;
  adam: { lr: number; beta1: number; beta2: number; epsilon: number };
  schedule?: ScheduleConfig;
  /** Overrides the schedule: the rate of iteration `it` (e.g. a person's manual change mid-run). */
  lrAt?: (epoch: number, it: number) => number;
}

function mlp(job: SerialJob): tf.Sequential {
  const m = tf.sequential();
  job.hidden.forEach((units, i) =>
    m.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [job.inputFeatures] } : {}) })),
  );
  m.add(
    tf.layers.dense({ units: job.classes, ...(job.hidden.length === 0 ? { inputShape: [job.inputFeatures] } : {}) }),
  );
  return m;
}

/** The mean loss of a batch, by tfjs's own loss functions. */
function meanLoss(loss: LossName = 'softmax-cross-entropy', y: tf.Tensor, out: tf.Tensor, classes: number): tf.Scalar {
  // 0/1 class labels for a single sigmoid output become a column of float targets
  const asTargets = () => (y.dtype === 'int32' ? tf.reshape(tf.cast(y, 'float32'), [-1, 1]) : y);
  switch (loss) {
    case 'softmax-cross-entropy':
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, classes), out) as tf.Scalar;
    case 'sigmoid-cross-entropy':
      return tf.losses.sigmoidCrossEntropy(asTargets(), out) as tf.Scalar;
    case 'mean-squared-error':
      return tf.losses.meanSquaredError(asTargets(), out) as tf.Scalar;
    case 'mean-absolute-error':
      return tf.losses.absoluteDifference(asTargets(), out) as tf.Scalar;
  }
}

export async function serialTrain(job: SerialJob, train: Dataset): Promise<Float32Array> {
  const model = mlp(job);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // the engine's layout names are its own; the reference only needs the same order and shapes
  const layout = new ParamLayout(vars.map((v, i) => ({ name: `t${i}`, shape: v.shape })));
  const w0 = initWeights(layout, job.seed);
  layout.entries.forEach((e, i) => vars[i].assign(tf.tensor(w0.subarray(e.offset, e.offset + e.size), e.shape)));
  const opt = tf.train.adam(job.adam.lr, job.adam.beta1, job.adam.beta2, job.adam.epsilon);
  const perEpoch = Math.ceil(train.size / job.batchSize);
  let order = shuffleEpoch(job.seed, 0, train.size);
  for (let it = 0; it < job.iterations; it++) {
    const epoch = Math.floor(it / perEpoch);
    const b = it % perEpoch;
    if (b === 0) order = shuffleEpoch(job.seed, epoch, train.size);
    const idx = order.subarray(b * job.batchSize, Math.min(train.size, (b + 1) * job.batchSize));
    const xs = new Float32Array(idx.length * train.features);
    // class labels, or rows of float targets
    const t = train.classes > 0 ? 1 : train.targets;
    const ys = train.classes > 0 ? new Int32Array(idx.length) : new Float32Array(idx.length * t);
    idx.forEach((i, k) => {
      xs.set(train.x.subarray(i * train.features, (i + 1) * train.features), k * train.features);
      for (let j = 0; j < t; j++) ys[k * t + j] = train.y[i * t + j];
    });
    const lr = job.lrAt
      ? job.lrAt(epoch, it)
      : job.schedule
        ? learningRate(job.schedule, { epoch, iteration: it })
        : undefined;
    // tfjs's Adam reads its learning rate on every applyGradients
    if (lr !== undefined) (opt as unknown as { learningRate: number }).learningRate = lr;
    tf.tidy(() => {
      const x = tf.tensor2d(xs, [idx.length, train.features]);
      const labels = ys instanceof Int32Array ? tf.tensor1d(ys, 'int32') : tf.tensor2d(ys, [idx.length, t]);
      const { grads } = tf.variableGrads(
        () => meanLoss(job.loss, labels, model.predict(x) as tf.Tensor, job.classes),
        vars,
      );
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
    });
  }
  const out = new Float32Array(layout.size);
  layout.entries.forEach((e, i) => out.set(vars[i].dataSync(), e.offset));
  model.dispose();
  opt.dispose();
  return out;
}

/** ||a - b|| / ||b||: the contract's "equal up to float32 summation order" measure. */
export function relativeDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}
