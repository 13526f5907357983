/**
 * Who computes how much of a mini-batch (the planning policy; dispatch.ts sends what it decides).
 * Planning is cost-aware: each worker's shard costs its measured fixed part (latency, weights in,
 * result out) plus its examples times its measured compute per example, and the batch is split so
 * the iteration ends earliest (core's planShardsByCost). A worker whose fixed cost would delay the
 * iteration gets nothing and stands by; a newcomer, and now and then a worker standing by, gets a
 * *shadow* shard: a copy of examples someone else computes, timed and validated but never added, so
 * measuring it never delays an iteration or touches the result. The plan is checked against the
 * measured iterations (core's PlanCheck): when more members made them slower (members sharing a CPU
 * or a link), plans use fewer for a while, and the larger plan is measured again later. The run's
 * own workers are checked apart (core's OwnWorkerCheck): they share the coordinator's CPU, so where
 * the room was faster without them, they stand by for a while.
 */
import { OwnWorkerCheck, PlanCheck, planShardsByCost, splitShards } from '@gradroom/core';
import type { WorkerPool } from './pool.js';
import type { WorkerSession } from './session.js';

/** The largest share of a room's time that probing its members standing by may take. */
const PROBE_SHARE = 0.05;

export interface PlanningOptions {
  /** Smallest shard worth sending (default 1). */
  minShard?: number;
  /**
   * 'cost' (default): shards only where they shorten the iteration, so a room is never slower than
   * its fastest member alone. 'all': every worker computes a share sized to its speed, however much
   * its link costs (a class that wants every laptop to take part, tests of failure handling).
   */
  planning?: 'cost' | 'all';
}

export class ShardPlanner {
  /** The last cost plan's predicted iteration time, ms (what probes are budgeted against). */
  private makespanMs = 0;
  /**
   * Measured iterations by how many members computed them: caps plans that more members made slower.
   * One per kind of plan, with the own workers and without them, so like is compared with like.
   */
  private readonly checks = { with: new PlanCheck(), without: new PlanCheck() };
  /** Measured iterations with and without the run's own workers, where others could compute. */
  private readonly own = new OwnWorkerCheck();
  /**
   * The kind of this iteration's plan (decided on its first plan): with the own workers (or a room
   * without any), or without them.
   */
  private kind: 'with' | 'without' = 'with';

  constructor(
    private readonly pool: WorkerPool,
    private readonly opts: PlanningOptions,
    private readonly log: (level: 'info' | 'warn', message: string) => void,
  ) {}

  get minShard(): number {
    return this.opts.minShard ?? 1;
  }

