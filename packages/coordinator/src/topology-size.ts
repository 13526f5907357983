/**
 * The size of a tfjs layers topology (model.toJSON()), read from the JSON alone, so a custom model
 * too large to train is refused before a worker builds it (tfjs allocates every weight on build).
 * Covers Sequential models of the common layers; for anything else the answer is null (unknown),
 * and the check falls back to what the first worker reports.
 */

export interface TopologySize {
  /** Weights of every layer (trainable or not). */
  params: number;
  /** Floats of every layer's output for one example (the activations a gradient step keeps). */
  activationsPerExample: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDims = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) > 0);
const pair = (v: unknown, fallback: number[]): number[] | null => {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return [v, v];
  return isDims(v) && v.length === 2 ? v : null;
};

/** Output shape (without the batch dimension) of a 2d window op, channels last. */
function window2d(shape: number[], c: Obj, kernel: number[], channels: number): number[] | null {
  if (shape.length !== 3) return null;
  const strides = pair(c.strides, c.pool_size !== undefined ? kernel : [1, 1]);
  if (!strides) return null;
  const same = c.padding === 'same';
  const out = [0, 1].map((i) =>
    same ? Math.ceil(shape[i] / strides[i]) : Math.floor((shape[i] - kernel[i]) / strides[i]) + 1,
  );
  return out.every((d) => d > 0) ? [out[0], out[1], channels] : null;
}

export function topologySize(topology: unknown): TopologySize | null {
  if (!isObj(topology)) return null;
  const model = isObj(topology.model_config) ? topology.model_config : topology; // model.json nests it
  if (model.class_name !== 'Sequential' || !isObj(model.config)) return null;
  const layers = model.config.layers;
  if (!Array.isArray(layers) || layers.length === 0) return null;
  let shape: number[] | null = null;
  let params = 0;
  let activations = 0;
  for (const layer of layers) {
    if (!isObj(layer) || !isObj(layer.config)) return null;
    const c = layer.config;
    const given = c.batch_input_shape ?? c.batchInputShape;
    if (shape === null) {
      if (!Array.isArray(given) || !isDims(given.slice(1))) return null;
      shape = given.slice(1) as number[];
    }
    const last: number = shape[shape.length - 1] ?? 0;
    const size: number = shape.reduce((a, b) => a * b, 1);
    switch (layer.class_name) {
      case 'InputLayer':
      case 'Dropout':
      case 'Activation':
      case 'ReLU':
      case 'Softmax':
        break;
      case 'Dense': {
        const units = c.units;
        if (!Number.isSafeInteger(units) || (units as number) <= 0) return null;
        params += last * (units as number) + (c.use_bias === false ? 0 : (units as number));
        shape = [...shape.slice(0, -1), units as number];
        break;
      }
      case 'Flatten':
        shape = [size];
        break;
      case 'Reshape':
        if (!isDims(c.target_shape)) return null;
        shape = [...c.target_shape];
        break;
      case 'BatchNormalization':
      case 'LayerNormalization':
        params += 4 * last;
        break;
      case 'Conv2D': {
        const k = pair(c.kernel_size, [3, 3]);
        const filters = c.filters;
        if (!k || !Number.isSafeInteger(filters) || (filters as number) <= 0) return null;
        if (c.data_format === 'channels_first') return null;
        params += k[0] * k[1] * last * (filters as number) + (c.use_bias === false ? 0 : (filters as number));
        shape = window2d(shape, c, k, filters as number);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const k = pair(c.pool_size, [2, 2]);
        if (!k) return null;
        shape = window2d(shape, c, k, last);
        break;
      }
      default:
        return null; // a layer not modelled here: size unknown
    }
    if (shape === null) return null;
    activations += shape.reduce((a, b) => a * b, 1);
  }
  return { params, activationsPerExample: activations };
}
