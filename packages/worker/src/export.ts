/**
 * Takes a trained model away (issue 12): the flat weights a trainer holds, put back into the tfjs
 * layers model its spec describes and saved as a standard tfjs layers model (model.json + weights),
 * which `tf.loadLayersModel` loads anywhere. A classifier's last layer applies softmax (sigmoid for
 * sigmoid cross-entropy) by default, so `model.predict` gives probabilities as tfjs classification
 * models do; `outputs: 'logits'` keeps the raw scores the trainer's model outputs. A regression
 * outputs its predictions either way. The metadata says which.
 *
 * Browser-safe: a tfjs URL (downloads://, indexeddb://, http://...) or an IOHandler works anywhere;
 * a plain directory path works in Node, through model-files.ts.
 */
import { GradroomError, lossInfo, type ModelSpec, ParamLayout, type TensorShape } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelLayout } from './models.js';

export const MODEL_METADATA_FORMAT = 'gradroom-model/1';

/** What an exported model.json carries about gradroom in its `userDefinedMetadata.gradroom`. */
export interface ExportedModelMetadata {
  format: typeof MODEL_METADATA_FORMAT;
  /** The spec the model was trained from (a zoo spec, or the layers topology). */
  model: ModelSpec;
  /**
   * What the model outputs: class probabilities (softmax or sigmoid in its last layer), logits (the
   * raw scores the loss was computed from), or a regression's predictions.
   */
  outputs: ModelOutputs;
}

export type ModelOutputs = 'probabilities' | 'logits' | 'predictions';

export interface ExportOptions {
  /** 'probabilities' (default for a classifier) or 'logits'; a regression exports its predictions. */
  outputs?: 'probabilities' | 'logits';
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

type Obj = Record<string, unknown>;

/**
 * The trained model with `activation` applied by its last layer: set on that layer where it has an
 * activation (a linear Dense or Conv), else an Activation layer appended (Sequential models). The
 * weights are the same tensors; the caller disposes the result and `model`.
 */
async function withActivation(model: tf.LayersModel, activation: 'softmax' | 'sigmoid'): Promise<tf.LayersModel> {
  const topology = model.toJSON(undefined, false) as Obj;
  const config = topology.config as { layers?: { class_name: string; config: Obj }[] };
  const layers = config.layers ?? [];
  const last = layers[layers.length - 1];
  if (last && 'activation' in last.config && (last.config.activation ?? 'linear') === 'linear') {
    last.config.activation = activation;
  } else if (topology.class_name === 'Sequential') {
    layers.push({ class_name: 'Activation', config: { activation, name: 'probabilities', trainable: true } });
  } else {
    throw new GradroomError(
      'BAD_CONFIG',
      `cannot add ${activation} after the model's last layer '${last?.config.name ?? '?'}': export with outputs: 'logits' and apply tf.${activation} to model.predict's output`,
    );
  }
  const out = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON);
  out.setWeights(model.getWeights());
  return out;
}

/**
 * Saves the trained model as a tfjs layers model; returns tfjs's SaveResult. A classifier outputs
 * probabilities unless `options.outputs` is 'logits'.
 */
export async function exportLayersModel(
  spec: ModelSpec,
  layout: readonly TensorShape[],
  weights: Float32Array,
  target: ModelTarget,
  options: ExportOptions = {},
): Promise<tf.io.SaveResult> {
  if (options.outputs !== undefined && options.outputs !== 'probabilities' && options.outputs !== 'logits')
    throw new GradroomError(
      'BAD_CONFIG',
      `outputs must be 'probabilities' or 'logits', got ${JSON.stringify(options.outputs)}`,
    );
  const handler = await resolveTarget(target);
  await tf.ready();
  const loss = spec.loss ?? 'softmax-cross-entropy';
  const classifier = lossInfo(loss).task === 'classification';
  const outputs: ModelOutputs = !classifier ? 'predictions' : (options.outputs ?? 'probabilities');
  const trained = await modelWithWeights(spec, layout, weights);
  let model = trained;
  if (outputs === 'probabilities') {
    try {
      model = await withActivation(trained, loss === 'softmax-cross-entropy' ? 'softmax' : 'sigmoid');
    } finally {
      trained.dispose();
    }
  }
  try {
    const meta: ExportedModelMetadata = { format: MODEL_METADATA_FORMAT, model: spec, outputs };
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
