/**
 * Builds a tfjs model from a serializable spec: the built-in zoo (MLP, small CNN) or a tfjs layers
 * topology (model.toJSON() output: data, never code). The zoo's architectures are defined once, in
 * @gradroom/core's zoo.ts; layer names are fixed there so the parameter layout is the same in every
 * process. The last layer outputs logits or predictions; the loss applies softmax or sigmoid.
 */
import { GradroomError, type ModelSpec, type TensorShape, type ZooLayer, zooArchitecture } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';

/** The tfjs layer of one zoo layer (core/zoo.ts defines the architectures). */
function zooLayer(l: ZooLayer, inputShape?: number[]): tf.layers.Layer {
  const first = inputShape ? { inputShape } : {};
  switch (l.type) {
    case 'flatten':
      return tf.layers.flatten({ name: l.name, ...first });
    case 'reshape':
      return tf.layers.reshape({ name: l.name, targetShape: l.targetShape, ...first });
    case 'dense':
      return tf.layers.dense({ name: l.name, units: l.units, activation: l.activation, ...first });
    case 'conv':
      return l.dims === 2
        ? tf.layers.conv2d({ name: l.name, filters: l.filters, kernelSize: 3, activation: l.activation, ...first })
        : tf.layers.conv3d({
            name: l.name,
            filters: l.filters,
            kernelSize: [1, 3, 3],
            activation: l.activation,
            ...first,
          });
    case 'maxpool':
      return l.dims === 2
        ? tf.layers.maxPooling2d({ name: l.name, poolSize: 2, ...first })
        : tf.layers.maxPooling3d({ name: l.name, poolSize: [1, 2, 2], ...first });
  }
}

export async function buildModel(spec: ModelSpec): Promise<tf.LayersModel> {
  if (spec.kind === 'mlp' || spec.kind === 'cnn') {
    const arch = zooArchitecture(spec);
    const layers = arch.layers.map((l, i) => zooLayer(l.layer, i === 0 ? arch.inputShape : undefined));
    return tf.sequential({ name: spec.kind, layers });
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

/**
 * The model's tensors in the order of the flat parameter buffer: tfjs's `model.weights`, the
 * trainable ones first, then state (BatchNormalization's moving statistics, frozen layers), so a
 * model without state has the same layout as its trainable weights alone.
 */
export function modelLayout(model: tf.LayersModel): TensorShape[] {
  return model.weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] }));
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
