/**
 * Bounds the influence of one shard (DESIGN.md, trust): a finite but absurd gradient from a peer
 * (1e30 makes Adam's second moment overflow, and progress stops for the rest of the run) is refused
 * when its norm per example is far above the median of recent accepted shards. Refused, not
 * clipped: the shard is then computed again by another worker, so the step stays exact.
 */
import { GradroomError } from './errors.js';

export class GradientBound {
  private readonly recent: number[] = [];
  private next = 0;

  /**
   * factor: how many times the median a shard may reach. window: recent shards remembered.
   * minSamples: below this many, nothing is refused (the first shards set the scale).
   */
  constructor(
    readonly factor = 50,
    private readonly window = 64,
    private readonly minSamples = 4,
  ) {
    if (!(factor > 1)) throw new GradroomError('BAD_CONFIG', `gradient bound factor must be > 1, got ${factor}`);
  }

  /**
   * ||gradSum|| / sqrt(count): the same for a shard of 1 and of 64 examples when the gradients are
   * mostly noise (late in training), and within sqrt(size ratio) of it when they agree; a plain
   * per-example norm (/ count) made honest shards of a few examples look 60x too large.
   */
  static normPerExample(gradSum: Float32Array, count: number): number {
    let s = 0;
    for (let i = 0; i < gradSum.length; i++) s += gradSum[i] * gradSum[i];
    return Math.sqrt(s / Math.max(1, count));
  }

  /** The median norm per example of recent accepted shards (NaN before any). */
  median(): number {
    if (this.recent.length === 0) return Number.NaN;
    const sorted = [...this.recent].sort((a, b) => a - b);
    const m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  /**
   * Throws BAD_MESSAGE naming `label` when a shard's norm per example (CheckedShard.normPerExample,
   * measured once by the result gate) is out of bounds.
   */
  check(normPerExample: number, label: string): void {
    if (this.recent.length < this.minSamples) return;
    const limit = this.factor * this.median();
    if (normPerExample > limit) {
      throw new GradroomError(
        'BAD_MESSAGE',
        `${label}: gradient norm per example (||sum|| / sqrt n) ${normPerExample.toExponential(2)} is over ${this.factor}x the median of recent shards (${this.median().toExponential(2)})`,
      );
    }
  }

  /** Remembers an accepted shard's norm per example. */
  record(normPerExample: number): void {
    if (!Number.isFinite(normPerExample)) return;
    if (this.recent.length < this.window) this.recent.push(normPerExample);
    else {
      this.recent[this.next] = normPerExample;
      this.next = (this.next + 1) % this.window;
    }
  }
}
