/**
 * Mode `local` (DiLoCo), one round: the next mini-batches of the epoch (never past its end), H to
 * each idle worker; each trains them with the job's optimizer and returns w_start - w_end; the
 * trainer takes one outer step on their mean, weighted by examples. Every mini-batch of the round is
 * computed exactly once (a group whose worker fails goes to the next idle worker). Over a chunked
 * data set each member's mini-batches come from its own partition (core's PartitionBook), so it
 * fetches only its chunks; the epoch plan then gives only the mini-batches' sizes.
 */
import {
  type CheckedUpdate,
  type Compression,
  GradientBound,
  medianSpeed,
  type OptimizerConfig,
  OutOfBounds,
  PartitionBook,
  type PartitionProgress,
  type Position,
  roundShape,
  stepsForSpeed,
} from '@gradroom/core';
import type { Dispatcher, InFlight, RoundKind } from '../dispatch.js';
import { type JobConfig, PEER_COMPRESS } from '../job.js';
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

/**
 * Updates of one worker refused by the bound in a row (none accepted between) before the next such
 * refusal is a strike: an honest member's update is rarely just over the bound, and never every time.
 */
export const OVER_BOUND_STRIKE_AFTER = 2;

/** Partitions of a chunked data set (issue 18 §2): chunk size and the run's seed. */
export interface PartitionConfig {
  chunkExamples: number;
  seed: number;
}

/**
 * Overlap: the next round's groups started while their round was still open, with the weights of
 * the round before (one round ahead at most). The round at `pos` adopts them; any other discards them.
 */
interface Ahead {
  pos: Position;
  tasks: InFlight<LocalTask>[];
  /** The weights they were sent (a copy): the round that adopts them counts each from its own. */
  weights: Float32Array;
  /** Those whose result is back: too late to catch up. */
  settled: WeakSet<InFlight<LocalTask>>;
  /** Mini-batches they cover: the next round's first `batches` from `pos`. */
  batches: number;
  /** The partition counts before they were taken (a checkpoint's, and a discard's). */
  mark?: Uint32Array;
}

export class LocalMode implements Mode {
  private ahead?: Ahead;
  /** Per-member partitions, made at the first round (when the epoch's example count is known). */
  private book?: PartitionBook;
  /** Members that have had a group over partitions: they get a prefetch hint with the next. */
  private readonly hinted = new Set<string>();
  /** Members told their first chunks during the warm start (once each). */
  private readonly warned = new Set<string>();
  /** A checkpoint's epoch progress, put into the book when it is made. */
  private pendingProgress?: PartitionProgress;

  /**
   * Bounds a peer's pseudo-gradient as exact mode bounds a gradient: ||delta|| / sqrt(inner steps)
   * against the median of recent accepted ones, and against the weights' size at the start.
   */
  private readonly bound: GradientBound;
  /** Each worker's updates refused by the bound since its last accepted one. */
  private readonly overBound = new WeakMap<WorkerSession, number>();

  constructor(
    private readonly pool: WorkerPool,
    private readonly dispatcher: Dispatcher,
    private readonly mode: LocalModeConfig,
    private readonly inner: OptimizerConfig,
    private readonly outer: OptimizerConfig,
    private readonly batchSize: number,
    gradientBound = 50,
    private readonly partition?: PartitionConfig,
  ) {
    this.bound = new GradientBound(gradientBound);
  }

  /** The epoch's progress through the partitions, for a checkpoint (undefined without partitions). */
  progress(): PartitionProgress | undefined {
    // groups started ahead are not in the position: a resume plans them again
    const mark = this.ahead?.mark;
    if (this.book && mark) return { epoch: this.book.progress().epoch, trained: Array.from(mark) };
    return this.book?.progress() ?? this.pendingProgress;
  }

  /** Restores a checkpoint's progress: the resumed run misses and repeats nothing. */
  loadProgress(p: PartitionProgress): void {
    this.discardAhead();
    this.pendingProgress = p;
    this.book = undefined;
  }

