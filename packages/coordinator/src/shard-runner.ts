/**
 * Runs one mini-batch (or one evaluation) over the pool. Planning is cost-aware: each worker's shard
 * costs its measured fixed part (latency, weights in, result out) plus its examples times its
 * measured compute per example, and the batch is split so the iteration ends earliest
 * (core's planShardsByCost). A worker whose fixed cost would delay the iteration gets nothing and
 * stands by; a newcomer, and now and then a worker standing by, gets a *shadow* shard: a copy of
 * examples someone else computes, timed and validated but never added, so measuring it never
 * delays an iteration or touches the result.
 *
 * A shard that fails (worker gone, deadline missed, result rejected) is planned again at once on
 * the idle workers, without waiting for the rest of the round. Non-finite results from two workers
 * (or twice from the only one) mean the run diverged: the round ends with DIVERGED.
 */
import { GradroomError, planShardsByCost, splitShards } from '@gradroom/core';
import type { EvalResultData, ShardResultData } from '@gradroom/worker';
import type { WorkerPool } from './pool.js';
import type { LocalJob, LocalSums, ShardOutcome, WorkerSession } from './session.js';
import { type WeightsSnapshot, WorkerGoneError } from './worker-handle.js';

/**
 * Planning rounds a worker stands by before its first shadow shard; each further probe that finds it
 * still not paying off doubles the wait, up to PROBE_MAX rounds.
 */
export const PROBE_FIRST = 10;
const PROBE_MAX = 160;
/** The largest share of a room's time that probing its members standing by may take. */
const PROBE_SHARE = 0.05;

export interface ShardRunnerOptions {
  /** Smallest shard worth sending (default 1). */
  minShard?: number;
  /** With no worker left: wait for one to join (rooms), or fail (default). */
  waitForWorkers?: boolean;
  /**
   * 'cost' (default): shards only where they shorten the iteration, so a room is never slower than
   * its fastest member alone. 'all': every worker computes a share sized to its speed, however much
   * its link costs (a class that wants every laptop to take part, tests of failure handling).
   */
  planning?: 'cost' | 'all';
}

/** What the runner needs from its owner. */
export interface ShardRunnerHooks {
  /** True once the run is stopping: stop waiting for workers. */
  stopped(): boolean;
  log(level: 'info' | 'warn', message: string): void;
  waiting(reason: string): void;
}

export interface Shard {
  shardId: number;
  indices: Uint32Array;
}

/** What one round cost, for the iteration event. */
export interface RoundStats {
  /** Shards planned again after a failure. */
  replanned: number;
  /** The accepted shard that finished last: its worker's compute, and the rest of its round trip. */
  criticalComputeMs: number;
  criticalTransferMs: number;
  /** Payload bytes through the coordinator (shadow shards included). */
  bytesOut: number;
  bytesIn: number;
}

interface FailureState {
  label: string;
  failures: number;
  nonFinite: Map<string, number>;
  fatal?: unknown;
}

interface Round<R> {
  plan(idle: WorkerSession[], total: number, first: boolean): number[];
  send(s: WorkerSession, shard: Shard): Promise<ShardOutcome<R>>;
  accept(s: WorkerSession, shard: Shard, sums: R): void;
  /** After the first plan: shadow shards for the idle workers left out (training only). */
  probe?(left: WorkerSession[], indices: Uint32Array, used: number): void;
  label: string;
}

export class ShardRunner {
  private nextShardId = 0;
  /** The last cost plan's predicted iteration time, ms (what probes are budgeted against). */
  private makespanMs = 0;
  /** Bytes of shadow shards that ended after their round closed, added to the next round's. */
  private late = { out: 0, in: 0 };

  constructor(
    private readonly pool: WorkerPool,
    private readonly opts: ShardRunnerOptions,
    private readonly hooks: ShardRunnerHooks,
  ) {}

