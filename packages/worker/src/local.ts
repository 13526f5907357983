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
import { CatchUps } from './catch-up.js';
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
  /** Overlap: a catch-up (catchUp) was applied between two of its inner steps. */
  caughtUp?: boolean;
}

export class LocalTrainer {
  private optimizer?: Optimizer;
  private key = '';
  private params: Float32Array = new Float32Array(0);
  private grads: Float32Array = new Float32Array(0);
  private feedback?: ErrorFeedback;
  private readonly catchUps = new CatchUps();

  /**
   * Overlap: the outer step early round `round` missed (the newest weights - the weights it
   * started from), added to its parameters before its next inner step (catch-up.ts). The answer
   * stays start - end, and the coordinator counts it from the newest weights.
   */
  catchUp(round: number, change: Float32Array): void {
    this.catchUps.put(round, change);
  }

  /**
   * Runs the inner steps; `batches[k]` is trained with learning rate `lrs[k]`. `round` names the
   * round; `early`: it started before its round opened, and takes the catch-up that will come.
   */
  async round(
    computer: ShardComputer,
    start: Float32Array,
    batches: Examples[],
    lrs: ArrayLike<number>,
    inner: OptimizerConfig,
    compress: Compression = 'none',
    own?: Examples,
    round = -1,
    early = false,
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
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    if (!early) this.catchUps.clear();
    let caughtUp = false;
    let settled = !early; // caught up (or not early): nothing more to take
    for (let k = 0; k < batches.length; k++) {
      if (!settled) {
        // tfjs's cpu and wasm backends answer data() without a macrotask, so without this a
        // catch-up message would only be read once the round is over
        if (k > 0) await nextMessage();
        const change = this.catchUps.take(round);
        if (change) {
          settled = true;
          if (change.length === n) {
            for (let i = 0; i < n; i++) this.params[i] += change[i];
            caughtUp = true;
          }
        }
      }
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
    for (let i = 0; i < n; i++) delta[i] = start[i] - this.params[i];
    const sums = { lossSum, correct, count, ownExamples: own?.y.length ?? 0, ...(caughtUp ? { caughtUp } : {}) };
    if (compress === 'none') return { delta, ...sums };
    if (this.feedback?.length !== n || this.feedback.kind !== compress) this.feedback = new ErrorFeedback(n, compress);
    return { encoded: this.feedback.encode(delta), ...sums };
  }
}

/**
 * Lets the messages already queued for this worker (a catch-up) be handled. A MessageChannel
 * round trip, not setTimeout: browsers clamp nested timeouts to 4 ms, once per inner step.
 */
function nextMessage(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
