/**
 * One worker's session with the coordinator, the single owner of everything about that worker: the
 * weights version it holds, whether it is busy, its measured cost per shard, its strikes and its
 * totals. `runShard` delivers the weights the worker's own way (inline for comlink workers, one
 * shared encoded snapshot for peers), applies the deadline, and returns sums that are validated
 * here and nowhere else; a strike counts only for a failure, never before validation.
 */
import {
  type Compression,
  checkGradient,
  decodeUpdate,
  type EncodedUpdate,
  encodedBytes,
  encodeUpdate,
  GradroomError,
  type OptimizerConfig,
  type ShardCost,
  ShardCostEstimate,
} from '@gradroom/core';
import type { EvalResultData, ShardResultData, WorkerInfo } from '@gradroom/worker';
import type { WorkerStatus } from './events.js';
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
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  firstDeadlineMs: 120_000,
  firstDeadlineFloorMs: 15_000,
  firstDeadlineFactor: 20,
  deadlineSlack: 4,
  deadlineFloorMs: 2_000,
  maxStrikes: 3,
  stallFactor: 3,
};

export type ShardJob =
  | { kind: 'train'; iteration: number; shardId: number; indices: Uint32Array }
  | { kind: 'evaluate'; shardId: number; indices: Uint32Array; split: 'train' | 'test' };

/** One worker's part of a local round: consecutive mini-batches, one inner step each. */
export interface LocalJob {
  round: number;
  groupId: number;
  batches: Uint32Array[];
  lrs: number[];
  inner: OptimizerConfig;
  compress: Compression;
  /** Send the weights as a compressed change from the worker's view (when it has one). */
  compressWeights: boolean;
}

/** A local round's answer, checked and decoded: w_start - w_end and the examples behind it. */
export interface LocalSums {
  delta: Float32Array;
  lossSum: number;
  correct: number;
  count: number;
}

export interface ShardOutcome<R> {
  sums: R;
  roundTripMs: number;
  computeMs: number;
  /** Payload bytes this call moved through the coordinator: weights and indices out, sums in. */
  bytesOut: number;
  bytesIn: number;
}

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

export class WorkerSession {
  info?: WorkerInfo;
  state: 'joining' | 'ready' | 'gone' = 'joining';
  busy = false;
  /** Weights version this worker holds (-1: none). */
  held = -1;
  strikes = 0;
  /** Examples computed for the run (shadow probes not counted), and successful calls. */
  examples = 0;
  calls = 0;
  /** Fraction of the last mini-batch it computed. */
  lastShare = 0;
  /** Planning rounds in a row without a shard. */
  idleRounds = 0;
  /** Rounds between shadow shards while it stands by (grows while it keeps not paying off). */
  probeEvery = 10;
  /** Why the planner leaves it out, in words a volunteer understands (undefined: it gets shards). */
  standby?: string;
  readonly cost = new ShardCostEstimate();
  /** Mode local with compressed weights: our copy of the weights this worker started its last round from. */
  private view?: { version: number; weights: Float32Array };
  /** Shards timed so far (the first call is the warm-up and is not). */
  private timed = 0;

  constructor(
    readonly handle: WorkerHandle,
    private readonly host: SessionHost,
    private readonly opts: SessionOptions,
  ) {}

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

  /** Runs a training shard and returns its validated sums. */
  runTrain(
    job: Extract<ShardJob, { kind: 'train' }>,
    snapshot: WeightsSnapshot,
    paramCount: number,
  ): Promise<ShardOutcome<ShardResultData>> {
    return this.run(job.indices.length, snapshot, true, async (weights) => {
      const r = await this.handle.compute({
        iteration: job.iteration,
        version: snapshot.version,
        shardId: job.shardId,
        indices: job.indices,
        weights,
      });
      if (r.iteration !== job.iteration || r.version !== snapshot.version || r.shardId !== job.shardId) {
        throw new GradroomError(
          'STALE',
          `result for iteration ${r.iteration} v${r.version} shard ${r.shardId}, expected ${job.iteration} v${snapshot.version} shard ${job.shardId}`,
        );
      }
      checkCounts(r, job.indices.length, `shard ${job.shardId}`);
      checkGradient(r.gradSum, paramCount, `shard ${job.shardId}`);
      return { sums: r, computeMs: r.computeMs, bytesIn: r.gradSum.byteLength };
    });
  }