  /** One mini-batch. Returns null if the run was stopped while it waited for workers. */
  train(
    iteration: number,
    snapshot: WeightsSnapshot,
    paramCount: number,
    indices: Uint32Array,
    accept: (s: WorkerSession, shard: Shard, r: ShardResultData) => void,
  ): Promise<RoundStats | null> {
    return this.round(indices, {
      label: `iteration ${iteration}`,
      plan: (idle, total, first) => this.planTrain(idle, total, first),
      send: (s, shard) => s.runTrain({ kind: 'train', iteration, ...shard }, snapshot, paramCount),
      accept,
      probe: (left, all, used) => {
        const minShard = this.opts.minShard ?? 1;
        const size = Math.min(all.length, Math.max(minShard, Math.ceil(all.length / (used + 1))));
        // newcomers are measured at once; of those standing by, at most one a round, the one
        // waiting longest, and each less often while it stays out (every probe costs the shared link
        // a full copy of the weights)
        let standbyProbed = false;
        // probes of those standing by may take at most PROBE_SHARE of the room's link: with k of
        // them probed in turn, each waits k x (its fixed cost, the weights' trip / the iteration's
        // time) / PROBE_SHARE rounds (a slow laptop's own compute costs the others nothing)
        const standing = left.filter((s) => s.measured).length;
        const budgetRounds = (s: WorkerSession) =>
          Math.ceil((standing * s.shardCost().fixedMs) / (PROBE_SHARE * Math.max(this.makespanMs, 1)));
        const due = [...left].sort((a, b) => b.idleRounds - a.idleRounds);
        for (const s of due) {
          s.idleRounds++;
          const wait = Math.max(s.probeEvery, Math.min(PROBE_MAX, budgetRounds(s)));
          if (s.measured && (standbyProbed || s.idleRounds < wait)) continue;
          if (s.measured) {
            standbyProbed = true;
            s.probeEvery = Math.min(PROBE_MAX, s.probeEvery * 2);
          }
          s.idleRounds = 0;
          // every other probe half as big: shards of different sizes tell fixed cost from speed
          const n = s.calls % 2 === 0 ? size : Math.max(minShard, Math.ceil(size / 2));
          const shard = { shardId: this.nextShardId++, indices: all.slice(0, n) };
          s.runTrain({ kind: 'train', iteration, ...shard }, snapshot, paramCount).then(
            (o) => {
              // it usually ends after its round: counted in the next one's bytes
              this.late.out += o.bytesOut;
              this.late.in += o.bytesIn;
            },
            (e) => this.failedProbe(s, e),
          );
        }
      },
    });
  }

  /** Loss and accuracy sums over `indices` of a split; trusted workers evaluate when there are any. */
  evaluate(
    snapshot: WeightsSnapshot,
    indices: Uint32Array,
    split: 'train' | 'test',
    accept: (s: WorkerSession, shard: Shard, r: EvalResultData) => void,
  ): Promise<RoundStats | null> {
    return this.round(indices, {
      label: 'evaluation',
      plan: (idle, total) => {
        // the run's own workers evaluate when it has any: the score is not one peer's word
        const trustedOnly = this.pool.ready().some((s) => s.trusted);
        const speeds = idle.map((s) => (trustedOnly && !s.trusted ? 0 : s.cost.examplesPerSec() || 1));
        if (speeds.every((v) => v === 0)) return speeds;
        return splitShards(total, speeds, { minShard: 1 });
      },
      send: (s, shard) => s.runEvaluate({ kind: 'evaluate', split, ...shard }, snapshot),
      accept,
    });
  }

