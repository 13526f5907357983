/**
 * Whether a model fits its loss and its data, from plain facts: the worker checks the model tfjs
 * built, the coordinator the spec alone at `new Trainer` (issue 21), with the same rules and words.
 */
import { GradroomError } from './errors.js';
import { topologyLayers } from './layers-init.js';
import type { DatasetSpec, LossName, ModelSpec } from './specs.js';
import { lossInfo } from './zoo.js';

/** What the data gives per example: an integer label (classes > 0) or `targets` floats. */
export interface TargetFacts {
  classes: number;
  targets: number;
  name: string;
}

/** The model's last layer: its width, its activation and its name (for the message). */
export interface OutputFacts {
  units: number;
  activation?: string;
  layer?: string;
}

const badFit = (m: string): never => {
  throw new GradroomError('BAD_CONFIG', m);
};

/**
 * Rejects a model whose output does not fit the loss and the data: a softmax or sigmoid already in
 * the last layer of a cross-entropy model, a width that is not the data's, labels where targets are
 * needed.
 */
export function checkOutputFit(loss: LossName, out: OutputFacts, data: TargetFacts): void {
  const info = lossInfo(loss);
  const { units, activation: act } = out;
  if (info.task === 'classification' && (act === 'softmax' || act === 'sigmoid')) {
    badFit(
      `the model's last layer '${out.layer ?? '?'}' applies ${act}, and ${loss} applies it again: make the last layer linear (it outputs logits)`,
    );
  }
  if (loss === 'softmax-cross-entropy') {
    if (data.classes === 0)
      badFit(
        `${loss} needs integer class labels; ${data.name} has float targets: use mean-squared-error or mean-absolute-error`,
      );
    if (units !== data.classes)
      badFit(
        `the model predicts ${units} outputs; ${data.name} has ${data.classes} classes (${loss} needs one output per class)`,
      );
  } else if (loss === 'sigmoid-cross-entropy') {
    if (data.classes > 0) {
      if (data.classes !== 2 || units !== 1) {
        badFit(
          `${loss} with class labels needs 2 classes and 1 output; ${data.name} has ${data.classes} classes and the model ${units} outputs (use softmax-cross-entropy)`,
        );
      }
    } else if (units !== data.targets) {
      badFit(`the model predicts ${units} outputs; ${data.name} has ${data.targets} targets per example`);
    }
  } else {
    if (data.classes > 0)
      badFit(`${loss} needs float targets; ${data.name} has class labels: use softmax-cross-entropy`);
    if (units !== data.targets)
      badFit(`the model predicts ${units} outputs; ${data.name} has ${data.targets} targets per example`);
  }
}

/** Features and targets of a data set known from its spec alone (null for a URL: in the file). */
export function datasetFacts(d: DatasetSpec): (TargetFacts & { features: number }) | null {
  switch (d.kind) {
    case 'mnist':
    case 'fashion-mnist':
      return { name: d.kind, features: 784, classes: 10, targets: 1 };
    case 'synthetic':
      return { name: 'synthetic', features: d.features, classes: d.classes, targets: 1 };
    case 'arrays':
      return {
        name: d.name,
        features: d.inputShape.reduce((a, b) => a * b, 1),
        classes: d.classes,
        targets: d.targets,
      };
    default:
      return null;
  }
}

type Obj = Record<string, unknown>;
const dims = (v: unknown): number[] | null =>
  Array.isArray(v) && v.length >= 2 && v.slice(1).every((d) => Number.isInteger(d) && d > 0)
    ? (v.slice(1) as number[])
    : null;

/**
 * The model's input features and last layer from the spec alone; for a layers topology where its
 * JSON says (the first layer's batch_input_shape, a last Dense layer), else null.
 */
export function modelFacts(m: ModelSpec): { features: number | null; output: OutputFacts | null } {
  if (m.kind === 'mlp' || m.kind === 'cnn')
    return { features: m.inputShape.reduce((a, b) => a * b, 1), output: { units: m.classes } };
  const layers = topologyLayers(m.topology as Obj);
  const input = dims(layers[0]?.config.batch_input_shape);
  const last = layers[layers.length - 1];
  const units = last?.config.units;
  const activation = last?.config.activation;
  return {
    features: input ? input.reduce((a, b) => a * b, 1) : null,
    output:
      last && typeof units === 'number'
        ? { units, activation: typeof activation === 'string' ? activation : undefined, layer: last.name }
        : null,
  };
}

/** Refuses, from the specs alone, a model that does not fit its data (input size) or its loss and labels. */
export function checkModelFitsData(model: ModelSpec, data: DatasetSpec): void {
  const d = datasetFacts(data);
  if (!d) return;
  const m = modelFacts(model);
  if (m.features !== null && m.features !== d.features)
    badFit(`the model takes ${m.features} inputs; the data set ${d.name} has ${d.features} features per example`);
  if (m.output) checkOutputFit(model.loss ?? 'softmax-cross-entropy', m.output, d);
  if (model.kind === 'layers' && m.output && m.output.units !== model.classes)
    badFit(
      `the model spec says classes: ${model.classes}; its last layer '${m.output.layer}' has ${m.output.units} outputs`,
    );
}
