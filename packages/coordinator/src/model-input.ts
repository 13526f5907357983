/**
 * A tfjs model as the job's model (issue 21): a `tf.LayersModel`, or its `toJSON()` output (a
 * string by default, or the object `toJSON(undefined, false)` gives), becomes the serializable
 * layers spec the workers build from. A softmax or sigmoid in the last layer is taken out and the
 * matching loss chosen, since gradroom's losses apply it themselves (a model compiled for
 * `model.fit` usually ends in softmax). Also the starting weights of a model, for fine-tuning.
 * Typed structurally: the trainer never imports tfjs.
 */
import { GradroomError, type LossName, type ModelSpec, ParamLayout, type TensorShape } from '@gradroom/core';

/** What gradroom uses of a `tf.LayersModel`. */
export interface LayersModelLike {
  toJSON(unused?: null, returnString?: boolean): unknown;
  readonly weights: readonly {
    readonly originalName: string;
    readonly shape: readonly (number | null)[];
    read(): { dataSync(): ArrayLike<number> };
  }[];
}

/** A layers model given as its topology: what `model.toJSON()` returns (a JSON string or an object). */
export interface LayersTopologyInput {
  kind: 'layers';
  topology: Record<string, unknown> | string;
  /** Outputs of the last layer; default: read from the topology's last Dense layer. */
  classes?: number;
  /** Default: from the last layer's activation (softmax, sigmoid) or softmax-cross-entropy. */
  loss?: LossName;
}

/** What a job's `model` may be: a spec, a tfjs model, or a model's toJSON() output. */
export type ModelInput = ModelSpec | LayersTopologyInput | LayersModelLike;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isLayersModel(m: unknown): m is LayersModelLike {
  return isObj(m) && typeof m.toJSON === 'function' && Array.isArray((m as { weights?: unknown }).weights);
}

const bad = (m: string): never => {
  throw new GradroomError('BAD_CONFIG', m);
};

/** The spec of a tfjs model or topology; a spec as it is. */
export function modelSpecOf(m: ModelInput): ModelSpec {
  if (isLayersModel(m)) return fromTopology({ kind: 'layers', topology: m.toJSON(null, false) as Obj });
  if (m.kind === 'layers' && (typeof m.topology === 'string' || (m as { classes?: number }).classes === undefined))
    return fromTopology(m as LayersTopologyInput);
  return m as ModelSpec;
}

function fromTopology(m: LayersTopologyInput): ModelSpec {
  let topology: unknown = m.topology;
  if (typeof topology === 'string') {
    try {
      topology = JSON.parse(topology);
    } catch (e) {
      bad(`the model's topology is not JSON: ${(e as Error).message}`);
    }
  }
  if (!isObj(topology) || !isObj(topology.config)) return bad('the model topology has no config: pass model.toJSON()');
  topology = structuredClone(topology) as Obj;
  const config = (topology as Obj).config as { layers?: { class_name?: string; config?: Obj }[] };
  const last = Array.isArray(config.layers) ? config.layers[config.layers.length - 1] : undefined;
  let loss = m.loss;
  const act = last?.config?.activation;
  if ((act === 'softmax' || act === 'sigmoid') && last?.config) {
    // gradroom's losses apply it: trained on logits, exported with it again (outputs: 'probabilities')
    if (loss === undefined) loss = act === 'softmax' ? 'softmax-cross-entropy' : 'sigmoid-cross-entropy';
    last.config.activation = 'linear';
  }
  const units = last?.config?.units;
  const classes = m.classes ?? (typeof units === 'number' ? units : undefined);
  if (classes === undefined)
    return bad("the model's last layer has no units: give classes (the number of outputs) with the topology");
  return { kind: 'layers', topology: topology as Obj, classes, ...(loss ? { loss } : {}) };
}

/** A tfjs model's current weights, flat in gradroom's layout order (tfjs's `model.weights`). */
export function weightsOfModel(m: LayersModelLike): { layout: TensorShape[]; weights: Float32Array } {
  const layout = m.weights.map((w) => {
    if (w.shape.some((d) => d === null)) bad(`weight ${w.originalName} has an unknown dimension`);
    return { name: w.originalName, shape: w.shape as number[] };
  });
  const flat = new Float32Array(new ParamLayout(layout).size);
  let offset = 0;
  for (const w of m.weights) {
    const v = w.read().dataSync();
    flat.set(v, offset);
    offset += v.length;
  }
  return { layout, weights: flat };
}

/** Starting weights for fine-tuning from the trainer's options (a copy), or undefined. */
export function startWeights(opts: {
  initialWeights?: Float32Array;
  initModel?: LayersModelLike;
}): { weights: Float32Array; layout?: TensorShape[] } | undefined {
  if (opts.initModel && opts.initialWeights) bad('give initialWeights or initModel, not both');
  if (opts.initModel) return weightsOfModel(opts.initModel);
  if (opts.initialWeights === undefined) return undefined;
  if (!(opts.initialWeights instanceof Float32Array)) bad('initialWeights must be a Float32Array');
  return { weights: opts.initialWeights.slice() };
}

const show = (l: ParamLayout) =>
  l
    .shapes()
    .map((t) => `${t.name} [${t.shape}]`)
    .join(', ');

/** Refuses starting weights that are not the model's: their tensors' names and shapes, or their count. */
export function checkStartFits(layout: ParamLayout, start: { weights: Float32Array; layout?: TensorShape[] }): void {
  const given = start.layout ? new ParamLayout(start.layout) : undefined;
  if (given ? layout.equals(given) : start.weights.length === layout.size) return;
  const what = given ? `tensors ${show(given)}` : `${start.weights.length} values`;
  bad(
    `the starting weights do not fit the model: they hold ${what}; the model has ${show(layout)} (${layout.size} values)`,
  );
}