  /** The groups started ahead for the round at `pos`, if that is where they were started for. */
  private adopt(pos: Position): Ahead | undefined {
    const a = this.ahead;
    if (a && a.pos.epoch === pos.epoch && a.pos.batch === pos.batch && a.pos.iteration === pos.iteration) {
      this.ahead = undefined;
      return a;
    }
    this.discardAhead();
    return undefined;
  }

  /** Forgets the groups started ahead: their examples go back to the partitions, their results are ignored. */
  private discardAhead(): void {
    const a = this.ahead;
    if (!a) return;
    this.ahead = undefined;
    for (const f of a.tasks) this.dispatcher.drop(f);
    if (a.mark) this.book?.rollback(a.mark);
  }

  /**
   * The warm start over partitions: each member standing by is told, once, the chunks it will train
   * first, and fetches them while it waits (the first round then starts without the fetch: 3.6-4.1 s
   * against 1.0-2.0 s for later rounds on the classroom testbed). The book is dealt now, to the
   * members present; the first round deals again to those present then.
   */
  warmStartPrefetch(at: RoundStart, members: WorkerSession[]): void {
    const book = this.bookFor(at.plan.order.length);
    const fresh = members.filter((s) => s.handle.prefetch && !this.warned.has(s.id));
    if (!book || fresh.length === 0) return;
    book.startEpoch(at.pos.epoch);
    book.sync(ableIds(this.pool.ready()));
    for (const s of fresh) {
      this.warned.add(s.id);
      s.handle.prefetch?.(book.upcoming(s.id));
    }
  }

  /** The book for an epoch of `examples` training examples (the validation hold-out excluded). */
  private bookFor(examples: number): PartitionBook | undefined {
    if (!this.partition) return undefined;
    if (this.book?.examples !== examples) {
      this.book = new PartitionBook(examples, this.partition.chunkExamples, this.partition.seed);
      if (this.pendingProgress) this.book.load(this.pendingProgress);
      this.pendingProgress = undefined;
    }
    return this.book;
  }

  /**
   * The round's groups: from each member's own partition when the data set is chunked (a member
   * fetches only its chunks), else the next mini-batches of the epoch plan, H to each worker.
   */
  private groups(
    at: RoundStart,
    h: number | ((member: string) => number),
    m: number,
    from = 0,
    busy: ReadonlySet<WorkerSession> = new Set(),
  ): { owner?: string; batches: Uint32Array[]; prefetch?: Uint32Array }[] {
    const { pos, plan } = at;
    const book = this.bookFor(plan.order.length);
    if (!book) {
      const batch = (k: number) => plan.batch(pos.batch + from + k).slice();
      if (typeof h !== 'number') {
        // steps by speed: each idle member's group is its own (its count), in the order planned
        const out: { owner: string; batches: Uint32Array[] }[] = [];
        let k = 0;
        for (const s of this.pool.idle()) {
          if (!s.handle.trainLocal || busy.has(s) || k >= m) continue;
          const batches: Uint32Array[] = [];
          for (const end = Math.min(m, k + h(s.id)); k < end; k++) batches.push(batch(k));
          out.push({ owner: s.id, batches });
        }
        return out;
      }
      const out: { batches: Uint32Array[] }[] = [];
      for (let j = 0; j < m; j += h) {
        const batches: Uint32Array[] = [];
        for (let k = j; k < Math.min(m, j + h); k++) batches.push(batch(k));
        out.push({ batches });
      }
      return out;
    }
    book.startEpoch(pos.epoch);
    book.sync(ableIds(this.pool.ready()));
    const sizes = Array.from({ length: m }, (_, k) => plan.batch(pos.batch + from + k).length);
    // members whose group of this round was started early take no second one while others can
    const idle = this.pool.idle().filter((s) => !busy.has(s));
    const members = ableIds(idle.length > 0 ? idle : this.pool.idle());
    // each member fetches its next chunks while it trains this round (issue 18: data off the critical
    // path), from its second round on: in its first it fetches its window anyway, and extra chunks
    // then would only compete with the other members' first fetches on a shared link
    for (const m of this.hinted) if (!this.pool.members.has(m)) this.hinted.delete(m);
    // an epoch's last crumbs go to the run's own workers first: their fetches cross no shared link
    const own = new Set(idle.filter((s) => s.trusted).map((s) => s.id));
    return book.round(members, h, sizes, own).map((g) => {
      const first = !this.hinted.has(g.member);
      this.hinted.add(g.member);
      return { owner: g.member, batches: g.batches, ...(first ? {} : { prefetch: book.upcoming(g.member) }) };
    });
  }