  /** Runs a local round (H inner steps) and returns its checked, decoded pseudo-gradient. */
  async runLocal(job: LocalJob, snapshot: WeightsSnapshot, paramCount: number): Promise<ShardOutcome<LocalSums>> {
    const trainLocal = this.handle.trainLocal?.bind(this.handle);
    if (!trainLocal) throw new GradroomError('BAD_CONFIG', `worker ${this.id} cannot train in local mode`);
    const examples = job.batches.reduce((a, b) => a + b.length, 0);
    // compressed weights: the change from the view this worker kept, encoded; our copy of its view
    // takes the same decoded change, so what rounding drops now is sent with the next change
    let change: { weightsDelta: EncodedUpdate; baseVersion: number } | undefined;
    const view = this.view;
    this.view = undefined; // unknown until this round succeeds
    if (job.compressWeights && job.compress !== 'none' && view) {
      const d = new Float32Array(paramCount);
      for (let i = 0; i < paramCount; i++) d[i] = snapshot.weights[i] - view.weights[i];
      const e = encodeUpdate(d, job.compress);
      const dec = decodeUpdate(e, paramCount);
      for (let i = 0; i < paramCount; i++) view.weights[i] += dec[i];
      change = { weightsDelta: e, baseVersion: view.version };
      view.version = snapshot.version;
      this.held = snapshot.version; // delivered inside the request, not by run()
    }
    const out = await this.run(examples, snapshot, true, async (weights) => {
      const r = await trainLocal({
        round: job.round,
        version: snapshot.version,
        batches: job.batches,
        lrs: job.lrs,
        inner: job.inner,
        compress: job.compress,
        weights,
        ...change,
      });
      if (r.round !== job.round || r.version !== snapshot.version)
        throw new GradroomError(
          'STALE',
          `local result for round ${r.round} v${r.version}, expected round ${job.round} v${snapshot.version}`,
        );
      checkCounts(r, examples, `local round ${job.round}`);
      let delta: Float32Array;
      let bytesIn: number;
      if (r.encoded) {
        if (job.compress === 'none' || r.encoded.kind !== job.compress)
          throw new GradroomError(
            'BAD_MESSAGE',
            `local round ${job.round}: sent ${r.encoded.kind}, asked for ${job.compress}`,
          );
        delta = decodeUpdate(r.encoded, paramCount);
        bytesIn = encodedBytes(r.encoded);
      } else {
        if (!r.delta) throw new GradroomError('BAD_MESSAGE', `local round ${job.round}: no pseudo-gradient`);
        checkGradient(r.delta, paramCount, `local round ${job.round}`);
        delta = r.delta;
        bytesIn = r.delta.byteLength;
      }
      return {
        sums: { delta, lossSum: r.lossSum, correct: r.correct, count: r.count },
        computeMs: r.computeMs,
        bytesIn,
      };
    });
    if (change) out.bytesOut += encodedBytes(change.weightsDelta);
    // the worker now keeps the weights it started from as its view (full weights: a copy of them)
    const keep = job.compressWeights && job.compress !== 'none';
    this.view = change ? view : keep ? { version: snapshot.version, weights: snapshot.weights.slice() } : undefined;
    // its model ends the round at its own w_end, not at this version's weights
    this.held = -1;
    return out;
  }

  /** Evaluates a shard of a split; sums validated the same way. */
  runEvaluate(
    job: Extract<ShardJob, { kind: 'evaluate' }>,
    snapshot: WeightsSnapshot,
  ): Promise<ShardOutcome<EvalResultData>> {
    return this.run(job.indices.length, snapshot, false, async (weights) => {
      const r = await this.handle.evaluate({
        version: snapshot.version,
        indices: job.indices,
        split: job.split,
        weights,
      });
      checkCounts(r, job.indices.length, `evaluation shard ${job.shardId}`);
      return { sums: r, computeMs: Number.NaN, bytesIn: 24 };
    });
  }

  private async run<R>(
    examples: number,
    snapshot: WeightsSnapshot,
    timed: boolean,
    call: (weights: Float32Array | undefined) => Promise<{ sums: R; computeMs: number; bytesIn: number }>,
  ): Promise<ShardOutcome<R>> {
    if (this.state !== 'ready') throw new WorkerGoneError(this.id, 'not in the run');
    if (this.busy) throw new GradroomError('BAD_STATE', `worker ${this.id} is busy`);
    this.busy = true;
    const t0 = performance.now();
    let bytesOut = 4 * examples + 64;
    const work = (async () => {
      let weights: Float32Array | undefined;
      if (this.held !== snapshot.version) {
        this.held = -1; // unknown until this call succeeds
        bytesOut += snapshot.weights.byteLength;
        // a copy per comlink worker: the transport transfers (detaches) it
        if (this.handle.inlineWeights) weights = snapshot.weights.slice();
        else await this.handle.setWeights(snapshot);
      }
      const r = await call(weights);
      this.held = snapshot.version;
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
      this.busy = false;
      this.host.changed();
    };
    work.then(settled, settled);
    try {
      const r = await Promise.race([work, late]);
      const roundTripMs = performance.now() - t0;
      this.strikes = 0;
      this.calls++;
      if (timed) {
        // the first call pays for the warm-up (weights, JIT, shader compiles): not a speed
        if (this.calls > 1) {
          this.cost.observe({ examples, roundTripMs, computeMs: r.computeMs });
          this.timed++;
        }
      }
      return { sums: r.sums, roundTripMs, computeMs: r.computeMs, bytesOut, bytesIn: r.bytesIn + 64 };
    } catch (e) {
      if (e instanceof DeadlineError && this.busy) {
        watchdog = setTimeout(() => {
          if (this.busy && this.state === 'ready')
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

  /** A result the owner refused after it passed validation here (a gradient out of bounds): a strike. */
  reject(reason: string): void {
    this.strike(reason);
  }

  /** A missed deadline or a bad result; dropped after maxStrikes in a row. */
  private strike(reason: string): void {
    this.strikes++;
    if (this.strikes >= this.opts.maxStrikes && this.state === 'ready') {
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
      standby: this.standby,
    };
  }
}

function checkCounts(r: { count: number; correct: number; lossSum: number }, expected: number, label: string): void {
  if (!Number.isFinite(r.lossSum)) throw new GradroomError('NON_FINITE', `${label}: lossSum is ${r.lossSum}`);
  if (r.count !== expected)
    throw new GradroomError('BAD_MESSAGE', `${label}: counted ${r.count} examples, it holds ${expected}`);
  if (!(Number.isInteger(r.correct) && r.correct >= 0 && r.correct <= r.count))
    throw new GradroomError('BAD_MESSAGE', `${label}: ${r.correct} correct of ${r.count}`);
}
