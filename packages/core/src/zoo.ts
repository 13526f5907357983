/**
 * The built-in models, defined once: a zoo spec becomes a list of layers (pure data) from which the
 * worker builds its tfjs model (packages/worker/src/models.ts) and the coordinator reads the
 * parameter layout and memory estimate without tfjs (model-layout.ts). Names and shapes follow what
 * tfjs builds for these layers; the worker checks that they agree.
 */
import { GradroomError } from './errors.js';
import type { LossName, ModelSpec, TensorShape } from './specs.js';

export type ZooActivation = 'relu' | 'tanh' | 'sigmoid' | 'linear';

export type ZooLayer =
  | { type: 'flatten'; name: string }
  | { type: 'reshape'; name: string; targetShape: number[] }
  | { type: 'dense'; name: string; units: number; activation: ZooActivation }
  /** 3x3 'valid' convolution (2d), or the same as a depth-1 Conv3D with a [1, 3, 3] kernel (3d). */
  | { type: 'conv'; name: string; dims: 2 | 3; filters: number; activation: ZooActivation }
  /** 2x2 max-pooling, stride 2 (in 3d: [1, 2, 2]). */
  | { type: 'maxpool'; name: string; dims: 2 | 3 };

/** One layer with the shape of its output (per example) and its trainable tensors. */
export interface ZooLayerInfo {
  layer: ZooLayer;
  outShape: number[];
  params: TensorShape[];
}

export interface ZooArchitecture {
  inputShape: number[];
  layers: ZooLayerInfo[];
}

type ZooSpec = Extract<ModelSpec, { kind: 'mlp' | 'cnn' }>;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function layersOf(spec: ZooSpec): ZooLayer[] {
  if (spec.kind === 'mlp') {
    const out: ZooLayer[] = [];
    if (spec.inputShape.length > 1) out.push({ type: 'flatten', name: 'flatten' });
    spec.hidden.forEach((units, i) =>
      out.push({ type: 'dense', name: `dense_${i}`, units, activation: spec.activation ?? 'relu' }),
    );
    out.push({ type: 'dense', name: 'logits', units: spec.classes, activation: 'linear' });
    return out;
  }
  const dims = spec.conv === '3d' ? 3 : 2;
  const out: ZooLayer[] = [];
  // Conv3D wants [depth, h, w, c]: a depth of 1 makes it the 2d convolution
  if (dims === 3) out.push({ type: 'reshape', name: 'to_3d', targetShape: [1, ...spec.inputShape] });
  spec.filters.forEach((filters, i) => {
    out.push({ type: 'conv', name: `conv_${i}`, dims, filters, activation: 'relu' });
    out.push({ type: 'maxpool', name: `pool_${i}`, dims });
  });
  out.push({ type: 'flatten', name: 'flatten' });
  out.push({ type: 'dense', name: 'dense', units: spec.dense, activation: 'relu' });
  out.push({ type: 'dense', name: 'logits', units: spec.classes, activation: 'linear' });
  return out;
}

/** The layers of a zoo model with their output shapes and parameters, in build order. */
export function zooArchitecture(spec: ZooSpec): ZooArchitecture {
  let shape = [...spec.inputShape];
  const layers: ZooLayerInfo[] = [];
  for (const layer of layersOf(spec)) {
    let params: TensorShape[] = [];
    if (layer.type === 'flatten') shape = [size(shape)];
    else if (layer.type === 'reshape') shape = [...layer.targetShape];
    else if (layer.type === 'dense') {
      params = [
        { name: `${layer.name}/kernel`, shape: [shape.at(-1) ?? 0, layer.units] },
        { name: `${layer.name}/bias`, shape: [layer.units] },
      ];
      shape = [...shape.slice(0, -1), layer.units];
    } else if (layer.type === 'conv') {
      const c = shape.at(-1) ?? 0;
      const [h, w] = shape.slice(-3, -1);
      if (h < 3 || w < 3)
        throw new GradroomError(
          'BAD_CONFIG',
          `${layer.name}: a 3x3 convolution needs at least 3x3 inputs, got ${h}x${w}`,
        );
      params = [
        {
          name: `${layer.name}/kernel`,
          shape: layer.dims === 3 ? [1, 3, 3, c, layer.filters] : [3, 3, c, layer.filters],
        },
        { name: `${layer.name}/bias`, shape: [layer.filters] },
      ];
      shape = [...shape.slice(0, -3), h - 2, w - 2, layer.filters];
    } else {
      const [h, w, c] = shape.slice(-3);
      shape = [...shape.slice(0, -3), Math.floor(h / 2), Math.floor(w / 2), c];
    }
    layers.push({ layer, outShape: shape, params });
  }
  return { inputShape: [...spec.inputShape], layers };
}

/** The flat-buffer layout of a zoo model; null for a layers topology (its first worker reports it). */
export function zooLayout(spec: ModelSpec): TensorShape[] | null {
  if (spec.kind === 'layers') return null;
  return zooArchitecture(spec).layers.flatMap((l) => l.params);
}

/**
 * Memory one example costs in a gradient step: input and every layer output that allocates (not
 * flatten or reshape), their gradients and room for temporaries, float32.
 */
export function zooBytesPerExample(spec: ZooSpec): number {
  const arch = zooArchitecture(spec);
  let floats = size(arch.inputShape);
  for (const l of arch.layers) if (l.layer.type !== 'flatten' && l.layer.type !== 'reshape') floats += size(l.outShape);
  return floats * 4 * 3;
}

/** The built-in models for 28x28 grey images (MNIST, Fashion-MNIST). */
export const ZOO = {
  'mlp-small': { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  'mlp-wide': { kind: 'mlp', inputShape: [28, 28, 1], hidden: [256, 128], classes: 10 },
  'cnn-small': { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 64, classes: 10 },
  /** cnn-small's function with Conv3D kernels: trains on wasm too, instead of falling back to cpu. */
  'cnn-portable': { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 64, classes: 10, conv: '3d' },
} as const satisfies Record<string, ModelSpec>;
export type ZooName = keyof typeof ZOO;

export const LOSS_NAMES: readonly LossName[] = [
  'softmax-cross-entropy',
  'sigmoid-cross-entropy',
  'mean-squared-error',
  'mean-absolute-error',
];

/** What a loss is for and the metric that follows it: accuracy for classification, the loss itself for regression. */
export interface LossInfo {
  task: 'classification' | 'regression';
  metric: 'accuracy' | 'mse' | 'mae';
}

export function lossInfo(loss: LossName = 'softmax-cross-entropy'): LossInfo {
  switch (loss) {
    case 'softmax-cross-entropy':
    case 'sigmoid-cross-entropy':
      return { task: 'classification', metric: 'accuracy' };
    case 'mean-squared-error':
      return { task: 'regression', metric: 'mse' };
    case 'mean-absolute-error':
      return { task: 'regression', metric: 'mae' };
    default:
      throw new GradroomError('BAD_CONFIG', `unknown loss "${String(loss)}": use ${LOSS_NAMES.join(', ')}`);
  }
}
