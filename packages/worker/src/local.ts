/**
 * Mode `local` on the worker (DiLoCo): H inner steps with the worker's own optimizer from
 * @gradroom/core, on the H mini-batches the coordinator assigned, starting from the weights it sent;
 * the answer is the pseudo-gradient w_start - w_end with the examples counted. The inner
 * optimizer's state stays here across rounds (a worker that joins or rejoins starts fresh), and
 * so does the error feedback of a compressed answer. A volunteer's own examples (draw to train) can
 * be mixed into each inner step (`own`, OWN_SHARE of its gradient).
 */
import {
  type Compression,
  createOptimizer,
  type EncodedUpdate,
  ErrorFeedback,
  type Optimizer,
  type OptimizerConfig,
} from '@gradroom/core';
import type { Examples } from './data/dataset.js';
import { OWN_SHARE } from './own-data.js';
import type { ShardComputer } from './shard.js';

export interface LocalRoundSums {
  /** w_start - w_end, when sent uncompressed. */
  delta?: Float32Array;
  /** w_start - w_end compressed, with error feedback kept here. */
  encoded?: EncodedUpdate;
  /** Mean-loss sums over every inner step's examples. */
  lossSum: number;
  correct: number;
  count: number;
  /** Own examples (a student's drawings) mixed into every inner step; not in the sums above. */
  ownExamples: number;
}

export class LocalTrainer {
  private optimizer?: Optimizer;
  private key = '';
  private params: Float32Array = new Float32Array(0);
  private grads: Float32Array = new Float32Array(0);
  private feedback?: ErrorFeedback;
  /**
   * Overlap (eager rounds): this worker's last pseudo-gradient, uncompressed. An eager round's
   * weights do not hold it yet (the outer step that applies it is still being taken), so the round
   * starts from them minus it: the worker goes on from where its own last round ended.
   */
  private prev?: Float32Array;

  /**
   * Runs the inner steps; `batches[k]` is trained with learning rate `lrs[k]`. `eager`: start from
   * `start` - (the last pseudo-gradient), when this worker has one of this length.
   */
  async round(
    computer: ShardComputer,
    start: Float32Array,
    batches: Examples[],
    lrs: ArrayLike<number>,
    inner: OptimizerConfig,
    compress: Compression = 'none',
    own?: Examples,
    eager = false,
  ): Promise<LocalRoundSums> {
    const n = start.length;
    const key = JSON.stringify(inner);
    if (!this.optimizer || key !== this.key || this.params.length !== n) {
      this.optimizer = createOptimizer(inner);
      const b = this.optimizer.allocate(n);
      this.params = b.params;
      this.grads = b.grads;
      this.key = key;
    }
    this.params.set(start);
    const prev = eager && this.prev?.length === n ? this.prev : undefined;
    if (prev) for (let i = 0; i < n; i++) this.params[i] -= prev[i];
    // the answer is this round's own move: from where it started to where it ended
    const from = prev ? this.params.slice() : start;
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (let k = 0; k < batches.length; k++) {
      computer.setWeights(this.params);
      const s = await computer.compute(batches[k]);
      const inv = 1 / s.count;
      if (own && own.y.length > 0) {
        // draw to train: a fixed share of the step follows the student's own examples; the sums
        // below (and the shared ledger) count only the shared mini-batch
        const o = await computer.compute(own);
        const a = (1 - OWN_SHARE) * inv;
        const b = OWN_SHARE / o.count;
        for (let i = 0; i < n; i++) this.grads[i] = s.gradSum[i] * a + o.gradSum[i] * b;
      } else for (let i = 0; i < n; i++) this.grads[i] = s.gradSum[i] * inv;
      this.optimizer.step(this.params, this.grads, lrs[k]);
      lossSum += s.lossSum;
      correct += s.correct;
      count += s.count;
    }
    const delta = new Float32Array(n);
    for (let i = 0; i < n; i++) delta[i] = from[i] - this.params[i];
    this.prev = delta.slice(); // a copy: the answer's buffer may be transferred (detached)
    const ownExamples = own?.y.length ?? 0;
    if (compress === 'none') return { delta, lossSum, correct, count, ownExamples };
    if (this.feedback?.length !== n || this.feedback.kind !== compress) this.feedback = new ErrorFeedback(n, compress);
    return { encoded: this.feedback.encode(delta), lossSum, correct, count, ownExamples };
  }
}
