/**
 * The gradient of one shard: loss sum, gradient sum, correct predictions and example count, from
 * flat weights. Sums, never means (DESIGN.md contract 2), so the coordinator divides by the
 * mini-batch size it planned. Every tensor made here is disposed.
 */

import type { ShardSums as CoreShardSums } from '@gradroom/core';
import { GradroomError, type LossName, ParamLayout, type TensorShape } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import type { Examples } from './data/dataset.js';
import { checkBinaryTargets, lossSums, type TargetSpec } from './losses.js';
import { modelLayout } from './models.js';

/** A shard's sums as the worker computes them: core's ShardSums before a shard id is attached. */
export type ShardSums = Omit<CoreShardSums, 'shardId'>;

export interface EvalSums {
  lossSum: number;
  correct: number;
  count: number;
}

// layers whose output row depends on its own example only: a shard through them can be padded with
// zero rows whose outputs are cut off before the loss, which then adds nothing to any sum
const ROWWISE = new Set([
  'InputLayer',
  'Dense',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling1D',
  'AveragePooling2D',
  'AveragePooling3D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Permute',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'ZeroPadding2D',
]);

/**
 * Rows a shard of n examples is computed with on webgpu: a power of two up to 64, then a multiple
 * of 64. tfjs-webgpu compiles a program per shape class (vec4 fit, tile fit, matmul variant), so
 * every shard size the planner hands out would otherwise cost new shader compiles (SwiftShader: 2-3
 * programs for most new sizes); with these buckets a warm worker compiles nothing, and the padding
 * costs at most 63 rows of compute (under 7% from 1,024 examples).
 */
export function shardRows(n: number): number {
  return n <= 64 ? 2 ** Math.ceil(Math.log2(Math.max(n, 1))) : Math.ceil(n / 64) * 64;
}

const GPU_BACKENDS = new Set(['webgpu', 'webgl']);

/** A BatchNormalization layer's moving statistics, as tfjs keeps them (fields tfjs does not type). */
interface MovingVars {
  layer: { momentum: number };
  mean: tf.Variable;
  variance: tf.Variable;
}

/** The BatchNormalization layers of a model, with their moving-statistics variables. */
function movingVars(model: tf.LayersModel): MovingVars[] {
  const out: MovingVars[] = [];
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const find = (w: string) => l.weights.find((v) => v.originalName.endsWith(`/${w}`))?.read() as tf.Variable;
    const mean = find('moving_mean');
    const variance = find('moving_variance');
    if (mean && variance) out.push({ layer: l as unknown as { momentum: number }, mean, variance });
  }
  return out;
}

export class ShardComputer {
  readonly layout: ParamLayout;
  /** Every tensor of the layout (trainable first, then state), in its order. */
  private readonly vars: tf.Variable[];
  /** The trainable ones, whose gradients a shard sums. */
  private readonly trainable: tf.Variable[];
  private readonly moving: MovingVars[];
  private readonly target: TargetSpec;

  constructor(
    readonly model: tf.LayersModel,
    private readonly inputShape: readonly number[],
    /** What one example's label is: a class (classes > 0) or `targets` floats; a number: that many classes. */
    target: TargetSpec | number,
    private readonly loss: LossName = 'softmax-cross-entropy',
  ) {
    this.target = typeof target === 'number' ? { classes: target, targets: 1, name: 'data' } : target;
    this.layout = new ParamLayout(modelLayout(model));
    this.vars = model.weights.map((w) => w.read() as tf.Variable);
    this.trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.moving = movingVars(model);
    this.padRows = tf.getBackend() === 'webgpu' && model.layers.every((l) => ROWWISE.has(l.getClassName()));
  }

  /** Whether shards are padded to shardRows(n) (webgpu, and a model whose rows are independent). */
  readonly padRows: boolean;

  /** The examples' features on the device, padded with zero rows to shardRows(n) where padRows. */
  private features(x: Float32Array, n: number): tf.Tensor {
    const rows = this.padRows ? shardRows(n) : n;
    if (rows === n) return tf.tensor(x, [n, ...this.inputShape]);
    const padded = new Float32Array((x.length / n) * rows);
    padded.set(x);
    return tf.tensor(padded, [rows, ...this.inputShape]);
  }

  /** The model's output for the first n rows (the others are padding). */
  private outputRows(out: tf.Tensor, n: number): tf.Tensor {
    return out.shape[0] === n ? out : tf.slice(out, 0, n);
  }

  shapes(): TensorShape[] {
    return this.layout.shapes();
  }

  setWeights(flat: Float32Array): void {
    this.layout.check(flat);
    tf.tidy(() => {
      if (GPU_BACKENDS.has(tf.getBackend())) {
        // one upload per weights version: the flat buffer goes to the device once and is sliced
        // there into the model's own variables (a tensor per layer would be one upload, and on a
        // GPU one staging buffer and copy, each)
        const all = tf.tensor1d(flat);
        this.layout.entries.forEach((e, i) => {
          this.vars[i].assign(tf.reshape(tf.slice(all, e.offset, e.size), e.shape));
        });
      } else {
        // wasm and cpu: a tensor per layer is one copy into the backend; a slice would be a second
        this.layout.entries.forEach((e, i) => {
          this.vars[i].assign(tf.tensor(flat.subarray(e.offset, e.offset + e.size), e.shape));
        });
      }
    });
  }

  /** The weights the variables hold, read back in one transfer. */
  async getWeights(): Promise<Float32Array> {
    const flat = tf.tidy(() => tf.concat(this.vars.map((v) => tf.reshape(v, [-1]))));
    try {
      return (await flat.data()) as Float32Array;
    } finally {
      flat.dispose();
    }
  }

