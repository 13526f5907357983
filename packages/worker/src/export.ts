/**
 * Takes a trained model away (issue 12): the flat weights a trainer holds, put back into the tfjs
 * layers model its spec describes and saved as a standard tfjs layers model (model.json + weights),
 * which `tf.loadLayersModel` loads anywhere. The model outputs what the trainer's model outputs:
 * logits for the built-in softmax cross-entropy loss (apply tf.softmax for probabilities).
 *
 * Browser-safe: a tfjs URL (downloads://, indexeddb://, http://...) or an IOHandler works anywhere;
 * a plain directory path works in Node, through model-files.ts.
 */
import { GradroomError, type ModelSpec, ParamLayout, type TensorShape } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelLayout } from './models.js';

export const MODEL_METADATA_FORMAT = 'gradroom-model/1';

/** What an exported model.json carries about gradroom in its `userDefinedMetadata.gradroom`. */
export interface ExportedModelMetadata {
  format: typeof MODEL_METADATA_FORMAT;
  /** The spec the model was trained from (a zoo spec, or the layers topology). */
  model: ModelSpec;
  /** What the last layer outputs. */
  outputs: 'logits';
}

/** Where a model goes: a directory (Node), a tfjs URL such as 'downloads://my-model', or a handler. */
export type ModelTarget = string | tf.io.IOHandler;

const sameLayout = (a: readonly TensorShape[], b: readonly TensorShape[]) =>
  new ParamLayout(a).equals(new ParamLayout(b));

const showLayout = (l: readonly TensorShape[]) => l.map((t) => `${t.name} [${t.shape.join(',')}]`).join(', ');

/**
 * Builds the model of `spec` holding `weights` (flat, in `layout` order). The layout is checked
 * against what tfjs builds, so weights never land in the wrong tensors. The caller disposes it.
 */
export async function modelWithWeights(
  spec: ModelSpec,
  layout: readonly TensorShape[],
  weights: Float32Array,
): Promise<tf.LayersModel> {
  const expected = new ParamLayout(layout);
  expected.check(weights);
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i]))
      throw new GradroomError('NON_FINITE', `weight ${i} is ${weights[i]}: a diverged model cannot be exported`);
  }
  const model = await buildModel(spec);
  const built = modelLayout(model);
  if (!sameLayout(built, layout)) {
    model.dispose();
    throw new GradroomError(
      'BAD_CONFIG',
      `the weights do not fit the model: they hold ${showLayout(layout)}; the model has ${showLayout(built)}`,
    );
  }
  const views = expected.views(weights);
  model.weights.forEach((v, i) => {
    const t = tf.tensor(views[i], layout[i].shape, 'float32');
    v.write(t); // assign keeps its own reference to the data
    t.dispose();
  });
  return model;
}

/** Saves the trained model as a tfjs layers model; returns tfjs's SaveResult. */
export async function exportLayersModel(
  spec: ModelSpec,
  layout: readonly TensorShape[],
  weights: Float32Array,
  target: ModelTarget,
): Promise<tf.io.SaveResult> {
  const handler = await resolveTarget(target);
  await tf.ready();
  const model = await modelWithWeights(spec, layout, weights);
  try {
    const meta: ExportedModelMetadata = { format: MODEL_METADATA_FORMAT, model: spec, outputs: 'logits' };
    model.setUserDefinedMetadata({ gradroom: meta as unknown as tf.io.ModelJSON });
    return await model.save(handler, { includeOptimizer: false });
  } finally {
    model.dispose();
  }
}

const isNode = () => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function resolveTarget(target: ModelTarget): Promise<string | tf.io.IOHandler> {
  if (typeof target !== 'string') return target;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !target.startsWith('file://')) return target; // tfjs routers
  if (!isNode()) {
    throw new GradroomError(
      'BAD_CONFIG',
      `cannot save a model to "${target}" in a browser: use a tfjs URL (downloads://name, indexeddb://name) or an IOHandler`,
    );
  }
  // a non-literal specifier keeps bundlers from pulling node:fs into a browser build
  const files = './model-files.js';
  const { fileSaveHandler } = (await import(/* @vite-ignore */ files)) as typeof import('./model-files.js');
  return fileSaveHandler(target.replace(/^file:\/\//, ''));
}
