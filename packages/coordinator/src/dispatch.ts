/**
 * The one dispatch loop, for every kind of round: an exact mini-batch, a local round, an evaluation.
 * A round kind (RoundKind) says how pending work becomes tasks for idle workers and how a checked
 * result counts; this loop sends the tasks through each worker's session, puts the work of a failed
 * task back at once (without waiting for the rest of the round), and ends the round when nothing is
 * pending or in flight. Non-finite results from two workers (or twice from the only one) mean the
 * run diverged: the round ends with DIVERGED.
 */
import { GradroomError, OutOfBounds } from '@gradroom/core';
import type { WorkerPool } from './pool.js';
import type { WorkerSession } from './session.js';
import type { Checked, ShardOutcome, Task } from './tasks.js';
import { type WeightsSnapshot, WorkerGoneError } from './worker-handle.js';

export interface DispatchOptions {
  /** With no worker left: wait for one to join (rooms), or fail (default). */
  waitForWorkers?: boolean;
}

/** What the loop needs from its owner. */
export interface DispatchHooks {
  /** True once the run is stopping: stop waiting for workers. */
  stopped(): boolean;
  log(level: 'info' | 'warn', message: string): void;
  waiting(reason: string): void;
}

/** What one round cost, for the iteration event. */
export interface RoundStats {
  /** Tasks planned again after a failure. */
  replanned: number;
  /** The accepted task that finished last: its worker's compute, and the rest of its round trip. */
  criticalComputeMs: number;
  criticalTransferMs: number;
  /** Payload bytes through the coordinator (shadow shards included). */
  bytesOut: number;
  bytesIn: number;
}

/**
 * One kind of round. `W` is a unit of pending work (a mini-batch's indices, a local group); `T` the
 * task a worker gets for it.
 */
export interface RoundKind<W, T extends Task> {
  readonly label: string;
  /**
   * Gives idle workers tasks from the pending work (which it may merge and split again); `rest` is
   * what stays pending. No task given: the loop waits for the pool to change.
   */
  assign(idle: WorkerSession[], pending: W[], first: boolean): { given: [WorkerSession, T][]; rest: W[] };
  /** The work of a task that failed, to be given again. */
  workOf(task: T): W;
  /** Counts a checked result; throws to refuse it (a strike, and its work is given again). */
  accept(s: WorkerSession, task: T, result: Checked<T>): void;
  /** After the first assignment: measuring (shadow) tasks for the idle workers left out. */
  probe?(left: WorkerSession[], given: number): void;
  /**
   * Overlap: every task of the round is out and some are still in flight; these workers are idle.
   * The mode may start next-round tasks on them (Dispatcher.launch), which the next round adopts.
   */
  ahead?(idle: WorkerSession[]): void;
}

/** A task started before its round (overlap), still in flight: its round adopts it (Dispatcher.run). */
export interface InFlight<T extends Task> {
  s: WorkerSession;
  task: T;
  done: Promise<ShardOutcome<Checked<T>>>;
}

interface FailureState {
  label: string;
  failures: number;
  nonFinite: Map<string, number>;
  fatal?: unknown;
}

export class Dispatcher {
  private shardIds = 0;
  /** Bytes of shadow tasks that ended after their round closed, added to the next round's. */
  private late = { out: 0, in: 0 };

  constructor(
    private readonly pool: WorkerPool,
    private readonly opts: DispatchOptions,
    private readonly hooks: DispatchHooks,
  ) {}

  /** Tells the run it waits, and why (a mode that needs more workers). */
  waiting(reason: string): void {
    this.hooks.waiting(reason);
  }

  /**
   * The idle workers that pass `able`, waiting for one as a round with pending work waits (rooms),
   * or failing as it fails (local workers, none left); null once the run is stopping.
   */
  async idleWorkers(able: (s: WorkerSession) => boolean): Promise<WorkerSession[] | null> {
    for (;;) {
      if (this.hooks.stopped()) return null;
      const idle = this.pool.idle().filter(able);
      if (idle.length > 0) return idle;
      this.noWorkers();
      if (this.hooks.stopped()) return null; // stopped by a listener of the waiting event
      await this.pool.nextChange();
    }
  }

  /** A fresh shard id: ids are never reused within a run, so a late result can never be taken for another. */
  nextShardId(): number {
    return this.shardIds++;
  }

  /**
   * Starts `task` on `s` ahead of its round (overlap); the round that adopts it counts it. A failure
   * before then waits for that round (which plans it again); nothing can throw unhandled meanwhile.
   */
  launch<T extends Task>(s: WorkerSession, task: T, snapshot: WeightsSnapshot): InFlight<T> {
    const done = s.run(task, snapshot);
    done.catch(() => {}); // handled by the adopting round, or by drop()
    return { s, task, done };
  }

  /** A task started ahead that no round adopts (the run stopped or moved on): its result is ignored. */
  drop<T extends Task>(f: InFlight<T>): void {
    f.done.catch((e: unknown) => {
      if (e instanceof WorkerGoneError) this.pool.remove(f.s.id, e.message);
    });
  }

