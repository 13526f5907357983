/**
 * One worker's session with the coordinator, the single owner of everything about that worker: its
 * state in the run, the weights version it holds, whether it is busy, its measured cost per shard,
 * its strikes, its totals, whether it stands by and when it is probed next. Nothing else writes
 * these; the pool, the planner and the modes call its methods.
 *
 * `run(task)` is the one way work reaches a worker: it delivers the weights the worker's own way
 * (inline for comlink workers, one shared encoded snapshot for peers), applies the deadline, and
 * passes the answer through core's result gate (result-gate.ts) exactly once, returning a checked
 * result (CheckedShard, CheckedUpdate, Counts) that nothing downstream checks again. A strike counts
 * only for a failure, never before validation.
 */
import {
  CheckedShard,
  CheckedUpdate,
  type Counts,
  checkEvaluation,
  encodedBytes,
  GradroomError,
  type ShardCost,
  ShardCostEstimate,
} from '@gradroom/core';
import type { ExampleBytes, WorkerInfo } from '@gradroom/worker';
import type { WorkerStatus } from './events.js';
import type { Checked, EvalTask, LocalTask, ShardOutcome, Task, TrainTask } from './tasks.js';
import { WeightsView } from './weights-view.js';
import { type WeightsSnapshot, WorkerGoneError, type WorkerHandle } from './worker-handle.js';

export interface SessionOptions {
  /** Deadline of a worker's first shard when no other worker is measured (shader compiles, data load). */
  firstDeadlineMs: number;
  /** Deadline of a first shard when others are measured: at least this... */
  firstDeadlineFloorMs: number;
  /** ...and this many times what the measured workers take for such a shard. */
  firstDeadlineFactor: number;
  /** Deadline = slack x predicted time + floor. */
  deadlineSlack: number;
  deadlineFloorMs: number;
  /** Strikes (missed deadlines, bad results) in a row before the worker is dropped. */
  maxStrikes: number;
  /** A worker still silent this many deadlines after a missed one is dropped. */
  stallFactor: number;
  /**
   * The bytes of training examples by index (gatherBytes over the run's data set, held by the
   * coordinator). With it, a peer's exact-mode shard carries its examples: the peer fetches no data
   * for it (about 0.8 KB an example of MNIST or Fashion-MNIST, against 7.85 or 55 MB for the file
   * up front). Its own workers read their data as before.
   */
  shardExamples?: (indices: Uint32Array) => ExampleBytes | undefined;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  firstDeadlineMs: 120_000,
  firstDeadlineFloorMs: 15_000,
  firstDeadlineFactor: 20,
  deadlineSlack: 4,
  deadlineFloorMs: 2_000,
  maxStrikes: 3,
  stallFactor: 3,
  shardExamples: undefined, // named, so that definedOnly (pool.ts) keeps a run's own
};

export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`missed its deadline of ${Math.round(ms)} ms`);
    this.name = 'DeadlineError';
  }
}

/** What a session needs from its pool. */
export interface SessionHost {
  /** Removes the worker from the run (dropped after strikes, or silent past its deadline). */
  drop(session: WorkerSession, reason: string): void;
  /** Busy state changed: the runner may plan again. */
  changed(): void;
  /** What the other, measured workers would take for `examples` (ms), for a newcomer's deadline. */
  typicalMs(examples: number): number | undefined;
}

/**
 * Planning rounds a worker stands by before its first shadow shard; each further probe that finds it
 * still not paying off doubles the wait, up to PROBE_MAX rounds.
 */
export const PROBE_FIRST = 10;
export const PROBE_MAX = 160;

export class WorkerSession {
  private _info?: WorkerInfo;
  private _state: 'joining' | 'ready' | 'gone' = 'joining';
  private _busy = false;
  /** Weights version this worker holds (-1: none). */
  private held = -1;
  private strikes = 0;
  /** Examples computed for the run (shadow probes not counted), and successful calls. */
  private _examples = 0;
  private _calls = 0;
  /** Fraction of the last mini-batch it computed. */
  private share = 0;
  /** Planning rounds in a row without a shard. */
  private _idleRounds = 0;
  /** Rounds between shadow shards while it stands by (grows while it keeps not paying off). */
  private probeEvery = PROBE_FIRST;
  /** Why the planner leaves it out, in words a volunteer understands (undefined: it gets shards). */
  private _standby?: string;
  private readonly cost = new ShardCostEstimate();
  /** Mode local with compressed weights: our copy of the weights this worker started its last round from. */
  private readonly view = new WeightsView();
  /** Shards timed so far (the first call is the warm-up and is not). */
  private timed = 0;

