/**
 * Mode `local` (DiLoCo), one round: the next mini-batches of the epoch (never past its end), H to
 * each idle worker; each trains them with the job's optimizer and returns w_start - w_end; the
 * trainer takes one outer step on their mean, weighted by examples. Every mini-batch of the round is
 * computed exactly once (a group whose worker fails goes to the next idle worker).
 */
import { type CheckedUpdate, GradientBound, type OptimizerConfig } from '@gradroom/core';
import type { Dispatcher, RoundKind } from '../dispatch.js';
import type { JobConfig } from '../job.js';
import type { WorkerPool } from '../pool.js';
import type { WorkerSession } from '../session.js';
import type { LocalTask } from '../tasks.js';
import { addCredit, type Mode, type RoundOutcome, type RoundStart } from './mode.js';

export type LocalModeConfig = Extract<NonNullable<JobConfig['mode']>, { kind: 'local' }>;

/**
 * How far one worker's pseudo-gradient may move the weights before the bound has samples: this many
 * times the weights' own norm (plus 1, for weights starting near 0). An honest round of H inner steps
 * moves them by a few percent.
 */
export const UPDATE_START_FACTOR = 10;

export class LocalMode implements Mode {
  /**
   * Bounds a peer's pseudo-gradient as exact mode bounds a gradient: ||delta|| / sqrt(inner steps)
   * against the median of recent accepted ones, and against the weights' size at the start.
   */
  private readonly bound: GradientBound;

  constructor(
    private readonly pool: WorkerPool,
    private readonly dispatcher: Dispatcher,
    private readonly mode: LocalModeConfig,
    private readonly inner: OptimizerConfig,
    private readonly outer: OptimizerConfig,
    private readonly batchSize: number,
    gradientBound = 50,
  ) {
    this.bound = new GradientBound(gradientBound);
  }

  async round(at: RoundStart): Promise<RoundOutcome | null> {
    const { pos, plan, snapshot, paramCount } = at;
    const workers = Math.max(1, this.pool.idle().filter((s) => s.handle.trainLocal).length);
    const h = this.mode.steps === 'auto' ? this.autoSteps(this.mode.commShare ?? 0.1) : this.mode.steps;
    const max = at.maxIterations;
    const m = Math.min(
      workers * h,
      plan.batches - pos.batch,
      max === undefined ? Number.POSITIVE_INFINITY : max - pos.iteration,
    );
    // the inner step grows with the room (job.ts InnerScale): sqrt(groups this round)
    const groups = Math.ceil(m / h);
    const scale = this.mode.innerScale === 'sqrt-workers' ? Math.sqrt(groups) : 1;
    const jobs: LocalTask[] = [];
    for (let j = 0; j < m; j += h) {
      const batches: Uint32Array[] = [];
      const lrs: number[] = [];
      for (let k = j; k < Math.min(m, j + h); k++) {
        batches.push(plan.batch(pos.batch + k).slice());
        lrs.push(scale * at.lrAt({ epoch: pos.epoch, batch: pos.batch + k, iteration: pos.iteration + k }));
      }
      jobs.push({
        kind: 'local',
        round: pos.iteration,
        groupId: jobs.length,
        batches,
        lrs,
        inner: this.inner,
        compress: this.mode.compress ?? 'none',
        compressWeights: this.mode.compressWeights ?? true,
        paramCount,
      });
    }
    const sum = new Float64Array(paramCount);
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    const perWorker = new Map<WorkerSession, number>();
    let w2 = 0;
    for (let i = 0; i < snapshot.weights.length; i++) w2 += snapshot.weights[i] * snapshot.weights[i];
    const startCeiling = UPDATE_START_FACTOR * (Math.sqrt(w2) + 1);
    const kind: RoundKind<LocalTask, LocalTask> = {
      label: `round at iteration ${pos.iteration}`,
      assign: (idle, pending) => {
        const able = idle.filter((s) => s.handle.trainLocal);
        const n = Math.min(able.length, pending.length);
        return { given: able.slice(0, n).map((s, i) => [s, pending[i]]), rest: pending.slice(n) };
      },
      workOf: (task) => task,
      accept: (s, task, r: CheckedUpdate) => {
        const steps = Math.sqrt(task.batches.length);
        if (!s.trusted) this.bound.check(r.norm / steps, `worker ${s.id}`, startCeiling / steps);
        this.bound.record(r.norm / steps);
        for (let i = 0; i < sum.length; i++) sum[i] += r.delta[i] * r.count;
        lossSum += r.lossSum;
        correct += r.correct;
        count += r.count;
        addCredit(perWorker, s, r.count);
      },
    };
    const eventLr = at.lrAt(pos);
    const stats = await this.dispatcher.run(kind, jobs, snapshot);
    if (stats === null) return null;
    for (let i = 0; i < sum.length; i++) at.grads[i] = sum[i] / count;
    return {
      stats,
      lossSum,
      correct,
      count,
      steps: m,
      stepLr: this.outer.lr,
      eventLr,
      perWorker,
      shareOf: count,
      fastestAloneExamplesPerSec: 0,
      round: { steps: h, groups: jobs.length },
    };
  }

  /**
   * H for steps 'auto': enough inner steps that a round's fixed cost (weights out, pseudo-gradient
   * back) stays under `share` of it, from the workers' measured costs (the median).
   */
  private autoSteps(share: number): number {
    const costs = this.pool
      .ready()
      .filter((s) => s.measured)
      .map((s) => s.shardCost());
    if (costs.length === 0) return 1;
    const perStep = (c: { fixedMs: number; msPerExample: number }) => c.msPerExample * this.batchSize;
    const hs = costs
      .map((c) => Math.ceil((c.fixedMs * (1 - share)) / (share * Math.max(perStep(c), 1e-6))))
      .sort((a, b) => a - b);
    return Math.min(500, Math.max(1, hs[hs.length >> 1]));
  }
}
