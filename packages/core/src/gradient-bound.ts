/**
 * Bounds the influence of one shard (DESIGN.md, trust): a finite but absurd gradient from a peer
 * (1e30 makes Adam's second moment overflow, and progress stops for the rest of the run) is refused
 * when its norm per example is far above the median of recent accepted shards. Refused, not
 * clipped: the shard is then computed again by another worker, so the step stays exact.
 *
 * Before it has seen `minSamples` accepted shards there is no median to compare with (a room with
 * no worker of the run's own starts so): then a shard is refused above `startCeiling`, an absolute
 * norm per example far above any honest one measured (see DEFAULT_START_CEILING).
 */
import { GradroomError } from './errors.js';

/**
 * The start ceiling on ||gradSum|| / sqrt(n) for gradients: 100x the largest honest value measured
 * at the start of training over the model zoo and data sets here (17 for mlp-small on MNIST, 31 for
 * cnn-small, 35 on Fashion-MNIST, 109 on the synthetic set). A job whose honest gradients are larger
 * (regression on unscaled targets) raises it with the gradientBoundStart option.
 */
export const DEFAULT_START_CEILING = 1e4;

/**
 * A shard refused by the bound. `absurd` when it is far beyond it (over factor^2 x the median, or over
 * the start ceiling): no honest worker sends that, and it counts as a strike. A shard just over the
 * bound may be honest (late in a run a small shard's norm per example can pass 50x the median of
 * larger ones): it is computed again elsewhere, and its worker is not struck.
 */
export class OutOfBounds extends GradroomError {
  constructor(
    message: string,
    readonly absurd: boolean,
  ) {
    super('BAD_MESSAGE', message);
    this.name = 'OutOfBounds';
  }
}

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
    readonly startCeiling = Number.POSITIVE_INFINITY,
  ) {
    if (!(factor > 1)) throw new GradroomError('BAD_CONFIG', `gradient bound factor must be > 1, got ${factor}`);
    if (!(startCeiling > 0))
      throw new GradroomError('BAD_CONFIG', `gradient bound start ceiling must be > 0, got ${startCeiling}`);
  }

  /** Enough accepted shards seen for the median to set the bound. */
  get calibrated(): boolean {
    return this.recent.length >= this.minSamples;
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
  check(normPerExample: number, label: string, startCeiling = this.startCeiling): void {
    if (!this.calibrated) {
      if (normPerExample > startCeiling)
        throw new OutOfBounds(
          `${label}: norm ${normPerExample.toExponential(2)} is over the start bound ${startCeiling.toExponential(2)} (no accepted shards to compare with yet)`,
          true,
        );
      return;
    }
    const limit = this.factor * this.median();
    if (normPerExample > limit) {
      throw new OutOfBounds(
        `${label}: gradient norm per example (||sum|| / sqrt n) ${normPerExample.toExponential(2)} is over ${this.factor}x the median of recent shards (${this.median().toExponential(2)})`,
        normPerExample > this.factor * limit,
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
