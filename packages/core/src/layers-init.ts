/**
 * Starting weights of a tfjs layers topology (model.toJSON()) from the topology's own initializers,
 * drawn from the run's seed, so every process and every rerun starts from the same weights
 * (tfjs's own initializers draw from an unseeded generator). The distributions are tfjs's: a
 * VarianceScaling 'normal' is a normal truncated at two standard deviations, with tfjs's fans.
 */
import { GradroomError } from './errors.js';
import { initWeights } from './init.js';
import type { ParamLayout } from './layout.js';
import { type Rng, rngFor, STREAM } from './prng.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One layer of a topology, as the parts here need it. */
export interface TopologyLayer {
  name: string;
  className: string;
  config: Obj;
}

/** The layers of a Sequential or functional topology (either the topology or a whole model.json). */
export function topologyLayers(topology: Obj): TopologyLayer[] {
  const top = isObj(topology.modelTopology) ? topology.modelTopology : topology;
  const model = isObj(top.model_config) ? top.model_config : top; // a Keras-saved model.json
  const config = isObj(model.config) ? model.config : {};
  const layers = Array.isArray(config.layers) ? config.layers : Array.isArray(config) ? config : [];
  const out: TopologyLayer[] = [];
  for (const l of layers) {
    if (!isObj(l) || !isObj(l.config) || typeof l.class_name !== 'string') continue;
    const name = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : '';
    out.push({ name, className: l.class_name, config: l.config });
  }
  return out;
}

/** A layout entry's layer and weight: tfjs names a tensor `<layer>/<weight>`. */
export const layerOf = (entry: string) => entry.slice(0, Math.max(0, entry.lastIndexOf('/')));
export const weightOf = (entry: string) => entry.slice(entry.lastIndexOf('/') + 1);

/** tfjs's fans: the last two dims, times the receptive field for conv kernels. */
function fans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0], shape[1]];
  if (shape.length >= 3 && shape.length <= 5) {
    const rf = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    return [shape[shape.length - 2] * rf, shape[shape.length - 1] * rf];
  }
  const n = Math.sqrt(shape.reduce((a, b) => a * b, 1));
  return [n, n];
}

/** A normal truncated at two standard deviations, as tf.truncatedNormal draws it. */
function truncated(rng: Rng, mean: number, std: number): number {
  for (let k = 0; k < 1000; k++) {
    const z = rng.normal();
    if (Math.abs(z) <= 2) return mean + z * std;
  }
  return mean; // unreachable in practice: |z| <= 2 has probability 0.95
}

const SCALING: Record<string, [number, string, string]> = {
  GlorotUniform: [1, 'fan_avg', 'uniform'],
  GlorotNormal: [1, 'fan_avg', 'normal'],
  HeUniform: [2, 'fan_in', 'uniform'],
  HeNormal: [2, 'fan_in', 'normal'],
  LeCunUniform: [1, 'fan_in', 'uniform'],
  LeCunNormal: [1, 'fan_in', 'normal'],
};

const SUPPORTED = new Set([
  'Zeros',
  'Ones',
  'Constant',
  'RandomUniform',
  'RandomNormal',
  'TruncatedNormal',
  'Identity',
  'VarianceScaling',
  ...Object.keys(SCALING),
]);

/** Refuses, before anything is built, a topology with an initializer the seeded start cannot draw. */
export function checkInitializers(topology: Obj): void {
  for (const l of topologyLayers(topology)) {
    for (const [key, v] of Object.entries(l.config)) {
      if (!key.endsWith('_initializer') || v === null || v === undefined) continue;
      const cls = isObj(v) && typeof v.class_name === 'string' ? v.class_name : JSON.stringify(v);
      if (!SUPPORTED.has(cls))
        throw new GradroomError(
          'BAD_CONFIG',
          `layer '${l.name}' (${key}): initializer ${cls} is not supported for a seeded start; use one of ${[...SUPPORTED].join(', ')}`,
        );
    }
  }
}

/**
 * The draw of one element under a serialized initializer (null: the Identity matrix, drawn apart);
 * throws BAD_CONFIG for one it does not know.
 */
