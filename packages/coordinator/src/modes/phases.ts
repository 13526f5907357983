/**
 * The run's phases, each a mode with the central optimizer it steps: exact mode with the job's
 * optimizer, and mode local with the outer one. A local job with `warmup` runs exact mode for its
 * first `warmup` iterations (post-local SGD: synchronous steps first, while the loss falls fastest
 * and workers' models would drift apart most), then local rounds. The phase is a function of the
 * position and the job's `warmup` (which records a warm start that ended early, see decide), so a
 * checkpoint on either side of the switch resumes in the right one.
 */
import {
  createOptimizer,
  type Optimizer,
  type OptimizerState,
  type PartitionProgress,
  type Position,
} from '@gradroom/core';
import type { Dispatcher } from '../dispatch.js';
import { type JobConfig, outerOf } from '../job.js';
import type { ShardPlanner } from '../planning.js';
import type { WorkerPool } from '../pool.js';
import type { TrainerOptions } from '../trainer-options.js';
import type { AutoDecision } from './auto.js';
import { ExactMode } from './exact.js';
import { LocalMode } from './local.js';
import type { Mode } from './mode.js';

export interface Phase {
  name: 'exact' | 'local';
  mode: Mode;
  optimizer: Optimizer;
}

/** The run's phases as the trainer sees them: fixed by position (Phases) or decided as it goes (AutoPhases). */
export interface RunPhases {
  /** The phase of the iteration at `pos`. */
  at(pos: Position): Phase;
  /** Loads a checkpoint's optimizer state into the phase it belongs to, and its partitions' progress. */
  restore(pos: Position, state: OptimizerState, progress?: PartitionProgress): void;
  /** Mode local over partitions: the epoch's progress through them, for a checkpoint. */
  progress?(): PartitionProgress | undefined;
  /** Before the round at `pos`: a new decision in words, where the phases decide as they go. */
  decide(pos: Position): string | undefined;
  /** Mode auto: the decision in force (the iteration event's `auto` field). */
  readonly decision?: AutoDecision;
}

export class Phases implements RunPhases {
  private readonly exact?: Phase;
  private readonly local?: Phase;
  /** The first iteration of mode local. */
  private from: number;
  /** Mode local over partitions: its warm start's shards go only to the run's own workers. */
  private readonly partitioned: boolean;
  /** The iteration the run has reached (restored or decided): the warm start is behind it once past `from`. */
  private reached = 0;

  constructor(
    /** The trainer's own copy of the job: where a warm start ended early is written into it (decide). */
    private readonly job: JobConfig,
    private readonly pool: WorkerPool,
    dispatcher: Dispatcher,
    planner: ShardPlanner,
    opts: TrainerOptions,
  ) {
    const mode = job.mode;
    // a warm start in short local rounds (warmupSteps) is mode local's own: no exact phase
    this.from = mode?.kind === 'local' ? (mode.warmupSteps ? 0 : (mode.warmup ?? 0)) : Number.POSITIVE_INFINITY;
    this.partitioned = mode?.kind === 'local' && job.dataset.kind === 'chunked' && mode.partition !== false;
    if (this.from > 0)
      this.exact = {
        name: 'exact',
        mode: new ExactMode(
          pool,
          dispatcher,
          planner,
          opts,
          job.dataset.kind === 'chunked'
            ? {
                ...job.dataset,
                ownFirst: this.partitioned,
                // the members standing by fetch the chunks they will train first meanwhile
                standing: (at, members) => (this.local?.mode as LocalMode | undefined)?.warmStartPrefetch(at, members),
              }
            : undefined,
        ),
        optimizer: createOptimizer(job.optimizer),
      };
    const d = job.dataset;
    if (this.exact && d.kind === 'chunked') {
      // exact mini-batches are drawn from the whole epoch, so a worker's first few touch nearly every
      // chunk: the run's own workers (no link) fetch them all as soon as they are set up, while the
      // room forms, rather than at the warm start's first iterations (on the classroom testbed the
      // host's worker is set up late and its 0.2 CPU is the limit, so it gained little there:
      // README "Round nine")
      const every = Uint32Array.from({ length: Math.ceil(d.train / d.chunkExamples) }, (_, c) => c * d.chunkExamples);
      pool.on('worker', (e) => {
        if (e.type !== 'joined' || this.reached >= this.from) return;
        const s = pool.members.get(e.id);
        if (s?.trusted) s.handle.prefetch?.(every);
      });
    }
    if (mode?.kind === 'local') {
      // named in the trainer's copy of the job (which a checkpoint holds): a warm start that ends
      // early rewrites `warmup`, and a resumed run must keep the outer step the run started with
      const outer = outerOf(mode);
      mode.outer = outer;
      this.local = {
        name: 'local',
        mode: new LocalMode(
          pool,
          dispatcher,
          mode,
          job.optimizer,
          outer,
          job.batchSize,
          opts.gradientBound,
          // partitions by default over a chunked data set (issue 18 §2)
          job.dataset.kind === 'chunked' && mode.partition !== false
            ? { chunkExamples: job.dataset.chunkExamples, seed: job.seed }
            : undefined,
        ),
        optimizer: createOptimizer(outer),
      };
    }
  }

  /** The phase of the iteration at `pos`. */
  at(pos: Position): Phase {
    return ((pos.iteration >= this.from ? this.local : this.exact) ?? this.local ?? this.exact) as Phase;
  }

  /**
   * The switch from the warm start to mode local, in words, at its iteration. Over partitions the
   * warm start's shards go only to this machine's workers, and the volunteers stand by for it: it
   * pays (round 8, Fashion-MNIST on 8 threads: 85.1 % after 600 iterations with a 200-iteration warm
   * start, 82.2 % without). Only a run with no worker of its own that can train ends it as soon as
   * a volunteer can (its shards would make volunteers fetch chunks for random examples). Where it
   * ended is written into the job, which a checkpoint holds, so a resumed run starts in its phase.
   */
  decide(pos: Position): string | undefined {
    this.reached = pos.iteration;
    if (!this.exact || !this.local) return undefined;
    if (pos.iteration === this.from) return `iteration ${pos.iteration + 1}: warm start over, mode local from here`;
    const ready = this.pool.ready();
    // an own worker still setting up (a fifth of a laptop's CPU loads tfjs slower than a volunteer
    // joins) is waited for: the warm start is its work
    if (
      pos.iteration < this.from &&
      this.partitioned &&
      !this.pool.hasOwnWorker() &&
      ready.some((s) => !s.trusted && s.handle.trainLocal)
    ) {
      const planned = this.from;
      this.from = pos.iteration;
      if (this.job.mode?.kind === 'local') this.job.mode.warmup = pos.iteration;
      return `iteration ${pos.iteration + 1}: warm start over after ${pos.iteration} of its ${planned} iterations: this machine has no worker of its own to run it (its shards go only to those), and a volunteer is here; mode local from here`;
    }
    return undefined;
  }

  restore(pos: Position, state: OptimizerState, progress?: PartitionProgress): void {
    this.reached = pos.iteration;
    this.at(pos).optimizer.load(state);
    if (progress && this.local) (this.local.mode as LocalMode).loadProgress(progress);
  }

  progress(): PartitionProgress | undefined {
    return this.local ? (this.local.mode as LocalMode).progress() : undefined;
  }

  /** The iteration mode local starts at (Infinity: never). */
  get localFrom(): number {
    return this.from;
  }
}
