/**
 * Mode auto's phases (issue 18 §3): the dynamic variant of phases.ts. The run starts in exact mode,
 * which measures every member's shard cost (fixed ms per shard, ms per example); after
 * MEASURE_ITERATIONS, once every member is measured (or at the first epoch's end), it asks core's
 * chooseMode which of exact mode and mode local with H in 2..32 reaches the target first, and runs
 * that phase. It decides again when the members change, at most once an epoch so it does not flap.
 * Each phase keeps its own central optimizer and its state across switches (the job's for exact,
 * the outer one for every H of mode local).
 */
import {
  chooseMode,
  createOptimizer,
  iterationsPerEpoch,
  type MemberCost,
  type ModeDecision,
  measuredEfficiency,
  type OptimizerState,
  type Position,
} from '@gradroom/core';
import type { Dispatcher } from '../dispatch.js';
import { type AutoModeConfig, type JobConfig, outerOf, PEER_COMPRESS } from '../job.js';
import type { ShardPlanner } from '../planning.js';
import type { WorkerPool } from '../pool.js';
import type { TrainerOptions } from '../trainer-options.js';
import { ExactMode } from './exact.js';
import { LocalMode } from './local.js';
import { type Phase, Phases, type RunPhases } from './phases.js';

/** Iterations of exact mode that measure the members before the first decision. */
export const MEASURE_ITERATIONS = 3;

/** What mode auto runs now, and why (the iteration event's `auto` field). */
export interface AutoDecision {
  mode: 'exact' | 'local';
  /** H in mode local; 1 in exact mode. */
  steps: number;
  reason: string;
  /** Predicted seconds to the target of the chosen mode and of exact mode; absent while measuring. */
  predictedSeconds?: number;
  exactSeconds?: number;
}

export class AutoPhases implements RunPhases {
  private readonly exact: Phase;
  private readonly outer;
  private readonly locals = new Map<number, Phase>();
  private current: Phase;
  private measureFrom?: number;
  /** The epoch measuring started in: the first decision waits for every member within it. */
  private measureEpoch?: number;
  /** The epoch and the members of the last decision (-1: none yet). */
  private decidedEpoch = -1;
  private members = '';
  decision: AutoDecision = { mode: 'exact', steps: 1, reason: 'mode exact while the members are measured' };

  constructor(
    private readonly job: JobConfig & { mode: AutoModeConfig },
    private readonly pool: WorkerPool,
    private readonly dispatcher: Dispatcher,
    planner: ShardPlanner,
    private readonly opts: TrainerOptions,
    /** The model's parameters and the training set's size, known once a worker has joined. */
    private readonly facts: () => { parameters: number; trainSize: number },
  ) {
    this.exact = {
      name: 'exact',
      mode: new ExactMode(pool, dispatcher, planner, opts, job.dataset.kind === 'chunked' ? job.dataset : undefined),
      optimizer: createOptimizer(job.optimizer),
    };
    this.outer = createOptimizer(outerOf(job.mode));
    this.current = this.exact;
  }

  at(_pos: Position): Phase {
    return this.current;
  }

  /**
   * A checkpoint resumes with a fresh decision, measuring in exact mode first. Its optimizer state is
   * the phase's in force when it was saved: exact's if it fits the job's optimizer, else the outer one's.
   */
  restore(_pos: Position, state: OptimizerState): void {
    try {
      this.exact.optimizer.load(state);
    } catch {
      this.outer.load(state);
    }
  }