  /**
   * Sizes of the idle workers' shards of `total` training examples. Before anyone is measured, all
   * take equal shards (their warm-up); after that only measured workers get real shards, and the
   * others wait for a shadow. On the round's first plan, each measured worker is told whether it
   * stands by.
   */
  train(idle: WorkerSession[], total: number, first: boolean): number[] {
    const minShard = this.minShard;
    const anyMeasured = this.pool.ready().some((s) => s.measured);
    if (!anyMeasured)
      return splitShards(
        total,
        idle.map(() => 1),
        { minShard },
      );
    if (this.opts.planning === 'all') {
      // examples/s over a whole shard of an even split (link included), so a worker with a slow link
      // or slow compute gets the smaller share
      const even = Math.max(1, Math.ceil(total / idle.length));
      const speeds = idle.map((s) => {
        const ms = s.predictMs(even);
        return ms === undefined ? 0 : (even / Math.max(ms, 1e-3)) * 1000;
      });
      const known = speeds.filter((v) => v > 0);
      const mean = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
      return everyOneAShard(
        splitShards(
          total,
          speeds.map((v) => v || mean),
          { minShard },
        ),
        minShard,
      );
    }
    const all = idle.filter((s) => s.measured);
    const sizes = idle.map(() => 0);
    if (all.length === 0) return sizes; // a measured worker is busy: wait for it
    const others = all.filter((s) => !s.trusted);
    if (first) {
      // the others alone, as the model prices them: leaving the own workers out is tried only where
      // that is no slower than what was measured with them (OwnWorkerCheck), and once every other
      // member is measured (a room still measuring its newcomers would try it on one of them)
      const alone =
        others.length > 0 && others.length < all.length && idle.every((s) => s.trusted || s.measured)
          ? planShardsByCost(
              total,
              others.map((s) => s.shardCost()),
              { minShard },
            ).makespanMs / Math.max(total, 1)
          : undefined;
      this.kind = this.own.leaveOut(alone) && others.length > 0 ? 'without' : 'with';
    }
    const measured = this.kind === 'without' && others.length > 0 ? others : all;
    // a try of the plan with the own workers, after they stood by, prices them by their compute
    // alone: their round trips were last measured while they slowed the room's sends (325 ms
    // fixed a shard on the classroom testbed), and a try in which the model gives them nothing
    // would measure nothing, so they would never come back
    const retrying = this.own.measuring && this.kind === 'with' && others.length > 0;
    const costOf = (s: WorkerSession) =>
      retrying && s.trusted ? { fixedMs: 0, msPerExample: s.computeCost().msPerExample } : s.shardCost();
    let plan = planShardsByCost(total, measured.map(costOf), { minShard });
    // the measured iterations overrule the model: with more members it was slower (PlanCheck)
    let users = measured.filter((_, k) => plan.sizes[k] > 0);
    const check = this.checks[this.kind];
    // while the own workers' plan is being tried, PlanCheck's smaller plans wait: the try measures
    // the whole plan
    const cap = this.own.measuring ? undefined : check.cap;
    const limit = this.own.measuring ? Number.POSITIVE_INFINITY : check.limit();
    if (users.length > limit) {
      users = [...users]
        .sort((a, b) => plan.sizes[measured.indexOf(b)] - plan.sizes[measured.indexOf(a)])
        .slice(0, limit);
      const sub = planShardsByCost(
        total,
        users.map((s) => s.shardCost()),
        { minShard },
      );
      plan = {
        sizes: measured.map((s) => (users.includes(s) ? sub.sizes[users.indexOf(s)] : 0)),
        makespanMs: sub.makespanMs,
      };
    }
    this.makespanMs = plan.makespanMs;
    measured.forEach((s, k) => {
      sizes[idle.indexOf(s)] = plan.sizes[k];
    });
    if (first) {
      const choice = this.own.choice;
      for (const s of all) {
        const takes = sizes[idle.indexOf(s)] > 0;
        const c = s.shardCost();
        const news = takes
          ? s.takesPart()
          : s.standBy(
              !measured.includes(s)
                ? choice?.leaveOut
                  ? `standing by: the room was faster without this machine's own worker (${perBatch(choice.withoutMsPerExample, total)} ms a mini-batch against ${perBatch(choice.withMsPerExample, total)} ms with it): it shares this machine's CPU with the room's sends`
                  : "standing by for a few iterations: the room measures whether it is faster without this machine's own worker"
                : cap && c.fixedMs < plan.makespanMs
                  ? `standing by: the room was slower with more members (${perBatch(cap.msPerExample, total)} ms a mini-batch with ${cap.members}, ${perBatch(cap.fewerMsPerExample, total)} ms with ${cap.fewer}): members may share a CPU or a link`
                  : !cap && Number.isFinite(limit) && c.fixedMs < plan.makespanMs
                    ? 'standing by for a few iterations: the room measures whether it is faster with fewer members'
                    : `standing by: its link costs ${Math.round(c.fixedMs)} ms a shard, more than it would save (the iteration takes ${Math.round(plan.makespanMs)} ms without it)`,
            );
        // said once when it changes, not every iteration
        if (news)
          this.log('info', `worker ${s.handle.name ?? s.id}: ${s.standby ?? 'takes shards again: it pays off now'}`);
      }
    }
    return sizes;
  }