  constructor(
    readonly handle: WorkerHandle,
    private readonly host: SessionHost,
    private readonly opts: SessionOptions,
  ) {}

  get info(): WorkerInfo | undefined {
    return this._info;
  }
  get state(): 'joining' | 'ready' | 'gone' {
    return this._state;
  }
  get busy(): boolean {
    return this._busy;
  }
  get examples(): number {
    return this._examples;
  }
  get calls(): number {
    return this._calls;
  }
  get lastShare(): number {
    return this.share;
  }
  get standby(): string | undefined {
    return this._standby;
  }
  get idleRounds(): number {
    return this._idleRounds;
  }

  /** Set up for the task: it takes work from now on (false if it left meanwhile). */
  ready(info: WorkerInfo): boolean {
    this._info = info;
    if (this._state === 'gone') return false;
    this._state = 'ready';
    return true;
  }

  /** Left, dropped or rejected; false if it was gone already. */
  gone(): boolean {
    if (this._state === 'gone') return false;
    this._state = 'gone';
    return true;
  }

  /** Counts what it computed for the run, and its share of the last step. */
  credit(examples: number, share: number): void {
    this._examples += examples;
    this.share = share;
  }

  /** The planner leaves it out, for `reason`; true when that is news. */
  standBy(reason: string): boolean {
    const was = this._standby !== undefined;
    this._standby = reason;
    return !was;
  }

  /** The planner gives it shards again; true when that is news. Its probe schedule starts over. */
  takesPart(): boolean {
    const was = this._standby !== undefined;
    this._standby = undefined;
    this.probeEvery = PROBE_FIRST;
    return was;
  }

  /**
   * One more planning round left out: is a shadow shard due? A newcomer is measured at once; one
   * standing by waits its probe interval, or `budgetRounds` when the room's probe budget asks more.
   */
  leftOut(budgetRounds: number): boolean {
    this._idleRounds++;
    if (!this.measured) return true;
    return this._idleRounds >= Math.max(this.probeEvery, Math.min(PROBE_MAX, budgetRounds));
  }

  /** A shadow shard goes out now: the next one, while it still stands by, waits twice as long. */
  probed(): void {
    if (this.measured) this.probeEvery = Math.min(PROBE_MAX, this.probeEvery * 2);
    this._idleRounds = 0;
  }

  get id(): string {
    return this.handle.id;
  }

  /** Our own threads and Web Workers; a volunteer peer is not. */
  get trusted(): boolean {
    return this.handle.kind !== 'peer';
  }

  /** Measured at least once after its warm-up: the planner may rely on its cost. */
  get measured(): boolean {
    return this.timed > 0;
  }

  shardCost(): ShardCost {
    return this.cost.cost();
  }

  /** Its measured compute speed alone, examples/s (0 until measured). */
  examplesPerSec(): number {
    return this.cost.examplesPerSec();
  }

  /** Its cost split by the compute it reports (ShardCostEstimate.computeCost). */
  computeCost(): ShardCost {
    return this.cost.computeCost();
  }

  /** The same over its last shards, all alike (ShardCostEstimate.steadyCost): mode auto decides on it. */
  steadyCost(): ShardCost {
    return this.cost.steadyCost();
  }

  /** Its compute speed as it reports it, examples/s (0 until measured): ShardCostEstimate.computeExamplesPerSec. */
  computeExamplesPerSec(): number {
    return this.cost.computeExamplesPerSec();
  }

  /** Predicted time of a shard of `examples` on this worker, ms (undefined until measured). */
  predictMs(examples: number): number | undefined {
    if (!this.measured) return undefined;
    const c = this.shardCost();
    return c.fixedMs + examples * c.msPerExample;
  }

  deadlineMs(examples: number): number {
    const own = this.predictMs(examples);
    if (own !== undefined) return this.opts.deadlineSlack * own + this.opts.deadlineFloorMs;
    const others = this.host.typicalMs(examples);
    if (others === undefined) return this.opts.firstDeadlineMs;
    return Math.min(
      this.opts.firstDeadlineMs,
      Math.max(this.opts.firstDeadlineFloorMs, this.opts.firstDeadlineFactor * others),
    );
  }

  /** Runs a task and returns its result, checked once by the result gate. */
  run<T extends Task>(task: T, snapshot: WeightsSnapshot): Promise<ShardOutcome<Checked<T>>> {
    switch (task.kind) {
      case 'train':
        return this.runTrain(task, snapshot) as Promise<ShardOutcome<Checked<T>>>;
      case 'local':
        return this.runLocal(task, snapshot) as Promise<ShardOutcome<Checked<T>>>;
      default:
        return this.runEvaluate(task as EvalTask, snapshot) as Promise<ShardOutcome<Checked<T>>>;
    }
  }

