/**
 * Runs work over the pool in planning rounds: split the indices among the idle workers by measured
 * speed, send each its shard (with the current weights when it does not hold them), and put the
 * indices of every shard that fails, times out or comes back unusable into the next round. Used by
 * the trainer for each mini-batch and for each evaluation.
 */
import { GradroomError, splitShards } from '@gradroom/core';
import type { Member, WorkerPool } from './pool.js';
import { WorkerGoneError } from './worker-handle.js';

/** Rounds a worker may go without a shard before it gets a probe shard to measure its speed again. */
const PROBE_AFTER = 10;
/** A worker still silent this many deadlines after a missed one is dropped. */
const STALL_FACTOR = 3;

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`missed its deadline of ${Math.round(ms)} ms`);
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export interface Shard {
  shardId: number;
  indices: Uint32Array;
}

/** Runs one shard on a worker; `weights` is set when the worker must load this version first. */
export type ShardCall<R> = (m: Member, shard: Shard, weights: Float32Array | undefined) => Promise<R>;

export interface ShardRunnerOptions {
  /** Smallest shard worth sending (default 1). */
  minShard?: number;
  /** With no worker left: wait for one to join (rooms), or fail (default). */
  waitForWorkers?: boolean;
}

/** What the runner needs from its owner. */
export interface ShardRunnerHooks {
  /** The weights version shards are computed against, and those weights. */
  current(): { version: number; weights: Float32Array };
  /** True once the run is stopping: stop waiting for workers. */
  stopped(): boolean;
  log(message: string): void;
  waiting(reason: string): void;
}

export class ShardRunner {
  private nextShardId = 0;

  constructor(
    private readonly pool: WorkerPool,
    private readonly opts: ShardRunnerOptions,
    private readonly hooks: ShardRunnerHooks,
  ) {}

  /**
   * Splits `indices` among the idle workers by speed and runs `call` on each shard; a shard that
   * fails for any reason goes back into the pool of unplanned indices for the next round. Returns
   * how many shards were planned again, or null if the run was stopped while waiting for workers.
   */
  async run<R>(
    indices: Uint32Array,
    call: ShardCall<R>,
    accept: (m: Member, shard: Shard, r: R) => void,
  ): Promise<number | null> {
    let pending: Uint32Array[] = [indices];
    let replanned = 0;
    while (pending.length > 0) {
      const workers = await this.idleWorkers();
      if (workers === null) return null;
      const all = pending.length === 1 ? pending[0] : concat(pending);
      pending = [];
      const sizes = this.planShards(all.length, workers);
      let offset = 0;
      const rounds: Promise<void>[] = [];
      workers.forEach((m, i) => {
        if (sizes[i] === 0) return;
        // a copy, not a view: a message would otherwise carry the whole epoch's index buffer
        const shard = { shardId: this.nextShardId++, indices: all.slice(offset, offset + sizes[i]) };
        offset += sizes[i];
        rounds.push(
          this.dispatch(m, shard, call)
            .then(
              (r) => accept(m, shard, r),
              (e) => {
                throw e;
              },
            )
            .catch((e: unknown) => {
              pending.push(shard.indices);
              replanned++;
              this.failed(m, e);
            }),
        );
      });
      await Promise.all(rounds);
    }
    return replanned;
  }

  /**
   * Shard sizes by measured speed. A worker not measured yet counts as the mean of those that are
   * (not as 0, or a newcomer would never get work); one left out of PROBE_AFTER rounds in a row gets
   * a probe shard, so a worker that was slow once is measured again.
   */
  private planShards(total: number, workers: Member[]): number[] {
    const measured = workers.filter((m) => m.speed > 0);
    const mean = measured.length > 0 ? measured.reduce((a, m) => a + m.speed, 0) / measured.length : 1;
    const minShard = this.opts.minShard ?? 1;
    const sizes = splitShards(
      total,
      workers.map((m) => (m.speed > 0 ? m.speed : mean)),
      { minShard },
    );
    workers.forEach((m, i) => {
      if (sizes[i] > 0) {
        m.idleRounds = 0;
        return;
      }
      m.idleRounds++;
      const largest = sizes.indexOf(Math.max(...sizes));
      if (m.idleRounds >= PROBE_AFTER && sizes[largest] > 2 * minShard) {
        sizes[largest] -= minShard;
        sizes[i] = minShard;
        m.idleRounds = 0;
      }
    });
    return sizes;
  }

  private failed(m: Member, e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    if (e instanceof WorkerGoneError) {
      this.pool.remove(m.handle.id, reason);
      return;
    }
    this.hooks.log(`worker ${m.handle.id}: ${reason}; its shard is planned again`);
    this.pool.strike(m, reason);
  }

  private async dispatch<R>(m: Member, shard: Shard, call: ShardCall<R>): Promise<R> {
    m.busy = true;
    const t0 = performance.now();
    const { version, weights: current } = this.hooks.current();
    const work = (async () => {
      let weights: Float32Array | undefined;
      if (m.version !== version) {
        // a copy per worker: the transport may transfer (detach) it
        if (m.handle.inlineWeights) weights = current.slice();
        else await m.handle.setWeights(version, current.slice());
      }
      const r = await call(m, shard, weights);
      m.version = version;
      return r;
    })();
    // the worker stays busy until its call really settles, even past a missed deadline; one that
    // still has not answered STALL_FACTOR deadlines later has stopped answering and is dropped
    const deadline = this.pool.deadlineMs(m, shard.indices.length);
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const settled = () => {
      clearTimeout(watchdog);
      this.settle(m);
    };
    work.then(settled, settled);
    try {
      const r = await withDeadline(work, deadline);
      this.pool.recordSuccess(m, shard.indices.length, performance.now() - t0);
      return r;
    } catch (e) {
      if (e instanceof DeadlineError && m.busy) {
        watchdog = setTimeout(() => {
          if (m.busy)
            this.pool.remove(
              m.handle.id,
              `stopped answering: no reply ${Math.round(STALL_FACTOR * deadline)} ms after a shard was due`,
            );
        }, STALL_FACTOR * deadline);
      }
      throw e;
    }
  }

  private settle(m: Member): void {
    m.busy = false;
    this.pool.changed();
  }

  private async idleWorkers(): Promise<Member[] | null> {
    for (;;) {
      if (this.hooks.stopped()) return null;
      const idle = this.pool.idle();
      if (idle.length > 0) return idle;
      if (!this.pool.hasAny()) {
        if (!this.opts.waitForWorkers)
          throw new GradroomError(
            'BAD_STATE',
            'every worker has left or failed; nothing can compute the rest of the run',
          );
        this.hooks.waiting('no workers: waiting for one to join');
      }
      await this.pool.nextChange();
    }
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