  /** One iteration measured: `members` workers computed `examples` in `ms` (PlanCheck, OwnWorkerCheck). */
  observe(members: number, ms: number, examples: number): void {
    const check = this.checks[this.kind];
    const choice = this.own.choice;
    const trying = this.own.measuring;
    this.own.observe(this.kind === 'with', ms, examples);
    const now = this.own.choice;
    if (now && now !== choice && now.leaveOut !== (choice?.leaveOut ?? false))
      this.log(
        'info',
        now.leaveOut
          ? `the room was faster without this machine's own worker (${perBatch(now.withoutMsPerExample, examples)} against ${perBatch(now.withMsPerExample, examples)} ms a mini-batch): it shares the CPU with the room's sends, and stands by for a while`
          : `this machine's own worker takes shards again: the room is faster with it (${perBatch(now.withMsPerExample, examples)} against ${perBatch(now.withoutMsPerExample, examples)} ms a mini-batch)`,
      );
    if (trying) return; // a plan under trial, left out of PlanCheck's counts
    const before = check.cap;
    check.observe(members, ms, examples);
    const after = check.cap;
    if (after && after !== before)
      this.log(
        'info',
        `the room was slower with ${after.members} members than with ${after.fewer} (${perBatch(after.msPerExample, examples)} against ${perBatch(after.fewerMsPerExample, examples)} ms a mini-batch): planning for ${after.fewer} for a while`,
      );
  }

  /** Evaluation shards: the run's own workers evaluate when it has any (the score is not one peer's word). */
  evaluate(idle: WorkerSession[], total: number): number[] {
    const trustedOnly = this.pool.ready().some((s) => s.trusted);
    const speeds = idle.map((s) => (trustedOnly && !s.trusted ? 0 : s.examplesPerSec() || 1));
    if (speeds.every((v) => v === 0)) return speeds;
    return splitShards(total, speeds, { minShard: 1 });
  }

  /**
   * Shadow shards for the workers left out of a round that gave `used` workers real shards of a
   * `total`-example batch: [worker, examples] pairs. Newcomers are measured at once; of those
   * standing by, at most one a round, the one waiting longest, and each less often while it stays
   * out (every probe costs the shared link a full copy of the weights).
   */
  probes(left: WorkerSession[], total: number, used: number): [WorkerSession, number][] {
    const minShard = this.minShard;
    const size = Math.min(total, Math.max(minShard, Math.ceil(total / (used + 1))));
    // probes of those standing by may take at most PROBE_SHARE of the room's link: with k of them
    // probed in turn, each waits k x (its fixed cost, the weights' trip / the iteration's time) /
    // PROBE_SHARE rounds (a slow laptop's own compute costs the others nothing)
    const standing = left.filter((s) => s.measured).length;
    const budgetRounds = (s: WorkerSession) =>
      Math.ceil((standing * s.shardCost().fixedMs) / (PROBE_SHARE * Math.max(this.makespanMs, 1)));
    let standbyProbed = false;
    const out: [WorkerSession, number][] = [];
    for (const s of [...left].sort((a, b) => b.idleRounds - a.idleRounds)) {
      // an own worker left out spares the coordinator's CPU: a shadow shard would spend it anyway
      if (this.kind === 'without' && s.trusted && s.measured) continue;
      const due = s.leftOut(budgetRounds(s));
      if (s.measured && (standbyProbed || !due)) continue;
      if (s.measured) standbyProbed = true;
      // every other probe half as big: shards of different sizes tell fixed cost from speed
      const n = s.calls % 2 === 0 ? size : Math.max(minShard, Math.ceil(size / 2));
      s.probed();
      out.push([s, n]);
    }
    return out;
  }
}

/** ms per example as ms per mini-batch of `n`, rounded. */
function perBatch(msPerExample: number, n: number): number {
  return Math.round(msPerExample * n);
}

/**
 * Planning 'all' gives every worker a share: one measured far slower than the others (a first shard
 * delayed on a loaded machine) would round to none, and, never sent a shard again, never be measured
 * again. It gets the smallest shard, taken from the largest, where the largest can spare it.
 */
export function everyOneAShard(sizes: readonly number[], minShard: number): number[] {
  const out = [...sizes];
  const least = Math.max(1, minShard);
  for (let i = 0; i < out.length; i++) {
    if (out[i] >= least) continue;
    const big = out.indexOf(Math.max(...out));
    if (big === i || out[big] - (least - out[i]) < least) continue;
    out[big] -= least - out[i];
    out[i] = least;
  }
  return out;
}