function sampler(shape: number[], init: unknown, rng: Rng, where: string): (() => number) | null {
  const spec = isObj(init) ? init : {};
  const cls = typeof spec.class_name === 'string' ? spec.class_name : '';
  const c = isObj(spec.config) ? spec.config : {};
  const num = (k: string, d: number) => (typeof c[k] === 'number' ? (c[k] as number) : d);
  if (cls === 'Zeros') return () => 0;
  if (cls === 'Ones') return () => 1;
  if (cls === 'Constant') return () => num('value', 0);
  if (cls === 'RandomUniform') {
    const lo = num('minval', -0.05);
    const hi = num('maxval', 0.05);
    return () => lo + rng.next() * (hi - lo);
  }
  if (cls === 'RandomNormal') return () => num('mean', 0) + rng.normal() * num('stddev', 0.05);
  if (cls === 'TruncatedNormal') return () => truncated(rng, num('mean', 0), num('stddev', 0.05));
  if (cls === 'Identity' && shape.length === 2 && shape[0] === shape[1]) return null;
  const preset = SCALING[cls];
  if (cls === 'VarianceScaling' || preset) {
    const scale0 = preset ? preset[0] : num('scale', 1);
    const mode = String(preset ? preset[1] : (c.mode ?? 'fan_in'))
      .replace(/([A-Z])/g, '_$1')
      .toLowerCase();
    const dist = preset ? preset[2] : String(c.distribution ?? 'normal');
    const [fanIn, fanOut] = fans(shape);
    const n = mode === 'fan_in' ? fanIn : mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const scale = scale0 / Math.max(1, n);
    if (dist === 'normal' || dist === 'truncated_normal') return () => truncated(rng, 0, Math.sqrt(scale));
    const limit = Math.sqrt(3 * scale);
    return () => (rng.next() * 2 - 1) * limit;
  }
  throw new GradroomError(
    'BAD_CONFIG',
    `${where}: initializer ${cls || JSON.stringify(init)} is not supported for a seeded start`,
  );
}

/** Fills `out` (a tensor of `shape`) from one serialized initializer. */
function fill(out: Float32Array, shape: number[], init: unknown, rng: Rng, where: string): void {
  const draw = sampler(shape, init, rng, where);
  if (draw) {
    for (let i = 0; i < out.length; i++) out[i] = draw();
  } else {
    const c = isObj(init) && isObj(init.config) ? init.config : {};
    const gain = typeof c.gain === 'number' ? c.gain : 1;
    for (let i = 0; i < shape[0]; i++) out[i * shape[0] + i] = gain;
  }
}

// weights whose initializer key is not `<weight>_initializer`
const INIT_KEY: Record<string, string> = {
  depthwise_kernel: 'depthwise',
  pointwise_kernel: 'pointwise',
  recurrent_kernel: 'recurrent',
};

/** Default initializers by weight name, for tensors whose layer the topology does not list (nested models). */
function defaultInit(weight: string, rank: number): unknown {
  if (weight === 'gamma' || weight === 'moving_variance') return { class_name: 'Ones' };
  if (rank < 2) return { class_name: 'Zeros' };
  return { class_name: 'GlorotUniform' };
}

/**
 * The starting weights of a layers topology, in `layout` order: each tensor from its layer's
 * `<weight>_initializer` (kernel_initializer, bias_initializer, gamma_initializer, ...), drawn in
 * layout order from the run's seed.
 */
export function initLayersWeights(topology: Obj, layout: ParamLayout, seed: number): Float32Array {
  const layers = new Map(topologyLayers(topology).map((l) => [l.name, l]));
  const flat = new Float32Array(layout.size);
  const rng = rngFor(seed, STREAM.init);
  for (const e of layout.entries) {
    const w = weightOf(e.name);
    const layer = layers.get(layerOf(e.name));
    const init = layer?.config[`${INIT_KEY[w] ?? w}_initializer`] ?? defaultInit(w, e.shape.length);
    fill(flat.subarray(e.offset, e.offset + e.size), e.shape, init, rng, `layer '${layerOf(e.name)}' (${w})`);
  }
  return flat;
}

/** The starting weights of any spec: the zoo's seeded Glorot start, or the topology's own initializers. */
export function initModelWeights(
  model: { kind: string; topology?: Obj },
  layout: ParamLayout,
  seed: number,
): Float32Array {
  return model.kind === 'layers' && model.topology
    ? initLayersWeights(model.topology, layout, seed)
    : initWeights(layout, seed);
}