  async round(at: RoundStart): Promise<RoundOutcome | null> {
    const { pos, plan, snapshot, paramCount } = at;
    // groups of this round already in flight (overlap): adopted, their mini-batches not planned again
    const ahead = this.adopt(pos);
    this.warned.clear(); // the warm start is over: its hints were given
    const pre = ahead?.batches ?? 0;
    const adopted = ahead?.tasks ?? [];
    const busy = new Set(adopted.map((f) => f.s));
    // partitions are dealt to members present: wait for one (a room whose members all left)
    if (!ahead && this.partition && (await this.dispatcher.idleWorkers((s) => !!s.handle.trainLocal)) === null)
      return null;
    // the round's members: the idle ones and those already on their early group (idle again or not)
    const fresh = this.pool.idle().filter((s) => s.handle.trainLocal && !busy.has(s));
    const workers = Math.max(1, fresh.length + busy.size);
    // a warm start in short rounds (warmupSteps): those steps until its iterations are done
    const warming = this.mode.warmupSteps !== undefined && pos.iteration < (this.mode.warmup ?? 0);
    const h = warming
      ? (this.mode.warmupSteps as number)
      : this.mode.steps === 'auto'
        ? this.autoSteps(this.mode.commShare ?? 0.1)
        : this.mode.steps;
    const max = at.maxIterations;
    const left = Math.min(plan.batches - pos.batch, (max ?? Infinity) - pos.iteration);
    // H to each member; the epoch's last, shorter round spread over every member (core's roundShape)
    const shape = roundShape(left, workers, h);
    // a full round: a member clearly slower than the rest runs fewer steps (stepsOf)
    const stepsOf = shape.steps === h ? this.stepsBySpeed(h, [...fresh, ...busy]) : undefined;
    const planned = stepsOf ? fresh.reduce((a, s) => a + stepsOf(s.id), pre) : 0;
    const balanced = stepsOf !== undefined && planned < shape.batches && planned <= left;
    const m = balanced ? planned : Math.max(pre, shape.batches);
    // the counts before this round (its epoch started): put back if the round is abandoned
    this.bookFor(plan.order.length)?.startEpoch(pos.epoch);
    const mark = ahead ? ahead.mark : this.book?.mark();
    const jobs: LocalTask[] = [];
    /** Each group's member (its partition's owner) until it fails; then any worker may take it. */
    const owners = new Map<LocalTask, string>();
    /**
     * Workers whose update for a group the bound refused: the group goes to another while the room
     * has one (given back to the same worker, a peer just over the bound would fail the round at
     * the failure cap, and end the run).
     */
    const refusedBy = new Map<LocalTask, Set<string>>();
    const barred = (t: LocalTask, s: WorkerSession): boolean => {
      const not = refusedBy.get(t);
      return !!not?.has(s.id) && this.pool.ready().some((r) => r.handle.trainLocal && !not.has(r.id));
    };
    let k = pre;
    const groups = m > pre ? this.groups(at, balanced ? stepsOf : shape.steps, m - pre, pre, busy) : [];
    // the inner step grows with the room (job.ts InnerScale): sqrt(groups this round)
    const scale = this.mode.innerScale === 'sqrt-workers' ? Math.sqrt(groups.length + adopted.length) : 1;
    for (const g of groups) {
      const lrs = g.batches.map(() => {
        const p = { epoch: pos.epoch, batch: pos.batch + k, iteration: pos.iteration + k };
        k++;
        return scale * at.lrAt(p);
      });
      const task: LocalTask = {
        kind: 'local',
        round: pos.iteration,
        groupId: adopted.length + jobs.length,
        batches: g.batches,
        lrs,
        inner: this.inner,
        compress: this.mode.compress ?? 'none', // set per worker when given (compressFor)
        compressWeights: this.mode.compressWeights ?? true,
        paramCount,
        ...(g.prefetch ? { prefetch: g.prefetch } : {}),
      };
      if (g.owner !== undefined) owners.set(task, g.owner);
      jobs.push(task);
    }
    const steps = k;
    const sum = new Float64Array(paramCount);
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    const perWorker = new Map<WorkerSession, number>();
    // An adopted group started from the weights before this round's. Its member is told the outer
    // step it missed, and adds it before its next inner step (issue 19: "when the new weights
    // arrive, it applies the difference"); caught up, it counts as the move from this round's
    // weights to where it ended: its pseudo-gradient plus that step. One that ended before the step
    // came (it says so: caughtUp false) counts its pseudo-gradient plus NOT_CAUGHT_UP_SHARE of it.
    // Counted as sent (none of it), a room whose groups all end early steps w - (w_before - end):
    // in the directions the inner steps settle, that oscillates without decaying; counted from
    // where it ended (all of it), each such group pulls the room back towards the old weights, and
    // in the directions still far from settled the room moves slower (README "Overlap",
    // bench/overlap-start.sim.mjs).
    const early = new Set(adopted.map((f) => f.task));
    let caughtUp = 0;
    const missed = ahead ? minus(snapshot.weights, ahead.weights) : undefined;
    if (missed)
      for (const f of adopted)
        if (!ahead?.settled.has(f)) f.s.handle.catchUp?.({ round: f.task.round, change: missed });
    /** Members given a group of this round (adopted ones too): one whose result is not counted yet gets no early group. */
    const holders = new Set<WorkerSession>(busy);
    let w2 = 0;
    for (let i = 0; i < snapshot.weights.length; i++) w2 += snapshot.weights[i] * snapshot.weights[i];
    const startCeiling = UPDATE_START_FACTOR * (Math.sqrt(w2) + 1);
    const kind: RoundKind<LocalTask, LocalTask> = {
      label: `round at iteration ${pos.iteration}`,
      assign: (idle, pending) => {
        // those already holding a group of this round last: one group each while others are free
        const free = idle
          .filter((s) => s.handle.trainLocal)
          .sort((a, b) => Number(holders.has(a)) - Number(holders.has(b)));
        const given: [WorkerSession, LocalTask][] = [];
        const rest: LocalTask[] = [];
        // a group goes to its partition's owner; one without (failed, or its owner left) to anyone free
        const mine = (t: LocalTask) => {
          const o = owners.get(t);
          return o !== undefined && this.pool.members.has(o) ? o : undefined;
        };
        // a failed group's chunks now belong to someone present (its owner left, or will get them
        // back): that member takes it if free, so the chunks are not fetched twice
        if (this.book && pending.some((t) => mine(t) === undefined)) this.book.sync(ableIds(this.pool.ready()));
        for (const t of pending) {
          const o = mine(t);
          const heir = o === undefined ? this.book?.ownerOf(t.batches[0][0]) : undefined;
          const h = free.findIndex((s) => s.id === heir);
          let i =
            o !== undefined
              ? free.findIndex((s) => s.id === o)
              : h >= 0
                ? h
                : free.findIndex((s) => !pending.some((p) => mine(p) === s.id));
          if (i >= 0 && barred(t, free[i])) i = free.findIndex((s) => !barred(t, s));
          if (i < 0) rest.push(t);
          else {
            const s = free.splice(i, 1)[0];
            holders.add(s);
            if (s.standby !== undefined) s.takesPart(); // stood by for a warm start, or auto's exact phase
            t.compress = this.compressFor(s); // a group failed by a peer may go to a thread, and back
            given.push([s, t]);
          }
        }
        return { given, rest };
      },
      workOf: (task) => {
        owners.delete(task); // its owner failed it: the next free worker takes it (and fetches its chunks)
        // given again with this round's weights: its result needs no catching up, and takes none
        early.delete(task);
        if (!task.early) return task;
        const next = { ...task, early: false };
        const not = refusedBy.get(task);
        if (not) refusedBy.set(next, not);
        return next;
      },
      ahead: (idle) => {
        // idle before its result is counted (the loop wakes when a call settles): not yet
        const ready = idle.filter((s) => perWorker.has(s) || !holders.has(s));
        if (this.mode.overlap && ready.length > 0) this.startAhead(ready, at, { steps, h, scale, workers, stepsOf });
      },
      accept: (s, task, r: CheckedUpdate) => {
        const steps = Math.sqrt(task.batches.length);
        if (!s.trusted) this.checkBound(s, task, r.norm / steps, startCeiling / steps, refusedBy);
        this.bound.record(r.norm / steps);
        const d = r.delta;
        if (r.caughtUp && early.has(task)) caughtUp++;
        const share = r.caughtUp ? 1 : NOT_CAUGHT_UP_SHARE;
        if (missed && early.has(task))
          for (let i = 0; i < sum.length; i++) sum[i] += (d[i] + share * missed[i]) * r.count;
        else for (let i = 0; i < sum.length; i++) sum[i] += d[i] * r.count;
        lossSum += r.lossSum;
        correct += r.correct;
        count += r.count;
        addCredit(perWorker, s, r.count);
      },
    };
    const eventLr = at.lrAt(pos);
    const stats = await this.dispatcher.run(kind, jobs, snapshot, adopted);
    if (stats === null) {
      // stopped: the round did not happen, so its examples are still to be trained this epoch (and
      // the next round's groups started ahead are discarded with it)
      this.discardAhead();
      if (mark) this.book?.rollback(mark);
      return null;
    }
    for (let i = 0; i < sum.length; i++) at.grads[i] = sum[i] / count;
    return {
      stats,
      lossSum,
      correct,
      count,
      steps,
      stepLr: this.outer.lr,
      eventLr,
      perWorker,
      shareOf: count,
      fastestAloneExamplesPerSec: 0,
      // early: groups started before this round opened (overlap), adopted by it
      round: {
        steps: shape.steps,
        groups: adopted.length + jobs.length,
        ...(adopted.length ? { early: adopted.length } : {}),
        ...(caughtUp ? { caughtUp } : {}),
      },
    };
  }