  /** Examples in a shard: the labels' count, or the targets' over their width. */
  private count(ex: Examples): number {
    return this.target.classes > 0 ? ex.y.length : ex.y.length / this.target.targets;
  }

  private inputs(ex: Examples): { x: tf.Tensor; y: tf.Tensor } {
    const { classes, targets } = this.target;
    const n = this.count(ex);
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    if (n === 0 || !Number.isInteger(n) || ex.x.length !== n * per) {
      throw new GradroomError(
        'BAD_LENGTH',
        `shard has ${ex.x.length} input values for ${ex.y.length} ${classes > 0 ? 'labels' : `targets (${targets} each)`}, expected ${per} per example`,
      );
    }
    if (classes > 0) {
      if (!(ex.y instanceof Int32Array)) throw new GradroomError('BAD_MESSAGE', 'class labels must be an Int32Array');
      for (const c of ex.y) {
        if (!(c >= 0 && c < classes)) throw new GradroomError('BAD_MESSAGE', `label ${c} outside 0..${classes - 1}`);
      }
      return { x: this.features(ex.x, n), y: tf.tensor1d(ex.y, 'int32') };
    }
    if (!(ex.y instanceof Float32Array))
      throw new GradroomError('BAD_MESSAGE', 'regression targets must be a Float32Array');
    if (this.loss === 'sigmoid-cross-entropy') checkBinaryTargets(ex.y, targets, 'shard');
    return { x: this.features(ex.x, n), y: tf.tensor2d(ex.y, [n, targets]) };
  }

  private lossAndCorrect(x: tf.Tensor, y: tf.Tensor, training: boolean): { loss: tf.Scalar; correct: tf.Scalar } {
    const out = this.outputRows(this.model.apply(x, { training }) as tf.Tensor, y.shape[0]) as tf.Tensor2D;
    return lossSums(this.loss, out, y, this.target.classes);
  }

  async compute(ex: Examples): Promise<ShardSums> {
    const out = this.packedSums(ex);
    try {
      const all = (await out.data()) as Float32Array;
      const n = this.layout.size;
      return { gradSum: all.subarray(0, n), lossSum: all[n], correct: all[n + 1], count: this.count(ex) };
    } finally {
      out.dispose();
    }
  }

  /**
   * A shard's sums still on the device, [gradient sum..., loss sum, correct], for compute() to read
   * back in one transfer (on a GPU each read-back is a copy, a queue submit and a wait for the
   * map), and for benchmarks that time the read-back apart. The caller disposes it.
   */
  packedSums(ex: Examples): tf.Tensor1D {
    const { x, y } = this.inputs(ex);
    const n = this.count(ex);
    // tidy disposes every intermediate, also when a kernel throws half-way (a backend without it);
    // the correct count is made inside variableGrads' own scope, so it is kept by hand
    let correct: tf.Scalar | undefined;
    const held = this.holdMoving();
    try {
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const r = this.lossAndCorrect(x, y, true);
          correct = tf.keep(r.correct);
          return r.loss;
        }, this.trainable);
        const stats = this.shardStats(n);
        // a count is exact in float32
        return tf.concat([
          // a frozen layer's tensors get no gradient: zeros, and the coordinator keeps them as they are
          ...this.vars.map((v) => tf.reshape(stats.get(v) ?? grads[v.name] ?? tf.zerosLike(v), [-1])),
          tf.reshape(value, [1]),
          tf.reshape(tf.cast(correct as tf.Scalar, 'float32'), [1]),
        ]) as tf.Tensor1D;
      });
    } finally {
      held();
      // the backend keeps their buffers until the queued work that reads them is done
      tf.dispose([x, y, ...(correct ? [correct] : [])]);
    }
  }

  /**
   * Before a training pass: zeroes the moving statistics and sets their momentum to 0, so the
   * pass leaves exactly the shard's batch mean and variance in them (tfjs updates them in its
   * training call). Returns what puts the weights' own statistics and momenta back.
   */
  private holdMoving(): () => void {
    if (this.moving.length === 0) return () => {};
    const saved = this.moving.map((m) => {
      const s = { momentum: m.layer.momentum, mean: tf.clone(m.mean), variance: tf.clone(m.variance) };
      m.layer.momentum = 0;
      tf.tidy(() => {
        m.mean.assign(tf.zerosLike(m.mean));
        m.variance.assign(tf.zerosLike(m.variance));
      });
      return s;
    });
    return () => {
      this.moving.forEach((m, i) => {
        m.layer.momentum = saved[i].momentum;
        m.mean.assign(saved[i].mean);
        m.variance.assign(saved[i].variance);
        tf.dispose([saved[i].mean, saved[i].variance]);
      });
    };
  }

  /**
   * The shard's BatchNorm statistics as sums over its n examples, in the moving mean and variance
   * entries: n·mean and n·(variance + mean²), so the coordinator's sum over shards divided by the
   * mini-batch size is the mini-batch's mean and mean square (exact whatever the split).
   */
  private shardStats(n: number): Map<tf.Variable, tf.Tensor> {
    const out = new Map<tf.Variable, tf.Tensor>();
    for (const m of this.moving) {
      out.set(m.mean, tf.mul(m.mean, n));
      out.set(m.variance, tf.mul(tf.add(m.variance, tf.square(m.mean)), n));
    }
    return out;
  }

  async evaluate(ex: Examples): Promise<EvalSums> {
    const { x, y } = this.inputs(ex);
    // one read-back, as in compute()
    const both = tf.tidy(() => {
      const { loss, correct } = this.lossAndCorrect(x, y, false);
      return tf.stack([loss, tf.cast(correct, 'float32')]);
    });
    try {
      const [lossSum, correct] = await both.data();
      return { lossSum, correct, count: this.count(ex) };
    } finally {
      tf.dispose([x, y, both]);
    }
  }
}