  /**
   * Runs the round; null if the run was stopped while it waited for workers. `adopted`: its tasks
   * already in flight (started ahead, overlap), counted like the ones it gives.
   */
  async run<W, T extends Task>(
    kind: RoundKind<W, T>,
    work: W[],
    snapshot: WeightsSnapshot,
    adopted: readonly InFlight<T>[] = [],
  ): Promise<RoundStats | null> {
    const stats: RoundStats = {
      replanned: 0,
      criticalComputeMs: 0,
      criticalTransferMs: 0,
      bytesOut: this.late.out,
      bytesIn: this.late.in,
    };
    this.late = { out: 0, in: 0 };
    let pending = work;
    let inflight = 0;
    let live = true;
    const fs: FailureState = { label: kind.label, failures: 0, nonFinite: new Map() };
    let lastEnd = Number.NEGATIVE_INFINITY;
    let first = true;
    const retry = (s: WorkerSession, task: T, e: unknown) => {
      pending.push(kind.workOf(task));
      stats.replanned++;
      this.failure(fs, s, e);
    };
    const track = (s: WorkerSession, task: T, done: Promise<ShardOutcome<Checked<T>>>) => {
      inflight++;
      done.then(
        (o: ShardOutcome<Checked<T>>) => {
          inflight--;
          if (!live) return;
          stats.bytesOut += o.bytesOut;
          stats.bytesIn += o.bytesIn;
          try {
            kind.accept(s, task, o.sums);
          } catch (e) {
            // refused by the mode (a poisoned result): a strike, unless it was only just out
            // of bounds (it may be honest); either way it counts toward the round's cap
            if (!(e instanceof OutOfBounds && !e.absurd)) s.reject((e as Error).message);
            retry(s, task, e);
            return;
          }
          s.accepted();
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
          if (live) retry(s, task, e);
        },
      );
    };
    for (const f of adopted) track(f.s, f.task, f.done);
    try {
      for (;;) {
        if (fs.fatal) throw fs.fatal;
        if (pending.length === 0 && inflight === 0) return stats;
        if (this.hooks.stopped()) return null;
        if (pending.length === 0 && kind.ahead) {
          const idle = this.pool.idle();
          if (idle.length > 0) kind.ahead(idle);
        }
        if (pending.length > 0) {
          const idle = this.pool.idle();
          const { given, rest } = idle.length > 0 ? kind.assign(idle, pending, first) : { given: [], rest: pending };
          if (given.length > 0) {
            pending = rest;
            for (const [s, task] of given) track(s, task, s.run(task, snapshot));
            if (first && kind.probe) {
              const busy = new Set(given.map(([s]) => s));
              kind.probe(
                idle.filter((s) => !busy.has(s)),
                given.length,
              );
            }
            first = false;
            continue;
          }
          if (inflight === 0 && this.pool.idle().length === 0) this.noWorkers();
        }
        // a listener of the waiting event may have stopped the run just now (its change is past)
        if (this.hooks.stopped()) return null;
        await this.pool.nextChange();
      }
    } finally {
      live = false;
    }
  }

  /**
   * A measuring task: timed and checked by the session, never counted. It usually ends after its
   * round, so its bytes go into the next round's figures.
   */
  shadow<T extends Task>(s: WorkerSession, task: T, snapshot: WeightsSnapshot): void {
    s.run(task, snapshot).then(
      (o) => {
        s.accepted();
        this.late.out += o.bytesOut;
        this.late.in += o.bytesIn;
      },
      (e: unknown) => {
        const reason = e instanceof Error ? e.message : String(e);
        if (e instanceof WorkerGoneError) this.pool.remove(s.id, reason);
        else this.hooks.log('warn', `worker ${s.id}: a measuring shard failed: ${reason}`);
      },
    );
  }

  /**
   * A task failed on `s`; its work is pending again. A worker that left is removed; anything else is
   * logged and counted. Non-finite results from two workers, or twice from the only one left, mean
   * the run diverged; too many failures in one round end it.
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

  /** Nothing in flight and work left: with no worker in the pool, fail (local workers) or wait (rooms). */
  private noWorkers(): void {
    if (this.pool.hasAny()) return;
    if (!this.opts.waitForWorkers)
      throw new GradroomError('BAD_STATE', 'every worker has left or failed; nothing can compute the rest of the run');
    this.hooks.waiting('no workers: waiting for one to join');
  }
}

/** The indices of several pending parts as one array (work merged to be split again). */
export function mergeIndices(parts: Uint32Array[]): Uint32Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * An assignment from a plan over pending index arrays: each idle worker gets its planned share of
 * them, merged, as the task `make` builds (with a fresh shard id); nothing stays pending when any
 * task was given, everything when none was.
 */
export function assignIndices<T extends Task>(
  idle: WorkerSession[],
  pending: Uint32Array[],
  plan: (total: number) => number[],
  make: (indices: Uint32Array) => T,
): { given: [WorkerSession, T][]; rest: Uint32Array[] } {
  const all = mergeIndices(pending);
  const sizes = plan(all.length);
  const given: [WorkerSession, T][] = [];
  let offset = 0;
  idle.forEach((s, i) => {
    if (sizes[i] === 0) return;
    // a copy, not a view: a message would otherwise carry the whole epoch's index buffer
    given.push([s, make(all.slice(offset, offset + sizes[i]))]);
    offset += sizes[i];
  });
  return { given, rest: given.length > 0 ? [] : pending };
}