  /**
   * Cost-aware split among the idle workers. Before anyone is measured, all take equal shards (their
   * warm-up); after that only measured workers get real shards, and the others wait for a shadow.
   */
  private planTrain(idle: WorkerSession[], total: number, first: boolean): number[] {
    const minShard = this.opts.minShard ?? 1;
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
      return splitShards(
        total,
        speeds.map((v) => v || mean),
        { minShard },
      );
    }
    const measured = idle.filter((s) => s.measured);
    const sizes = idle.map(() => 0);
    if (measured.length === 0) return sizes; // a measured worker is busy: wait for it
    const plan = planShardsByCost(
      total,
      measured.map((s) => s.shardCost()),
      { minShard },
    );
    this.makespanMs = plan.makespanMs;
    measured.forEach((s, k) => {
      sizes[idle.indexOf(s)] = plan.sizes[k];
    });
    if (first) {
      for (const s of measured) {
        const i = idle.indexOf(s);
        const was = s.standby !== undefined;
        if (sizes[i] > 0) {
          s.standby = undefined;
          s.probeEvery = PROBE_FIRST;
        } else {
          const c = s.shardCost();
          s.standby = `standing by: its link costs ${Math.round(c.fixedMs)} ms a shard, more than it would save (the iteration takes ${Math.round(plan.makespanMs)} ms without it)`;
        }
        // said once when it changes, not every iteration
        if ((s.standby !== undefined) !== was)
          this.hooks.log(
            'info',
            `worker ${s.handle.name ?? s.id}: ${s.standby ?? 'takes shards again: it pays off now'}`,
          );
      }
    }
    return sizes;
  }

  private async round<R>(indices: Uint32Array, r: Round<R>): Promise<RoundStats | null> {
    const stats: RoundStats = {
      replanned: 0,
      criticalComputeMs: 0,
      criticalTransferMs: 0,
      bytesOut: this.late.out,
      bytesIn: this.late.in,
    };
    this.late = { out: 0, in: 0 };
    let pending: Uint32Array[] = [indices];
    let inflight = 0;
    let live = true;
    const fs: FailureState = { label: r.label, failures: 0, nonFinite: new Map() };
    let lastEnd = Number.NEGATIVE_INFINITY;
    let first = true;
    try {
      for (;;) {
        if (fs.fatal) throw fs.fatal;
        if (pending.length === 0 && inflight === 0) return stats;
        if (this.hooks.stopped()) return null;
        if (pending.length > 0) {
          const idle = this.pool.idle();
          const all = pending.length === 1 ? pending[0] : concat(pending);
          const sizes = idle.length > 0 ? r.plan(idle, all.length, first) : [];
          if (sizes.some((n) => n > 0)) {
            pending = [];
            let offset = 0;
            const left: WorkerSession[] = [];
            idle.forEach((s, i) => {
              if (sizes[i] === 0) {
                left.push(s);
                return;
              }
              // a copy, not a view: a message would otherwise carry the whole epoch's index buffer
              const shard = { shardId: this.nextShardId++, indices: all.slice(offset, offset + sizes[i]) };
              offset += sizes[i];
              inflight++;
              r.send(s, shard).then(
                (o) => {
                  inflight--;
                  if (!live) return;
                  stats.bytesOut += o.bytesOut;
                  stats.bytesIn += o.bytesIn;
                  try {
                    r.accept(s, shard, o.sums);
                  } catch (e) {
                    // refused by the owner (a poisoned gradient): a strike, and it counts toward the cap
                    pending.push(shard.indices);
                    stats.replanned++;
                    s.reject((e as Error).message);
                    this.failure(fs, s, e);
                    return;
                  }
                  const end = performance.now();
                  if (end >= lastEnd) {
                    lastEnd = end;
                    stats.criticalComputeMs = Number.isFinite(o.computeMs) ? o.computeMs : 0;
                    stats.criticalTransferMs = Math.max(0, o.roundTripMs - stats.criticalComputeMs);
                  }
                  this.pool.changed();
                },
                (e: unknown) => {
                  inflight--;
                  if (!live) return;
                  pending.push(shard.indices);
                  stats.replanned++;
                  this.failure(fs, s, e);
                },
              );
            });
            if (first && r.probe) r.probe(left, all, idle.length - left.length);
            first = false;
            continue;
          }
          if (inflight === 0 && this.pool.idle().length === 0) this.noWorkers();
        }
        await this.pool.nextChange();
      }
    } finally {
      live = false;
    }
  }

  /**
   * A shard (or local round) failed on `s`; the caller has put its work back. A worker that left is
   * removed; anything else is logged and counted. Non-finite results from two workers, or twice from
   * the only one left, mean the run diverged; too many failures in one round end it.
   */
  private failure(fs: FailureState, s: WorkerSession, e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    if (e instanceof WorkerGoneError) this.pool.remove(s.id, reason);
    else {
      this.hooks.log('warn', `worker ${s.id}: ${reason}; its work is planned again`);
      fs.failures++;
      if (e instanceof GradroomError && e.code === 'NON_FINITE') {
        const times = (fs.nonFinite.get(s.id) ?? 0) + 1;
        fs.nonFinite.set(s.id, times);
        // two workers agree, or the only one left says it twice: the model diverged
        // (a single broken worker is dropped after its strikes instead)
        const ready = this.pool.ready();
        if (fs.nonFinite.size >= 2 || (times >= 2 && ready.length === 1 && ready[0] === s))
          fs.fatal ??= new GradroomError('DIVERGED', `${fs.label}: ${reason}`);
      }
      const cap = 10 + 4 * this.pool.members.size;
      if (fs.failures > cap)
        fs.fatal ??= new GradroomError(
          'BAD_STATE',
          `${fs.label}: work failed ${fs.failures} times (last: ${reason}); giving up`,
        );
    }
    this.pool.changed();
  }

  /**
   * Mode `local`: each idle worker takes one group of consecutive mini-batches (H inner steps) from
   * the same weights; a group whose worker fails goes to the next idle worker, so every mini-batch
   * of the round is counted exactly once.
   */
  async local(
    snapshot: WeightsSnapshot,
    paramCount: number,
    jobs: LocalJob[],
    accept: (s: WorkerSession, job: LocalJob, sums: LocalSums) => void,
  ): Promise<RoundStats | null> {
    const stats: RoundStats = { replanned: 0, criticalComputeMs: 0, criticalTransferMs: 0, bytesOut: 0, bytesIn: 0 };
    const fs: FailureState = { label: `round at iteration ${jobs[0]?.round ?? 0}`, failures: 0, nonFinite: new Map() };
    const pending = [...jobs];
    let inflight = 0;
    let live = true;
    let lastEnd = Number.NEGATIVE_INFINITY;
    try {
      for (;;) {
        if (fs.fatal) throw fs.fatal;
        if (pending.length === 0 && inflight === 0) return stats;
        if (this.hooks.stopped()) return null;
        const idle = this.pool.idle().filter((s) => s.handle.trainLocal);
        while (pending.length > 0 && idle.length > 0) {
          const job = pending.shift() as LocalJob;
          const s = idle.shift() as WorkerSession;
          inflight++;
          s.runLocal(job, snapshot, paramCount).then(
            (o) => {
              inflight--;
              if (!live) return;
              stats.bytesOut += o.bytesOut;
              stats.bytesIn += o.bytesIn;
              accept(s, job, o.sums);
              const end = performance.now();
              if (end >= lastEnd) {
                lastEnd = end;
                stats.criticalComputeMs = o.computeMs;
                stats.criticalTransferMs = Math.max(0, o.roundTripMs - o.computeMs);
              }
              this.pool.changed();
            },
            (e: unknown) => {
              inflight--;
              if (!live) return;
              pending.push(job);
              stats.replanned++;
              this.failure(fs, s, e);
            },
          );
        }
        if (pending.length > 0 && inflight === 0) this.noWorkers();
        await this.pool.nextChange();
      }
    } finally {
      live = false;
    }
  }

  /** Nothing in flight and work left: with no worker in the pool, fail (local workers) or wait (rooms). */
  private noWorkers(): void {
    if (this.pool.hasAny()) return;
    if (!this.opts.waitForWorkers)
      throw new GradroomError('BAD_STATE', 'every worker has left or failed; nothing can compute the rest of the run');
    this.hooks.waiting('no workers: waiting for one to join');
  }

  private failedProbe(s: WorkerSession, e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    if (e instanceof WorkerGoneError) this.pool.remove(s.id, reason);
    else this.hooks.log('warn', `worker ${s.id}: a measuring shard failed: ${reason}`);
  }
}

function concat(parts: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
