/**
 * Exact mode: one mini-batch per round, split into shards by the planner; the gradient sums are
 * added (or robustly combined) into the gradient of the mean loss, and the central step equals the
 * serial loop's. A peer's shard is bounded by the gradient bound before it is added.
 */
import {
  AGGREGATIONS,
  type Aggregation,
  Aggregator,
  aloneExamplesPerSec,
  type CheckedShard,
  DEFAULT_START_CEILING,
  GradientBound,
  GradroomError,
  OutOfBounds,
  robustMean,
  splitShards,
} from '@gradroom/core';
import { assignIndices, type Dispatcher, type RoundKind } from '../dispatch.js';
import type { ShardPlanner } from '../planning.js';
import type { WorkerPool } from '../pool.js';
import type { WorkerSession } from '../session.js';
import type { TrainTask } from '../tasks.js';
import { addCredit, type Mode, type RoundOutcome, type RoundStart } from './mode.js';

/** A chunked data set's training split: where a member's measuring shards take their examples. */
export interface ProbeChunks {
  train: number;
  chunkExamples: number;
  /**
   * The warm start of mode local over partitions: shards go only to the run's own workers (no link)
   * while it has any, so that members do not fetch chunks for random examples of the epoch plan
   * before they train their partitions; the others stand by (and are measured on one chunk).
   */
  ownFirst?: boolean;
  /** With ownFirst: told, each iteration, of the members standing by (they fetch their partitions' first chunks). */
  standing?: (at: RoundStart, members: WorkerSession[]) => void;
}

/**
 * The examples of a measuring shard for `member` over a chunked data set: n consecutive ones from a
 * chunk fixed by the member's id, so that measuring it costs it one chunk's fetch, not a chunk for
 * nearly every example (a shadow shard is timed, never added: any examples will do).
 */
export function probeIndices(member: string, n: number, d: ProbeChunks): Uint32Array {
  let h = 2166136261;
  for (let i = 0; i < member.length; i++) h = Math.imul(h ^ member.charCodeAt(i), 16777619) >>> 0;
  const start = (h % Math.ceil(d.train / d.chunkExamples)) * d.chunkExamples;
  const out = new Uint32Array(Math.min(n, d.train));
  for (let k = 0; k < out.length; k++) out[k] = (start + k) % d.train;
  return out;
}

export interface ExactModeOptions {
  gradientBound?: number;
  /** The bound's absolute ceiling until it has its first samples (default DEFAULT_START_CEILING). */
  gradientBoundStart?: number;
  aggregation?: Aggregation;
  waitForWorkers?: boolean;
}

/** A volunteer's standby reason during mode local's warm start over partitions (ProbeChunks.ownFirst). */
export const WARM_START_STANDBY =
  "standing by for the warm start: its mini-batches run on the run's own workers; mode local's rounds, for every member, come after";

/** Robust aggregation needs this many shards, from as many workers, in every iteration. */
export const ROBUST_MIN_WORKERS = 3;

export class ExactMode implements Mode {
  private readonly bound: GradientBound;
  private readonly aggregation: Aggregation;

  constructor(
    private readonly pool: WorkerPool,
    private readonly dispatcher: Dispatcher,
    private readonly planner: ShardPlanner,
    opts: ExactModeOptions,
    /** A chunked data set: measuring shards take examples of one chunk per member (probeIndices). */
    private readonly probeChunks?: ProbeChunks,
  ) {
    this.bound = new GradientBound(opts.gradientBound ?? 50, 64, 4, opts.gradientBoundStart ?? DEFAULT_START_CEILING);
    this.aggregation = opts.aggregation ?? 'sum';
    this.waitForWorkers = opts.waitForWorkers ?? false;
  }

  private readonly waitForWorkers: boolean;
  /** The reason the run is waiting, said once while it lasts. */
  private waitingFor?: string;

  /**
   * Robust aggregation: the iteration's shards go to at least ROBUST_MIN_WORKERS workers, split
   * evenly (a median or trimmed mean of one or two shards is just their mean, and a hostile worker
   * would own it). With fewer in the room the run waits for more (rooms) or fails (its own workers).
   */
  private robustSizes(idle: WorkerSession[], total: number, first: boolean): number[] {
    if (!AGGREGATIONS.includes(this.aggregation))
      throw new GradroomError(
        'BAD_CONFIG',
        `aggregation must be 'sum', 'median' or 'trimmed-mean', got ${String(this.aggregation)}`,
      );
    const ready = this.pool.ready().length;
    if (ready < ROBUST_MIN_WORKERS) {
      const why = `robust aggregation needs ${ROBUST_MIN_WORKERS} workers in every iteration; the run has ${ready}`;
      if (!this.waitForWorkers) throw new GradroomError('BAD_CONFIG', `${why}: add workers or use aggregation 'sum'`);
      if (this.waitingFor !== why) this.dispatcher.waiting(`waiting: ${why}`);
      this.waitingFor = why;
      return idle.map(() => 0);
    }
    this.waitingFor = undefined;
    // the first split needs three idle workers; a shard given again later may go to any
    if (first && idle.length < ROBUST_MIN_WORKERS) return idle.map(() => 0);
    return splitShards(
      total,
      idle.map(() => 1),
      { minShard: 1 },
    );
  }

