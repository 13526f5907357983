/**
 * Builds a tfjs model from a serializable spec: the built-in zoo (MLP, small CNN) or a tfjs layers
 * topology (model.toJSON() output: data, never code). Layer names are fixed so the parameter layout
 * is the same in every process. The last layer outputs logits; the loss applies softmax.
 */
import { GradroomError, type ModelSpec, type TensorShape } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';

export async function buildModel(spec: ModelSpec): Promise<tf.LayersModel> {
  if (spec.kind === 'mlp') {
    const layers: tf.layers.Layer[] = [];
    if (spec.inputShape.length > 1) layers.push(tf.layers.flatten({ name: 'flatten', inputShape: spec.inputShape }));
    spec.hidden.forEach((units, i) => {
      layers.push(
        tf.layers.dense({
          name: `dense_${i}`,
          units,
          activation: spec.activation ?? 'relu',
          ...(i === 0 && spec.inputShape.length === 1 ? { inputShape: spec.inputShape } : {}),
        }),
      );
    });
    layers.push(
      tf.layers.dense({
        name: 'logits',
        units: spec.classes,
        ...(spec.hidden.length === 0 && spec.inputShape.length === 1 ? { inputShape: spec.inputShape } : {}),
      }),
    );
    return tf.sequential({ name: 'mlp', layers });
  }
  if (spec.kind === 'cnn') {
    const layers: tf.layers.Layer[] = [];
    spec.filters.forEach((filters, i) => {
      layers.push(
        tf.layers.conv2d({
          name: `conv_${i}`,
          filters,
          kernelSize: 3,
          activation: 'relu',
          ...(i === 0 ? { inputShape: spec.inputShape } : {}),
        }),
      );
      layers.push(tf.layers.maxPooling2d({ name: `pool_${i}`, poolSize: 2 }));
    });
    layers.push(tf.layers.flatten({ name: 'flatten' }));
    layers.push(tf.layers.dense({ name: 'dense', units: spec.dense, activation: 'relu' }));
    layers.push(tf.layers.dense({ name: 'logits', units: spec.classes }));
    return tf.sequential({ name: 'cnn', layers });
  }
  if (spec.kind === 'layers') {
    try {
      return await tf.models.modelFromJSON({ modelTopology: spec.topology } as tf.io.ModelJSON);
    } catch (e) {
      throw new GradroomError('BAD_CONFIG', `model topology could not be built: ${(e as Error).message}`);
    }
  }
  throw new GradroomError('BAD_CONFIG', `unknown model kind ${(spec as { kind: string }).kind}`);
}

/** The trainable tensors in the order of the flat parameter buffer. */
export function modelLayout(model: tf.LayersModel): TensorShape[] {
  return model.trainableWeights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] }));
}

/** Bytes one example costs in a gradient step (activations and their gradients, float32), for the batch-size advice. */
export function bytesPerExample(model: tf.LayersModel): number {
  let floats = 0;
  for (const layer of model.layers) {
    const shape = layer.outputShape as (number | null)[];
    floats += shape.reduce<number>((a, d) => a * (d ?? 1), 1);
  }
  return floats * 4 * 3; // forward value, its gradient, and optimizer-free slack for temporaries
}