  private runTrain(task: TrainTask, snapshot: WeightsSnapshot): Promise<ShardOutcome<CheckedShard>> {
    return this.call(task.indices.length, snapshot, true, async (weights) => {
      const r = await this.handle.compute({
        iteration: task.iteration,
        version: snapshot.version,
        shardId: task.shardId,
        indices: task.indices,
        weights,
        ...this.examplesOf(task.indices),
      });
      if (r.iteration !== task.iteration || r.version !== snapshot.version || r.shardId !== task.shardId) {
        throw new GradroomError(
          'STALE',
          `result for iteration ${r.iteration} v${r.version} shard ${r.shardId}, expected ${task.iteration} v${snapshot.version} shard ${task.shardId}`,
        );
      }
      const sums = this.gate(() => CheckedShard.check(r, { count: task.indices.length, paramCount: task.paramCount }));
      return { sums, computeMs: r.computeMs, bytesIn: r.packedBytes ?? r.gradSum.byteLength };
    });
  }

  /** A peer's shard carries its examples where the run holds them (SessionOptions.shardExamples). */
  private examplesOf(indices: Uint32Array): { bytes?: ExampleBytes } {
    if (this.trusted || !this.opts.shardExamples) return {};
    const bytes = this.opts.shardExamples(indices);
    return bytes ? { bytes } : {};
  }

  private async runLocal(task: LocalTask, snapshot: WeightsSnapshot): Promise<ShardOutcome<CheckedUpdate>> {
    const trainLocal = this.handle.trainLocal?.bind(this.handle);
    if (!trainLocal) throw new GradroomError('BAD_CONFIG', `worker ${this.id} cannot train in local mode`);
    const { paramCount } = task;
    const examples = task.batches.reduce((a, b) => a + b.length, 0);
    const change = this.view.begin(snapshot, task.compress, task.compressWeights);
    if (change) this.held = snapshot.version; // delivered inside the request, not by call()
    const label = `local round ${task.round}`;
    // held -1 as soon as the call settles: its model ends at its own w_end, and the next task (the
    // loop may give one before this function goes on) must carry the weights again
    const out = await this.call(
      examples,
      snapshot,
      true,
      async (weights) => {
        const r = await trainLocal({
          round: task.round,
          version: snapshot.version,
          batches: task.batches,
          lrs: task.lrs,
          inner: task.inner,
          compress: task.compress,
          ...(task.prefetch ? { prefetch: task.prefetch } : {}),
          ...(task.early ? { early: true } : {}),
          weights,
          ...change,
        });
        if (r.round !== task.round || r.version !== snapshot.version)
          throw new GradroomError(
            'STALE',
            `local result for round ${r.round} v${r.version}, expected round ${task.round} v${snapshot.version}`,
          );
        const sums = this.gate(() =>
          CheckedUpdate.check(r, { count: examples, paramCount, compress: task.compress }, label),
        );
        const bytesIn = r.encoded ? encodedBytes(r.encoded) : (r.delta?.byteLength ?? 0);
        return { sums, computeMs: r.computeMs, bytesIn };
      },
      -1,
    );
    if (change) out.bytesOut += encodedBytes(change.weightsDelta);
    this.view.commit();
    // its model ends the round at its own w_end, not at this version's weights
    this.held = -1;
    return out;
  }

  private runEvaluate(task: EvalTask, snapshot: WeightsSnapshot): Promise<ShardOutcome<Counts>> {
    return this.call(task.indices.length, snapshot, false, async (weights) => {
      const r = await this.handle.evaluate({
        version: snapshot.version,
        indices: task.indices,
        split: task.split,
        weights,
      });
      const sums = this.gate(() => checkEvaluation(r, task.indices.length, `evaluation shard ${task.shardId}`));
      return { sums, computeMs: Number.NaN, bytesIn: 24 };
    });
  }

  /**
   * Runs the result gate. A worker that can be refused (a peer) and fails it broke the protocol: it
   * is told and disconnected at once, and leaves the run; the run's own workers get a strike.
   */
  private gate<R>(check: () => R): R {
    try {
      return check();
    } catch (e) {
      if (!this.handle.refuse || !(e instanceof GradroomError)) throw e;
      const reason = `sent an unusable result: ${e.message}`;
      this.handle.refuse(reason, e.code);
      throw new WorkerGoneError(this.id, `disconnected: ${reason}`);
    }
  }