  /** Before the round at `pos`: decides when due, and returns the new decision in words. */
  decide(pos: Position): string | undefined {
    this.measureFrom ??= pos.iteration;
    const ready = this.pool.ready();
    const members = ready
      .map((s) => s.id)
      .sort()
      .join(',');
    this.measureEpoch ??= pos.epoch;
    if (this.decidedEpoch < 0 ? pos.iteration - this.measureFrom < MEASURE_ITERATIONS : members === this.members)
      return undefined;
    if (this.decidedEpoch >= 0 && pos.epoch <= this.decidedEpoch) return undefined;
    // by the compute each reports, not the round trips' fit, over its last shards alike
    // (ShardCostEstimate.steadyCost: a laptop under a CPU quota is fast or throttled by turns)
    const measured = ready.filter((s) => s.measured).map((s) => s.steadyCost());
    if (measured.length === 0) return undefined;
    // the first decision waits, within the first epoch, until every member is set up and measured: a
    // peer joins for seconds (its data set travels first), and priced as the host's own linkless
    // worker it made exact mode look best, a choice then held for the whole epoch
    const waiting = ready.length - measured.length + this.pool.joining;
    if (this.decidedEpoch < 0 && waiting > 0 && pos.epoch === this.measureEpoch) return undefined;
    const d = this.choose(
      ready.length,
      measured,
      ready.some((s) => s.handle.trainLocal),
    );
    const m = [...measured].sort((a, b) => a.fixedMs - b.fixedMs)[measured.length >> 1];
    d.reason += `; measured (median of ${measured.length}): ${m.fixedMs.toFixed(1)} ms a shard whatever its size, ${m.msPerExample.toFixed(3)} ms an example`;
    if (measured.length < ready.length)
      d.reason += ` (${ready.length - measured.length} not measured yet, counted as that)`;
    if (this.pool.joining > 0) d.reason += ` (${this.pool.joining} still joining, left out)`;
    this.decidedEpoch = pos.epoch;
    this.members = members;
    const before = this.current;
    this.current = d.choice.kind === 'exact' ? this.exact : this.localPhase(d.choice.steps);
    const chosen = d.candidates.find((c) => JSON.stringify(c.mode) === JSON.stringify(d.choice));
    this.decision = {
      mode: d.choice.kind,
      steps: d.choice.kind === 'local' ? d.choice.steps : 1,
      reason: d.reason,
      predictedSeconds: chosen?.prediction.seconds,
      exactSeconds: d.candidates[0].prediction.seconds,
    };
    const changed = before !== this.current ? 'switching to' : 'staying in';
    return `iteration ${pos.iteration + 1}: mode auto, ${changed} ${d.reason}`;
  }

  /**
   * chooseMode on the measured costs: each member's fixed cost per shard (its link, its overhead) and
   * its ms per example; members not measured yet count as the median measured one.
   */
  private choose(count: number, measured: { fixedMs: number; msPerExample: number }[], local: boolean): ModeDecision {
    const sorted = [...measured].sort((a, b) => a.fixedMs + a.msPerExample - (b.fixedMs + b.msPerExample));
    const median = sorted[sorted.length >> 1];
    const costs = [...measured, ...Array.from({ length: Math.max(0, count - measured.length) }, () => median)];
    const members: MemberCost[] = costs.map((c) => ({
      examplesPerSec: 1000 / Math.max(c.msPerExample, 1e-6),
      shardMs: Math.max(0, c.fixedMs),
    }));
    const { parameters, trainSize } = this.facts();
    const mode = this.job.mode;
    // the job's own measured efficiency where bench/local-sweep swept its data set
    const swept = measuredEfficiency(this.job.dataset.kind);
    return chooseMode({
      members,
      parameters,
      batchSize: this.job.batchSize,
      examplesExact: mode.examplesExact ?? swept?.examplesExact ?? 3 * trainSize,
      efficiency: swept?.points,
      // a short epoch caps a round (as LocalMode shapes it)
      epochBatches: iterationsPerEpoch(trainSize, this.job.batchSize),
      // mode local's default encoding for peers where any member is one (threads have no link to price)
      compress: mode.compress ?? (this.pool.ready().some((s) => s.handle.kind === 'peer') ? PEER_COMPRESS : 'none'),
      target: mode.target ?? (swept ? `${Math.round(swept.target * 100)} %` : undefined),
      // workers that cannot train locally (none today) leave exact mode as the only candidate
      steps: local ? undefined : [],
    });
  }

  private localPhase(steps: number): Phase {
    let p = this.locals.get(steps);
    if (!p) {
      const mode = this.job.mode;
      const config = {
        kind: 'local' as const,
        steps,
        compress: mode.compress,
        outer: mode.outer,
        innerScale: mode.innerScale,
        balance: mode.balance,
      };
      p = {
        name: 'local',
        mode: new LocalMode(
          this.pool,
          this.dispatcher,
          config,
          this.job.optimizer,
          outerOf(mode),
          this.job.batchSize,
          this.opts.gradientBound,
        ),
        optimizer: this.outer,
      };
      this.locals.set(steps, p);
    }
    return p;
  }
}

/** The run's phases: mode auto's, decided as it goes, or fixed by position (phases.ts). */
export function runPhases(
  job: JobConfig,
  pool: WorkerPool,
  dispatcher: Dispatcher,
  planner: ShardPlanner,
  opts: TrainerOptions,
  facts: () => { parameters: number; trainSize: number },
): RunPhases {
  const mode = job.mode;
  return mode?.kind === 'auto'
    ? new AutoPhases({ ...job, mode }, pool, dispatcher, planner, opts, facts)
    : new Phases(job, pool, dispatcher, planner, opts);
}
