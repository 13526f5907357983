/**
 * Predictions of a trained model, read the way its loss reads the outputs: softmax probabilities and
 * the top class for softmax cross-entropy, sigmoid probabilities for sigmoid cross-entropy, the raw
 * outputs for a regression. Also turns an RGBA image into the model's input (`gradroom predict`).
 */
import { GradroomError, type ModelSpec } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';

export interface Prediction {
  /** The model's raw outputs (logits for the cross-entropies). */
  outputs: number[];
  /** Softmax (or sigmoid) of the outputs, for a classification loss. */
  probabilities?: number[];
  /** The most likely class (softmax), or 0/1 for a single sigmoid output. */
  class?: number;
}

/** The model's input shape without the batch dimension. */
export function inputShapeOf(model: tf.LayersModel): number[] {
  const shape = model.inputs[0]?.shape.slice(1) ?? [];
  if (!shape.every((d): d is number => typeof d === 'number' && d > 0))
    throw new GradroomError('BAD_CONFIG', `the model's input shape [${shape.join(',')}] is not fixed`);
  return shape;
}

/** Predicts `x` (examples row by row, each the model's input size), in batches of 256. */
export function predictRows(model: tf.LayersModel, spec: ModelSpec, x: Float32Array): Prediction[] {
  const shape = inputShapeOf(model);
  const per = shape.reduce((a, b) => a * b, 1);
  if (x.length % per !== 0)
    throw new GradroomError('BAD_DATA', `input holds ${x.length} values, not a multiple of the model's ${per}`);
  const loss = (spec as { loss?: string }).loss ?? 'softmax-cross-entropy';
  const out: Prediction[] = [];
  const n = x.length / per;
  for (let start = 0; start < n; start += 256) {
    const count = Math.min(256, n - start);
    const y = tf.tidy(() => {
      const input = tf.tensor(x.subarray(start * per, (start + count) * per), [count, ...shape]);
      return model.predict(input) as tf.Tensor;
    });
    const values = y.arraySync() as number[][];
    y.dispose();
    values.forEach((outputs, k) => {
      // weights near the float32 limit overflow to Infinity and then NaN: no class can be read from that
      const j = outputs.findIndex((v) => !Number.isFinite(v));
      if (j >= 0)
        throw new GradroomError(
          'NON_FINITE',
          `the model's output ${j} for example ${start + k} is ${outputs[j]}: its weights are unusable (too large or corrupt)`,
        );
      out.push(read(outputs, loss));
    });
  }
  return out;
}

function read(outputs: number[], loss: string): Prediction {
  if (loss === 'softmax-cross-entropy') {
    const max = Math.max(...outputs);
    const e = outputs.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    const probabilities = e.map((v) => v / sum);
    return { outputs, probabilities, class: probabilities.indexOf(Math.max(...probabilities)) };
  }
  if (loss === 'sigmoid-cross-entropy') {
    const probabilities = outputs.map((v) => 1 / (1 + Math.exp(-v)));
    return probabilities.length === 1
      ? { outputs, probabilities, class: probabilities[0] >= 0.5 ? 1 : 0 }
      : { outputs, probabilities };
  }
  return { outputs };
}

/**
 * An RGBA image as one input of `shape`: [H, W, C] with C 1 (grey: the mean of R, G, B) or 3, or a
 * flat [H*W] for a square grey image. Values are scaled to [0, 1] like the built-in data sets;
 * transparent pixels count as black (a digit drawn on a transparent background). Resized bilinearly
 * when the image is not H x W.
 */
export function imageToInput(
  image: { width: number; height: number; rgba: Uint8Array },
  shape: readonly number[],
  opts: { invert?: boolean } = {},
): Float32Array {
  let [h, w, c] = shape;
  if (shape.length === 1) {
    const side = Math.round(Math.sqrt(shape[0]));
    if (side * side !== shape[0])
      throw new GradroomError('BAD_CONFIG', `the model takes ${shape[0]} values, not an image`);
    [h, w, c] = [side, side, 1];
  } else if (shape.length === 2) c = 1;
  else if (shape.length !== 3 || (c !== 1 && c !== 3))
    throw new GradroomError('BAD_CONFIG', `the model's input [${shape.join(',')}] is not an image of 1 or 3 channels`);
  const { width, height, rgba } = image;
  const px = new Float32Array(width * height * c);
  for (let i = 0; i < width * height; i++) {
    const a = rgba[i * 4 + 3] / 255;
    const rgb = [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]].map((v) => (v / 255) * a);
    const vals = c === 1 ? [(rgb[0] + rgb[1] + rgb[2]) / 3] : rgb;
    for (let k = 0; k < c; k++) px[i * c + k] = opts.invert ? 1 - vals[k] : vals[k];
  }
  if (width === w && height === h) return px;
  return tf.tidy(() => {
    const t = tf.image.resizeBilinear(tf.tensor3d(px, [height, width, c]), [h, w]);
    return new Float32Array(t.dataSync());
  });
}
