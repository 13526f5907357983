/**
 * A model's state beside its parameters, in the flat buffer: BatchNormalization's moving mean and
 * variance, and the tensors of layers marked `trainable: false`. The optimizer never moves them.
 *
 * The moving statistics follow tfjs's own rule, applied once per iteration by the coordinator:
 * moving = moving - (moving - batch) * (1 - momentum), where `batch` is the statistic of the whole
 * mini-batch. Each shard's worker sends n·mean and n·(variance + mean²) of its n examples in those
 * entries instead of a gradient, so the coordinator's sum over shards divided by the mini-batch size
 * gives the mini-batch's mean and mean square whatever the split: the moving statistics are the
 * serial loop's. (The forward pass itself normalizes with each shard's own statistics, as
 * data-parallel training without synchronized BatchNorm does, so a BatchNorm model's gradient
 * equals the serial loop's only when the mini-batch is one shard.)
 */

import { layerOf, topologyLayers, weightOf } from './layers-init.js';
import type { ParamLayout } from './layout.js';

type Obj = Record<string, unknown>;

/** A BatchNormalization layer's moving statistics in the flat layout. */
export interface MovingStats {
  layer: string;
  momentum: number;
  /** Offsets and size of the moving mean and moving variance entries. */
  mean: { offset: number; size: number };
  variance: { offset: number; size: number };
}

/** Non-trainable parts of the layout: BatchNorm moving statistics, and frozen layers' entries. */
export interface ModelState {
  moving: MovingStats[];
  /** Entries the optimizer must not move (frozen layers), as [offset, size]. */
  frozen: { name: string; offset: number; size: number }[];
}

export function modelState(topology: Obj, layout: ParamLayout): ModelState {
  const layers = new Map(topologyLayers(topology).map((l) => [l.name, l]));
  const moving = new Map<string, MovingStats>();
  const frozen: ModelState['frozen'] = [];
  for (const e of layout.entries) {
    const layer = layers.get(layerOf(e.name));
    if (!layer) continue;
    const w = weightOf(e.name);
    if (layer.className === 'BatchNormalization' && (w === 'moving_mean' || w === 'moving_variance')) {
      const m = layer.config.momentum;
      const stats = moving.get(layer.name) ?? {
        layer: layer.name,
        momentum: typeof m === 'number' ? m : 0.99,
        mean: { offset: -1, size: 0 },
        variance: { offset: -1, size: 0 },
      };
      stats[w === 'moving_mean' ? 'mean' : 'variance'] = { offset: e.offset, size: e.size };
      moving.set(layer.name, stats);
    } else if (layer.config.trainable === false) {
      frozen.push({ name: e.name, offset: e.offset, size: e.size });
    }
  }
  return { moving: [...moving.values()].filter((s) => s.mean.offset >= 0 && s.variance.offset >= 0), frozen };
}

/** The state entries of a spec: none for the zoo models, from the topology for a layers model. */
export function specState(model: { kind: string; topology?: Obj }, layout: ParamLayout): ModelState | null {
  if (model.kind !== 'layers' || !model.topology) return null;
  const s = modelState(model.topology, layout);
  return s.moving.length > 0 || s.frozen.length > 0 ? s : null;
}

/**
 * Before the optimizer step: takes the mini-batch statistics out of the mean gradient (and zeroes
 * those entries, so no optimizer moves them), and computes the state's next values. The returned
 * function writes them over the weights after the step.
 */
export function holdState(state: ModelState, weights: Float32Array, grads: Float32Array): () => void {
  const next: { offset: number; values: Float32Array }[] = [];
  for (const s of state.moving) {
    const decay = 1 - s.momentum;
    const mean = new Float32Array(s.mean.size);
    const variance = new Float32Array(s.variance.size);
    for (let i = 0; i < s.mean.size; i++) {
      const mu = grads[s.mean.offset + i];
      const v = Math.max(0, grads[s.variance.offset + i] - mu * mu);
      const m0 = weights[s.mean.offset + i];
      const v0 = weights[s.variance.offset + i];
      mean[i] = m0 - (m0 - mu) * decay;
      variance[i] = v0 - (v0 - v) * decay;
    }
    next.push({ offset: s.mean.offset, values: mean }, { offset: s.variance.offset, values: variance });
    grads.fill(0, s.mean.offset, s.mean.offset + s.mean.size);
    grads.fill(0, s.variance.offset, s.variance.offset + s.variance.size);
  }
  for (const f of state.frozen) {
    next.push({ offset: f.offset, values: weights.slice(f.offset, f.offset + f.size) });
    grads.fill(0, f.offset, f.offset + f.size);
  }
  return () => {
    for (const n of next) weights.set(n.values, n.offset);
  };
}

/** Layers of a topology that hold state beside their parameters: BatchNormalization, frozen layers. */
export function statefulLayers(topology: Obj): string[] {
  return topologyLayers(topology)
    .filter((l) => l.className === 'BatchNormalization' || l.config.trainable === false)
    .map((l) => `${l.name} (${l.className}${l.config.trainable === false ? ', trainable: false' : ''})`);
}