  /**
   * The bound on an untrusted worker's update. A refusal marks the group as refused by it (another
   * member computes it again), and a worker refused again and again without an accepted update
   * between is struck, so a peer that stays just over the bound is dropped, not kept forever.
   */
  private checkBound(
    s: WorkerSession,
    task: LocalTask,
    norm: number,
    ceiling: number,
    refusedBy: Map<LocalTask, Set<string>>,
  ): void {
    try {
      this.bound.check(norm, `worker ${s.id}`, ceiling);
    } catch (e) {
      if (!(e instanceof OutOfBounds)) throw e;
      const set = refusedBy.get(task) ?? new Set<string>();
      refusedBy.set(task, set.add(s.id));
      const times = (this.overBound.get(s) ?? 0) + 1;
      this.overBound.set(s, times);
      if (e.absurd || times <= OVER_BOUND_STRIKE_AFTER) throw e;
      throw new OutOfBounds(`${e.message} (${times} of its updates in a row)`, true);
    }
    this.overBound.delete(s);
  }

  /**
   * Overlap: idle members of an open round get their group of the next round now, with this
   * round's weights. One group each, never past the epoch's end or the run's cap (the next round
   * plans those afresh), and of the next round's shape: its share of an epoch's last, shorter round,
   * not H (measured: H to the first early member made that round one member's steps, applied
   * whole by the outer step; 81.0 % after 600 iterations against 84.3 % without overlap, 84.1 %
   * against 84.3 % at 592, where no round is short; README "Overlap").
   */
  private startAhead(
    idle: WorkerSession[],
    at: RoundStart,
    r: { steps: number; h: number; scale: number; workers: number; stepsOf?: (member: string) => number },
  ): void {
    const { pos, plan, snapshot, paramCount } = at;
    const next = { epoch: pos.epoch, batch: pos.batch + r.steps, iteration: pos.iteration + r.steps };
    const max = at.maxIterations;
    const room = Math.min(
      plan.batches - next.batch,
      max === undefined ? Number.POSITIVE_INFINITY : max - next.iteration,
    );
    if (room <= 0) return;
    const a: Ahead = this.ahead ?? {
      pos: next,
      tasks: [],
      batches: 0,
      mark: this.book?.mark(),
      weights: snapshot.weights.slice(),
      settled: new WeakSet(),
    };
    const per = roundShape(room, r.workers, r.h).steps;
    for (const s of idle) {
      // a full next round: a slower member's group is as short as in this round
      const n = Math.min(per === r.h && r.stepsOf ? r.stepsOf(s.id) : per, room - a.batches);
      if (n <= 0) break;
      if (!s.handle.trainLocal || a.tasks.some((f) => f.s === s)) continue;
      let batches: Uint32Array[];
      let prefetch: Uint32Array | undefined;
      if (this.book) {
        this.book.sync(ableIds(this.pool.ready()));
        const sizes = Array.from({ length: n }, (_, j) => plan.batch(next.batch + a.batches + j).length);
        batches = this.book.round([s.id], n, sizes)[0]?.batches ?? [];
        prefetch = this.book.upcoming(s.id);
      } else batches = Array.from({ length: n }, (_, j) => plan.batch(next.batch + a.batches + j).slice());
      if (batches.length === 0) continue;
      const lrs = batches.map((_, j) => {
        const i = a.batches + j;
        return r.scale * at.lrAt({ epoch: next.epoch, batch: next.batch + i, iteration: next.iteration + i });
      });
      const task: LocalTask = {
        kind: 'local',
        round: next.iteration,
        groupId: a.tasks.length,
        batches,
        lrs,
        inner: this.inner,
        compress: this.compressFor(s),
        compressWeights: this.mode.compressWeights ?? true,
        paramCount,
        early: true,
        ...(prefetch ? { prefetch } : {}),
      };
      const f = this.dispatcher.launch(s, task, snapshot);
      const settled = a.settled;
      f.done.then(
        () => settled.add(f),
        () => settled.add(f),
      );
      a.tasks.push(f);
      a.batches += batches.length;
    }
    if (a.tasks.length > 0) this.ahead = a;
  }

