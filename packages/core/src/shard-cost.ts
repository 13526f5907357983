/**
 * A worker's measured cost of a shard, split the way planning needs it (planner.ts,
 * planShardsByCost): a fixed part paid by every shard whatever its size (latency, the weights in,
 * the result out, dispatch and read-back) and a part per example (compute). Each shard reports
 * the round trip the coordinator timed and the compute time the worker says it spent; the link's
 * share is their difference. Compute is fitted as intercept + slope x examples over recent shards
 * (exponentially weighted moments), so a GPU's fixed dispatch cost shows as fixed, not as speed.
 */
import type { ShardCost } from './planner.js';

export interface ShardTimingSample {
  examples: number;
  /** Call to answer, as the coordinator timed it. */
  roundTripMs: number;
  /** The worker's own compute time for the shard (clamped into [0, roundTripMs]: a peer's word). */
  computeMs: number;
}

/** Shards in steadyCost's window. */
export const STEADY_WINDOW = 8;

export class ShardCostEstimate {
  /** The last STEADY_WINDOW shards' examples, round trips and compute (a ring; never reset). */
  private readonly recent: ShardTimingSample[] = [];
  private recentAt = 0;
  private samples = 0;
  private mN = 0;
  private mT = 0;
  private mC = 0;
  private mNN = 0;
  private mNT = 0;

  /** beta: weight of the past in each moment (0.7: a worker's speed change shows within a few shards). */
  constructor(private readonly beta = 0.7) {}

  get measured(): boolean {
    return this.samples > 0;
  }

  /**
   * Forgets the moments (steadyCost's window stays): the next shard starts them over. For a worker
   * measured only by probes far apart, whose last figure is from another time.
   */
  restart(): void {
    this.samples = 0;
  }

  observe(s: ShardTimingSample): void {
    if (!(s.examples > 0 && Number.isFinite(s.roundTripMs) && s.roundTripMs >= 0)) return;
    const t = s.roundTripMs;
    const c = Number.isFinite(s.computeMs) ? Math.min(Math.max(s.computeMs, 0), t) : t;
    const n = s.examples;
    this.recent[this.recentAt] = { examples: n, roundTripMs: t, computeMs: c };
    this.recentAt = (this.recentAt + 1) % STEADY_WINDOW;
    // a shard 3x off the prediction means the worker changed (another link, a busy laptop): start over
    const predicted = this.samples > 0 ? this.predictMs(n) : t;
    const changed = t > 3 * predicted || 3 * t < predicted;
    if (changed) this.samples = 0;
    const b = this.samples === 0 ? 0 : this.beta;
    this.mN = b * this.mN + (1 - b) * n;
    this.mT = b * this.mT + (1 - b) * t;
    this.mC = b * this.mC + (1 - b) * c;
    this.mNN = b * this.mNN + (1 - b) * n * n;
    this.mNT = b * this.mNT + (1 - b) * n * t;
    this.samples++;
  }

  /**
   * Round trip = fixed + n x per example. Where recent shards differ enough in size, both come from
   * a least-squares fit of the round trips; otherwise the compute the worker reports is taken as all
   * per-example and the rest of the round trip (the link) as fixed.
   */
  cost(): ShardCost {
    const varN = this.mNN - this.mN * this.mN;
    if (this.samples >= 3 && varN >= (0.15 * this.mN) ** 2) {
      const slope = (this.mNT - this.mN * this.mT) / varN;
      const intercept = this.mT - slope * this.mN;
      if (slope > 0 && intercept >= 0) return { fixedMs: intercept, msPerExample: slope };
    }
    return this.computeCost();
  }

  /** Predicted round trip of a shard of n examples, ms. */
  predictMs(n: number): number {
    const c = this.cost();
    return c.fixedMs + n * c.msPerExample;
  }

  /** Examples per second of compute alone (0 until measured). */
  examplesPerSec(): number {
    return this.measured ? 1000 / this.cost().msPerExample : 0;
  }

  /**
   * Examples per second of the compute the worker reports, its recent shards' compute time over
   * their examples (0 until measured): never the round-trip fit, whose slope a slow link or a wait
   * can bend either way when shard sizes differ (a member 3x slower than the rest was fitted
   * faster than them in a testbed run, and got H steps every other round).
   */
  computeExamplesPerSec(): number {
    return this.measured && this.mC > 0 ? (1000 * this.mN) / this.mC : 0;
  }

  /**
   * The cost split by what the worker reports alone: its compute per example, and the rest of the
   * round trip as fixed. For decisions that must not hang on the round trips' fit: in a testbed run
   * (mode auto, MNIST) the fit put the host's own worker at 6,918 examples/s at a fifth of a CPU
   * (its compute said about 320), and exact mode was predicted four times too fast.
   */
  computeCost(): ShardCost {
    return splitByCompute(this.mN, this.mT, this.mC);
  }

  /**
   * computeCost over the last STEADY_WINDOW shards, all weighted alike, and never started over: for
   * a decision taken once (mode auto's). The moments above start over on a shard 3x off, which a
   * laptop under a CPU quota does all the time: a testbed host's thread computed a shard in 7 ms or,
   * throttled, in 90, and mode auto took whichever came last (8,619 or 657 examples/s) as its pace.
   */
  steadyCost(): ShardCost {
    const k = Math.max(this.recent.length, 1);
    let n = 0;
    let t = 0;
    let c = 0;
    for (const r of this.recent) {
      n += r.examples;
      t += r.roundTripMs;
      c += r.computeMs;
    }
    return splitByCompute(n / k, t / k, c / k);
  }
}

/** A shard of `n` examples (means): its compute per example, and the rest of its round trip `t` as fixed. */
function splitByCompute(n: number, t: number, c: number): ShardCost {
  const perExample = Math.max(c / Math.max(n, 1e-9), 1e-6);
  return { fixedMs: Math.max(0, t - perExample * n), msPerExample: perExample };
}