  async round(at: RoundStart): Promise<RoundOutcome | null> {
    const { pos, plan, snapshot, paramCount } = at;
    const indices = plan.batch(pos.batch);
    const iteration = pos.iteration;
    const agg = new Aggregator(paramCount);
    const kept: CheckedShard[] = [];
    const perWorker = new Map<WorkerSession, number>();
    const lr = at.lrAt(pos); // before the round: a manual change made meanwhile starts at the next one
    /**
     * Workers whose shard of this iteration the bound refused: they compute none of it again while
     * another worker can (given back to the same fast peer, a shard just over the bound came back
     * refused until the iteration reached its failure cap, and the run failed).
     */
    const refused = new Set<string>();
    const kind: RoundKind<Uint32Array, TrainTask> = {
      label: `iteration ${iteration}`,
      assign: (all, pending, first) => {
        // an own worker still setting up is waited for (its shards wait, the volunteers stand by)
        const ownOnly = this.probeChunks?.ownFirst === true && this.pool.hasOwnWorker();
        let idle = ownOnly ? all.filter((s) => s.trusted) : all;
        // the volunteers wait for the warm start: their page says why, rather than "ready" for 15 s
        if (ownOnly && first) {
          const waiting = all.filter((s) => !s.trusted);
          for (const s of waiting) s.standBy(WARM_START_STANDBY);
          if (waiting.length > 0) this.probeChunks?.standing?.(at, waiting);
        }
        if (refused.size > 0 && this.pool.ready().some((s) => !refused.has(s.id)))
          idle = idle.filter((s) => !refused.has(s.id));
        if (idle.length === 0) return { given: [], rest: pending };
        return assignIndices(
          idle,
          pending,
          (total) =>
            this.aggregation === 'sum' ? this.planner.train(idle, total, first) : this.robustSizes(idle, total, first),
          (part) => ({ kind: 'train', iteration, shardId: this.dispatcher.nextShardId(), indices: part, paramCount }),
        );
      },
      workOf: (task) => task.indices,
      accept: (s, _task, r) => {
        if (!s.trusted)
          try {
            this.bound.check(r.normPerExample, `worker ${s.id}`);
          } catch (e) {
            if (e instanceof OutOfBounds) refused.add(s.id);
            throw e;
          }
        agg.add(r);
        if (this.aggregation !== 'sum') kept.push(r);
        this.bound.record(r.normPerExample);
        addCredit(perWorker, s, r.count);
      },
      probe: (left, used) => {
        for (const [s, n] of this.planner.probes(left, indices.length, used)) {
          const task: TrainTask = {
            kind: 'train',
            iteration,
            shardId: this.dispatcher.nextShardId(),
            indices: this.probeChunks ? probeIndices(s.id, n, this.probeChunks) : indices.slice(0, n),
            paramCount,
          };
          this.dispatcher.shadow(s, task, snapshot);
        }
      },
    };
    const t0 = performance.now();
    const stats = await this.dispatcher.run(kind, [indices], snapshot);
    if (stats === null) return null;
    // a clean iteration tells the planner what this many members really took (PlanCheck)
    if (stats.replanned === 0 && this.aggregation === 'sum')
      this.planner.observe(perWorker.size, performance.now() - t0, indices.length);
    // agg.mean also checks that every example of the mini-batch was counted exactly once
    const mean = agg.mean(indices.length, at.grads);
    if (this.aggregation !== 'sum') robustMean(kept, this.aggregation, mean);
    return {
      stats,
      lossSum: agg.lossSum,
      correct: agg.correct,
      count: agg.count,
      steps: 1,
      stepLr: lr,
      eventLr: lr,
      perWorker,
      shareOf: indices.length,
      fastestAloneExamplesPerSec: this.pool
        .ready()
        .reduce(
          (best, s) => (s.measured ? Math.max(best, aloneExamplesPerSec(indices.length, s.shardCost())) : best),
          0,
        ),
    };
  }
}