  /**
   * Steps by speed for a full round of `h` (core's stepsForSpeed against the members' median
   * measured speed), or undefined where every member runs H: balance off, or by default a round of
   * the run's own workers only (alike: their measured differences are noise, and such a run stays
   * reproducible), or nothing measured to compare.
   */
  private stepsBySpeed(h: number, members: WorkerSession[]): ((member: string) => number) | undefined {
    const on = this.mode.balance ?? members.some((s) => !s.trusted);
    if (!on || h < 2) return undefined;
    // the compute each reports (its word: a peer that says it is slow only gets fewer steps)
    const speed = new Map(members.map((s) => [s.id, s.measured ? s.computeExamplesPerSec() : 0]));
    const median = medianSpeed([...speed.values()]);
    if (median <= 0) return undefined;
    return (id) => stepsForSpeed(h, speed.get(id) ?? 0, median);
  }

  /**
   * How a worker's updates (and weights) travel: the job's choice, or by default PEER_COMPRESS for a
   * peer (its link is the round's bottleneck) and none for the run's own workers (no link to save).
   */
  private compressFor(s: WorkerSession): Compression {
    return this.mode.compress ?? (s.handle.kind === 'peer' ? PEER_COMPRESS : 'none');
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

/** Ids of the sessions that can train local rounds. */
/**
 * How much of the outer step it missed an early group that ended before its catch-up came is
 * counted with (0: as sent, 1: from where it ended). Measured (README "Overlap"): on the quadratic
 * simulation (outer lr 1) half is within 1.04-2.9x of no overlap in every cell, where none (as
 * sent) reaches 1,946x with every member early and all of it 1.09-7.0x; on threads with outer lr 1
 * (3 workers, one slow, no group caught up) 0.82 test accuracy against 0.67 for all of it (0.91 for
 * a quarter; 0.95 without overlap); with outer lr 1.5 (bench/overlap.bench.mjs) 89.0 % against
 * 90.2 % for all of it and 79.9 % for a quarter (92.7 % without overlap): a larger outer step needs
 * more of it to damp what the stale moves swing.
 */
const NOT_CAUGHT_UP_SHARE = 0.5;

function ableIds(ss: WorkerSession[]): string[] {
  return ss.filter((s) => s.handle.trainLocal).map((s) => s.id);
}

/** a - b, element by element. */
function minus(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}