  private async call<R>(
    examples: number,
    snapshot: WeightsSnapshot,
    timed: boolean,
    call: (weights: Float32Array | undefined) => Promise<{ sums: R; computeMs: number; bytesIn: number }>,
    /** The weights version the worker holds after the call (default: the snapshot's). */
    heldAfter?: number,
  ): Promise<ShardOutcome<R>> {
    if (this._state !== 'ready') throw new WorkerGoneError(this.id, 'not in the run');
    if (this._busy) throw new GradroomError('BAD_STATE', `worker ${this.id} is busy`);
    this._busy = true;
    const t0 = performance.now();
    let bytesOut = 4 * examples + 64;
    const work = (async () => {
      let weights: Float32Array | undefined;
      if (this.held !== snapshot.version) {
        this.held = -1; // unknown until this call succeeds
        if (this.handle.inlineWeights) {
          // a copy per comlink worker: the transport transfers (detaches) it
          weights = snapshot.weights.slice();
          bytesOut += weights.byteLength;
        } else {
          // a peer's handle says what went on the wire (packed as a change, or whole)
          bytesOut += (await this.handle.setWeights(snapshot)) ?? snapshot.weights.byteLength;
        }
      }
      const r = await call(weights);
      this.held = heldAfter ?? snapshot.version;
      return r;
    })();
    const deadline = this.deadlineMs(examples);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError(deadline)), deadline);
    });
    // busy until the call really settles, even past a missed deadline; a worker still silent
    // stallFactor deadlines later has stopped answering and is dropped
    const settled = () => {
      clearTimeout(watchdog);
      this._busy = false;
      this.host.changed();
    };
    work.then(settled, settled);
    try {
      const r = await Promise.race([work, late]);
      const roundTripMs = performance.now() - t0;
      this._calls++;
      if (timed) {
        // the first call pays for the warm-up (weights, JIT, shader compiles): not a speed
        if (this._calls > 1) {
          // a probe of a worker standing by is judged on itself: its last figure is PROBE_FIRST or
          // more rounds old (a testbed volunteer's first shard, timed while every member fetched its
          // first weights over the shared link, kept it out of a 200-iteration run though each later
          // probe measured it at half that)
          if (this._standby !== undefined) this.cost.restart();
          this.cost.observe({ examples, roundTripMs, computeMs: r.computeMs });
          this.timed++;
        }
      }
      return { sums: r.sums, roundTripMs, computeMs: r.computeMs, bytesOut, bytesIn: r.bytesIn + 64 };
    } catch (e) {
      if (e instanceof DeadlineError && this._busy) {
        watchdog = setTimeout(() => {
          if (this._busy && this._state === 'ready')
            this.host.drop(
              this,
              `stopped answering: no reply ${Math.round(this.opts.stallFactor * deadline)} ms after a shard was due`,
            );
        }, this.opts.stallFactor * deadline);
      }
      if (!(e instanceof WorkerGoneError)) this.strike(e instanceof Error ? e.message : String(e));
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Its result counted (or a measuring result passed): its strikes start over. Not on arrival: a
   * result the mode refuses (a gradient out of bounds) must keep its strike, or a peer sending only
   * such results would never be dropped.
   */
  accepted(): void {
    this.strikes = 0;
  }

  /** A result a mode refused after it passed the gate (a gradient out of bounds): a strike. */
  reject(reason: string): void {
    this.strike(reason);
  }

  /** A missed deadline or a bad result; dropped after maxStrikes in a row. */
  private strike(reason: string): void {
    this.strikes++;
    if (this.strikes >= this.opts.maxStrikes && this._state === 'ready') {
      this.host.drop(this, `dropped after ${this.strikes} strikes, last: ${reason}`);
    }
  }

  status(): WorkerStatus {
    const c = this.measured ? this.shardCost() : undefined;
    return {
      id: this.id,
      kind: this.handle.kind,
      name: this.handle.name,
      backend: this.info?.backend ?? '',
      speed: c ? 1000 / c.msPerExample : 0,
      share: this.lastShare,
      examples: this.examples,
      status: this.state === 'ready' ? (this.busy ? 'busy' : this.standby ? 'standby' : 'ready') : this.state,
      fixedMs: c?.fixedMs,
      ...(c ? this.computeFigures() : {}),
      standby: this.standby,
    };
  }

  private computeFigures(): { computeSpeed: number; computeFixedMs: number } {
    const k = this.computeCost();
    return { computeSpeed: 1000 / k.msPerExample, computeFixedMs: k.fixedMs };
  }
}
