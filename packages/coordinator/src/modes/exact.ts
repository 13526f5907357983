/**
 * Exact mode: one mini-batch per round, split into shards by the planner; the gradient sums are
 * added (or robustly combined) into the gradient of the mean loss, and the central step equals the
 * serial loop's. A peer's shard is bounded by the gradient bound before it is added.
 */
import {
  type Aggregation,
  Aggregator,
  aloneExamplesPerSec,
  type CheckedShard,
  GradientBound,
  robustMean,
} from '@gradroom/core';
import { type Dispatcher, mergeIndices, type RoundKind } from '../dispatch.js';
import type { ShardPlanner } from '../planning.js';
import type { WorkerPool } from '../pool.js';
import type { WorkerSession } from '../session.js';
import type { TrainTask } from '../tasks.js';
import { addCredit, type Mode, type RoundOutcome, type RoundStart } from './mode.js';

export interface ExactModeOptions {
  gradientBound?: number;
  aggregation?: Aggregation;
}

export class ExactMode implements Mode {
  private readonly bound: GradientBound;
  private readonly aggregation: Aggregation;

  constructor(
    private readonly pool: WorkerPool,
    private readonly dispatcher: Dispatcher,
    private readonly planner: ShardPlanner,
    opts: ExactModeOptions,
  ) {
    this.bound = new GradientBound(opts.gradientBound ?? 50);
    this.aggregation = opts.aggregation ?? 'sum';
  }

  async round(at: RoundStart): Promise<RoundOutcome | null> {
    const { pos, plan, snapshot, paramCount } = at;
    const indices = plan.batch(pos.batch);
    const iteration = pos.iteration;
    const agg = new Aggregator(paramCount);
    const kept: CheckedShard[] = [];
    const perWorker = new Map<WorkerSession, number>();
    const lr = at.lrAt(pos); // before the round: a manual change made meanwhile starts at the next one
    const kind: RoundKind<Uint32Array, TrainTask> = {
      label: `iteration ${iteration}`,
      assign: (idle, pending, first) => {
        const all = mergeIndices(pending);
        const sizes = this.planner.train(idle, all.length, first);
        const given: [WorkerSession, TrainTask][] = [];
        let offset = 0;
        idle.forEach((s, i) => {
          if (sizes[i] === 0) return;
          // a copy, not a view: a message would otherwise carry the whole epoch's index buffer
          const part = all.slice(offset, offset + sizes[i]);
          offset += sizes[i];
          given.push([
            s,
            { kind: 'train', iteration, shardId: this.dispatcher.nextShardId(), indices: part, paramCount },
          ]);
        });
        return { given, rest: given.length > 0 ? [] : pending };
      },
      workOf: (task) => task.indices,
      accept: (s, _task, r) => {
        if (!s.trusted) this.bound.check(r.normPerExample, `worker ${s.id}`);
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
            indices: indices.slice(0, n),
            paramCount,
          };
          this.dispatcher.shadow(s, task, snapshot);
        }
      },
    };
    const stats = await this.dispatcher.run(kind, [indices], snapshot);
    if (stats === null) return null;
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
