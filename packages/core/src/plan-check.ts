/**
 * A planner that checks itself. The cost model plans as if members were independent; members that
 * share a CPU (tabs on one laptop) or a link make a plan with more of them slower than one with fewer.
 * PlanCheck compares the measured time of each iteration, per example, by how many members computed
 * it. When the median with more members is slower than the best median with fewer, plans are capped
 * at that smaller number; after a wait (which doubles while the cap keeps proving right) the full
 * plan is measured again, so members that stopped sharing come back. A member count never compared
 * with a smaller one (a room whose members all joined at once) is compared once with half as many,
 * for `minSamples` iterations.
 *
 * Only medians of the same stretch of time are compared: a machine's pace drifts (other load, a
 * laptop's power state), and a slow patch measured with 4 members against a median taken with 2
 * a hundred iterations earlier says nothing about the members. Where the smaller plan's samples are
 * older than `fresh` iterations, the cap waits: that plan is measured again first (minSamples
 * iterations, only when a cap is in question), and the two are compared then.
 */
import { median } from './median.js';

export interface PlanCheckOptions {
  /** Slower by more than this share counts as slower (default 0.05). */
  margin?: number;
  /** Samples kept per member count (default 5). */
  window?: number;
  /** Samples needed before a member count is compared (default 3). */
  minSamples?: number;
  /** Iterations capped before the first re-measurement (default 60: 3 slow iterations in 60, 5 %). */
  firstWait?: number;
  /** The longest wait (default 640). */
  maxWait?: number;
  /** A smaller plan's median is compared only if its newest sample is at most this old (default 30 iterations). */
  fresh?: number;
}

/** Why plans are capped: the medians that were compared. */
export interface PlanCap {
  members: number;
  msPerExample: number;
  fewer: number;
  fewerMsPerExample: number;
}

export class PlanCheck {
  private readonly samples = new Map<number, number[]>();
  /** The iteration of each member count's newest sample. */
  private readonly lastAt = new Map<number, number>();
  private readonly o: Required<PlanCheckOptions>;
  private iterations = 0;
  private until = 0;
  private wait: number;
  private capped?: PlanCap;
  /** A smaller plan being measured for comparison, and the counts already compared so. */
  private exploring?: number;
  private readonly explored = new Set<number>();

  constructor(opts: PlanCheckOptions = {}) {
    this.o = { margin: 0.05, window: 5, minSamples: 3, firstWait: 60, maxWait: 640, fresh: 30, ...opts };
    this.wait = this.o.firstWait;
  }

  /** The cap in force and why, or undefined while plans may use every member. */
  get cap(): PlanCap | undefined {
    return this.iterations < this.until ? this.capped : undefined;
  }

  /** The most members a plan may use now. */
  limit(): number {
    return this.exploring ?? this.cap?.fewer ?? Number.POSITIVE_INFINITY;
  }

  /** One iteration measured: `members` computed `examples` in `ms`. */
  observe(members: number, ms: number, examples: number): void {
    this.iterations++;
    if (!(Number.isInteger(members) && members >= 1 && examples > 0 && ms > 0 && Number.isFinite(ms))) return;
    const xs = this.samples.get(members) ?? [];
    xs.push(ms / examples);
    if (xs.length > this.o.window) xs.shift();
    this.samples.set(members, xs);
    this.lastAt.set(members, this.iterations);
    if (this.exploring !== undefined) {
      if (members <= this.exploring && xs.length >= this.o.minSamples) {
        // measured: judge the larger plan against it
        const larger = Math.max(...[...this.samples.keys()].filter((k) => this.full(k)));
        this.exploring = undefined;
        this.judge(larger);
      }
      return;
    }
    if (xs.length < this.o.minSamples || this.cap) return;
    this.judge(members);
  }

  private full(k: number): boolean {
    return (this.samples.get(k)?.length ?? 0) >= this.o.minSamples;
  }

  /** Compares `members` with the best smaller plan measured, or starts measuring one. */
  private judge(members: number): void {
    const xs = this.samples.get(members);
    if (!xs || xs.length < this.o.minSamples) return;
    const mine = median(xs);
    let best: { k: number; m: number } | undefined;
    const stale: number[] = [];
    for (const [k, ys] of this.samples) {
      if (k >= members || ys.length < this.o.minSamples) continue;
      const m = median(ys);
      if (!best || m < best.m) best = { k, m };
      if (this.iterations - (this.lastAt.get(k) ?? 0) > this.o.fresh) stale.push(k);
    }
    if (!best) {
      if (members >= 2 && !this.explored.has(members)) {
        this.explored.add(members);
        this.exploring = Math.max(1, Math.floor(members / 2));
      }
      return;
    }
    if (mine <= best.m * (1 + this.o.margin)) return;
    if (stale.includes(best.k)) {
      // measured in another stretch of time: stale medians are no evidence; the best of them is
      // measured again, then the two plans are compared
      for (const k of stale) this.samples.delete(k);
      this.exploring = best.k;
      return;
    }
    this.capped = { members, msPerExample: mine, fewer: best.k, fewerMsPerExample: best.m };
    this.until = this.iterations + this.wait;
    this.wait = Math.min(this.o.maxWait, this.wait * 2);
    // plans with more members are measured afresh when the wait is over
    for (const k of [...this.samples.keys()]) if (k > best.k) this.samples.delete(k);
  }
}
