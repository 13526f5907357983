/**
 * The named losses, as sums over a shard (DESIGN.md contract 2), and the check that a model's output
 * fits its loss and its data. Per example a loss is the mean over its outputs, so lossSum / count is
 * the mean loss tfjs's tf.losses.* computes for the same batch.
 */
import { checkOutputFit, GradroomError, type LossName, type TargetFacts } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';

/** What the data gives per example: an integer label (classes > 0) or `targets` floats. */
export type TargetSpec = TargetFacts;

/**
 * Rejects a model whose output does not fit the loss and the data: wrong rank or width, a softmax
 * or sigmoid already in the last layer of a cross-entropy model, labels where targets are needed
 * (core's checkOutputFit, which the coordinator also runs on the spec alone).
 */
export function checkLossFit(model: tf.LayersModel, loss: LossName, data: TargetSpec): void {
  const shape = model.outputs[0].shape;
  if (model.outputs.length !== 1 || shape.length !== 2) {
    throw new GradroomError(
      'BAD_CONFIG',
      `the model must have one output of shape [batch, units] for ${loss}, got ${JSON.stringify(shape)}`,
    );
  }
  const last = model.layers[model.layers.length - 1];
  const activation = (last.getConfig() as { activation?: string }).activation;
  checkOutputFit(loss, { units: shape[1] as number, activation, layer: last.name }, data);
}

/** Checks a binary cross-entropy's targets lie in [0, 1]; names the first that does not. */
export function checkBinaryTargets(y: Float32Array, targets: number, name: string): void {
  for (let i = 0; i < y.length; i++) {
    if (!(y[i] >= 0 && y[i] <= 1)) {
      throw new GradroomError(
        'BAD_DATA',
        `${name}: example ${Math.floor(i / targets)} has target ${y[i]}; sigmoid-cross-entropy needs targets in [0, 1]`,
      );
    }
  }
}

/**
 * Loss sum and correct count of a batch. `out` is [n, units]; `y` holds int32 labels [n] or float
 * targets [n, units]. Call inside tf.tidy or variableGrads.
 */
export function lossSums(
  loss: LossName,
  out: tf.Tensor2D,
  y: tf.Tensor,
  classes: number,
): { loss: tf.Scalar; correct: tf.Scalar } {
  const units = out.shape[1];
  if (loss === 'softmax-cross-entropy') {
    const logp = tf.logSoftmax(out);
    return {
      loss: tf.neg(tf.sum(tf.mul(tf.oneHot(y as tf.Tensor1D, classes), logp))) as tf.Scalar,
      correct: tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y), 'int32')) as tf.Scalar,
    };
  }
  const t = (y.dtype === 'int32' ? tf.reshape(tf.cast(y, 'float32'), [-1, 1]) : y) as tf.Tensor2D;
  const perOutput = (s: tf.Tensor) => tf.div(tf.sum(s), units) as tf.Scalar;
  if (loss === 'sigmoid-cross-entropy') {
    // the stable form max(z, 0) - z*t + log(1 + exp(-|z|)), as tfjs's sigmoidCrossEntropy
    const elem = tf.add(tf.sub(tf.relu(out), tf.mul(out, t)), tf.log1p(tf.exp(tf.neg(tf.abs(out)))));
    const right = tf.all(tf.equal(tf.greater(out, 0), tf.greater(t, 0.5)), 1);
    return { loss: perOutput(elem), correct: tf.sum(tf.cast(right, 'int32')) as tf.Scalar };
  }
  const diff = tf.sub(out, t);
  const elem = loss === 'mean-squared-error' ? tf.square(diff) : tf.abs(diff);
  return { loss: perOutput(elem), correct: tf.scalar(0, 'int32') };
}
