/**
 * The trainer loop (DESIGN.md, the training contract): plan the epoch, split each mini-batch into
 * shards by measured worker speed, gather the workers' sums, aggregate, take one central optimizer
 * step, and hand out the new weights. A shard whose worker fails, leaves or misses its deadline is
 * planned again on the others; results are checked against the iteration, version and shard they
 * were asked for, and the aggregator never takes a shard twice.
 *
 * Runs unchanged in Node and in a browser tab: it talks to workers only through WorkerHandle.
 */
import {
  Aggregator,
  createOptimizer,
  type EpochPlan,
  Ewa,
  GradroomError,
  initWeights,
  learningRate,
  type ManualChange,
  nextPosition,
  type Optimizer,
  ParamLayout,
  type Position,
  planEpoch,
  type ScheduleConfig,
  specLayout,
  splitShards,
  type TaskSpec,
  type TensorShape,
} from '@gradroom/core';
import type { BackendName, WorkerInit } from '@gradroom/worker';
import {
  CHECKPOINT_FORMAT,
  type Checkpoint,
  type CheckpointStore,
  decodeCheckpoint,
  encodeCheckpoint,
} from './checkpoint.js';
import { Emitter } from './emitter.js';
import type { TrainerEvents } from './events.js';
import { type JobConfig, validateJob } from './job.js';
import { type Member, type PoolOptions, WorkerPool } from './pool.js';
import { WorkerGoneError, type WorkerHandle } from './worker-handle.js';

export interface TrainerOptions extends PoolOptions {
  /** Backends the workers should try, in order (default: each picks its fastest). */
  backends?: BackendName[];
  /** Browsers: where workers find the wasm backend's files. */
  wasmPaths?: string;
  checkpoint?: {
    store: CheckpointStore /** also save every N iterations (default: each epoch only) */;
    everyIterations?: number;
  };
  /** With no worker left: wait for one to join (rooms), or fail the run (default, local workers). */
  waitForWorkers?: boolean;
  /** Smallest shard worth sending (default 1). */
  minShard?: number;
}

export interface TrainResult {
  weights: Float32Array;
  layout: TensorShape[];
  position: Position;
  testAccuracy: number;
  testLoss: number;
  stopped: boolean;
}

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

interface Shard {
  shardId: number;
  indices: Uint32Array;
}

/** Runs one shard on a worker; `weights` is set when the worker must load this version first. */
type ShardCall<R> = (m: Member, shard: Shard, weights: Float32Array | undefined) => Promise<R>;

export class Trainer extends Emitter<TrainerEvents> {
  readonly job: JobConfig;
  readonly pool: WorkerPool;
  private readonly opts: TrainerOptions;
  private task?: TaskSpec;
  private layout?: ParamLayout;
  private weights: Float32Array = new Float32Array(0);
  private optimizer: Optimizer;
  private pos: Position = { epoch: 0, batch: 0, iteration: 0 };
  private manual: ManualChange[] = [];
  private lossEwa = new Ewa(0.9);
  private lossEwaRaw = new Ewa(0.9, { biasCorrection: false });
  private plan?: EpochPlan;
  private trainSize = 0;
  private testSize = 0;
  private nextShardId = 0;
  private paused = false;
  private stopRequested = false;
  private resumeGate?: { promise: Promise<void>; resolve: () => void };
  private pendingJoins: Promise<unknown>[] = [];
  private lastTest = { loss: Number.NaN, accuracy: Number.NaN };

  constructor(job: JobConfig, opts: TrainerOptions = {}) {
    super();
    validateJob(job);
    this.job = structuredClone(job);
    this.opts = opts;
    this.optimizer = createOptimizer(job.optimizer);
    const known = specLayout(job.model);
    if (known) this.layout = new ParamLayout(known);
    this.pool = new WorkerPool(() => this.workerInit(), opts);
    this.pool.on('worker', (e) => this.emit('worker', e));
  }

  /** Continues from a checkpoint: the run goes on exactly as if it had never stopped. */
  static fromCheckpoint(bytes: Uint8Array, opts: TrainerOptions = {}): Trainer {
    const c = decodeCheckpoint(bytes);
    const t = new Trainer(c.job, opts);
    t.restore(c);
    return t;
  }

  private restore(c: Checkpoint): void {
    this.layout = new ParamLayout(c.layout);
    this.weights = c.weights;
    this.optimizer.load(c.optimizer);
    this.pos = { ...c.position };
    this.manual = c.manual.map((m) => ({ ...m }));
    this.lossEwa.load(c.lossEwa);
    this.lossEwaRaw.load(c.lossEwa);
  }

  private workerInit(): WorkerInit {
    const task: TaskSpec = this.task ?? {
      model: this.job.model,
      dataset: this.job.dataset,
      layout: this.layout?.shapes() ?? [],
      paramCount: this.layout?.size ?? 0,
    };
    return { task, backends: this.opts.backends, wasmPaths: this.opts.wasmPaths };
  }

  get position(): Position {
    return { ...this.pos };
  }

  get version(): number {
    return this.pos.iteration;
  }

  /** A copy of the current weights. */
  getWeights(): Float32Array {
    return this.weights.slice();
  }

  getLayout(): TensorShape[] {
    return this.layout?.shapes() ?? [];
  }

  /** Adds a worker; during a run it takes shards from the next planning round once it is set up. */
  addWorker(handle: WorkerHandle): Promise<Member> {
    const p = this.pool.add(handle).then(async (m) => this.adopt(m));
    this.pendingJoins.push(p.catch(() => {}));
    return p;
  }

  /** The first worker to finish setting up tells the trainer the model's layout and the data sizes. */
  private async adopt(m: Member): Promise<Member> {
    const info = m.info;
    if (!info) throw new Error('worker joined without info');
    const layout = new ParamLayout(info.layout);
    if (!this.layout) this.layout = layout;
    if (!this.layout.equals(layout)) {
      this.pool.remove(m.handle.id, 'its model layout differs from the run', 'rejected');
      throw new GradroomError('BAD_CONFIG', `worker ${m.handle.id} built a different model layout`);
    }
    if (this.trainSize === 0) {
      this.trainSize = info.trainSize;
      this.testSize = info.testSize;
    } else if (info.trainSize !== this.trainSize || info.testSize !== this.testSize) {
      this.pool.remove(m.handle.id, 'its data set differs from the run', 'rejected');
      throw new GradroomError('BAD_CONFIG', `worker ${m.handle.id} loaded a different data set`);
    }
    this.task = {
      model: this.job.model,
      dataset: this.job.dataset,
      layout: this.layout.shapes(),
      paramCount: this.layout.size,
    };
    return m;
  }

  /** Changes the learning rate by hand from the next iteration on (the lecture's manual decay). */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0))
      throw new GradroomError('BAD_CONFIG', `learning rate must be finite and >= 0, got ${lr}`);
    this.manual = this.manual.filter((c) => c.iteration < this.pos.iteration);
    this.manual.push({ epoch: this.pos.epoch, iteration: this.pos.iteration, lr });
  }

  /** The learning rate of the iteration at `pos`. */
  lrAt(pos: Position): number {
    for (let i = this.manual.length - 1; i >= 0; i--)
      if (this.manual[i].iteration <= pos.iteration) return this.manual[i].lr;
    const schedule: ScheduleConfig = this.job.schedule ?? { kind: 'constant', lr: this.job.optimizer.lr };
    return learningRate(schedule, { epoch: pos.epoch, iteration: pos.iteration });
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.resumeGate = { promise, resolve };
    this.emit('state', { state: 'paused' });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeGate?.resolve();
    this.emit('state', { state: 'running' });
  }

  /** Stops after the iteration in flight; run() then saves a checkpoint (if configured) and returns. */
  stop(): void {
    this.stopRequested = true;
    this.resume();
    this.pool.changed();
  }

  private finished(): boolean {
    const max = this.job.maxIterations;
    return this.pos.epoch >= this.job.epochs || (max !== undefined && this.pos.iteration >= max);
  }

  async run(): Promise<TrainResult> {
    const started = performance.now();
    await this.ready();
    const layout = this.layout as ParamLayout;
    if (this.weights.length === 0) this.weights = initWeights(layout, this.job.seed);
    this.emit('state', { state: 'running' });
    let epochStart = performance.now();
    let epochLoss = 0;
    let epochCorrect = 0;
    let epochExamples = 0;
    while (!this.finished() && !this.stopRequested) {
      if (this.paused) await this.resumeGate?.promise;
      if (this.stopRequested) break;
      const r = await this.iterate();
      if (r === null) break; // stopped while waiting for workers
      epochLoss += r.lossSum;
      epochCorrect += r.correct;
      epochExamples += r.count;
      const done = this.pos;
      this.pos = nextPosition(this.pos, this.planFor(this.pos.epoch).batches);
      const every = this.opts.checkpoint?.everyIterations;
      if (this.pos.epoch !== done.epoch) {
        const test = await this.evaluate();
        this.emit('epoch', {
          epoch: done.epoch,
          iteration: this.pos.iteration,
          trainLoss: epochLoss / epochExamples,
          trainAccuracy: epochCorrect / epochExamples,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          seconds: (performance.now() - epochStart) / 1000,
        });
        epochStart = performance.now();
        epochLoss = epochCorrect = epochExamples = 0;
        await this.saveCheckpoint();
      } else if (every && this.pos.iteration % every === 0) {
        await this.saveCheckpoint();
      }
    }
    const stopped = !this.finished();
    if (stopped) await this.saveCheckpoint();
    if (!stopped && Number.isNaN(this.lastTest.accuracy)) await this.evaluate();
    this.emit('state', { state: stopped ? 'stopped' : 'done' });
    const result: TrainResult = {
      weights: this.getWeights(),
      layout: layout.shapes(),
      position: this.position,
      testAccuracy: this.lastTest.accuracy,
      testLoss: this.lastTest.loss,
      stopped,
    };
    this.emit('done', {
      epochs: this.pos.epoch,
      iterations: this.pos.iteration,
      testAccuracy: result.testAccuracy,
      testLoss: result.testLoss,
      seconds: (performance.now() - started) / 1000,
      stopped,
    });
    return result;
  }

  /** Waits for the workers added so far; at least one must have joined. */
  private async ready(): Promise<void> {
    await Promise.all(this.pendingJoins);
    while (!this.layout || this.trainSize === 0) {
      if (!this.opts.waitForWorkers) throw new GradroomError('BAD_STATE', 'no worker could be set up for this run');
      this.emit('state', { state: 'waiting', reason: 'waiting for a worker to join' });
      await this.pool.nextChange();
      await Promise.all(this.pendingJoins);
      if (this.stopRequested) throw new GradroomError('BAD_STATE', 'stopped before any worker joined');
    }
    if (this.weights.length > 0) this.layout.check(this.weights);
  }

  private planFor(epoch: number): EpochPlan {
    if (this.plan?.epoch !== epoch) {
      this.plan = planEpoch({ seed: this.job.seed, epoch, examples: this.trainSize, batchSize: this.job.batchSize });
    }
    return this.plan;
  }

  /** One mini-batch: shards out, sums in, one optimizer step. null when stopped while waiting. */
  private async iterate(): Promise<{ lossSum: number; correct: number; count: number } | null> {
    const t0 = performance.now();
    const plan = this.planFor(this.pos.epoch);
    const indices = plan.batch(this.pos.batch);
    const layout = this.layout as ParamLayout;
    const agg = new Aggregator(layout.size);
    const iteration = this.pos.iteration;
    const version = this.version;
    let computeMs = 0;
    const perWorker = new Map<string, number>();
    const replanned = await this.runSharded(
      indices,
      (m, shard, weights) =>
        m.handle.compute({ iteration, version, shardId: shard.shardId, indices: shard.indices, weights }),
      (m, shard, r) => {
        if (r.iteration !== iteration || r.version !== version || r.shardId !== shard.shardId) {
          throw new GradroomError(
            'STALE',
            `result for iteration ${r.iteration} v${r.version} shard ${r.shardId}, expected ${iteration} v${version} shard ${shard.shardId}`,
          );
        }
        if (r.count !== shard.indices.length) {
          throw new GradroomError(
            'BAD_MESSAGE',
            `shard ${shard.shardId}: counted ${r.count} examples, it holds ${shard.indices.length}`,
          );
        }
        agg.add(r);
        computeMs = Math.max(computeMs, r.computeMs);
        perWorker.set(m.handle.id, (perWorker.get(m.handle.id) ?? 0) + r.count);
      },
    );
    if (replanned === null) return null;
    const mean = agg.mean(indices.length);
    const lr = this.lrAt(this.pos);
    const s0 = performance.now();
    this.optimizer.step(this.weights, mean, lr);
    const stepMs = performance.now() - s0;
    const loss = agg.lossSum / agg.count;
    const totalMs = performance.now() - t0;
    for (const m of this.pool.members.values()) m.lastShare = (perWorker.get(m.handle.id) ?? 0) / indices.length;
    this.emit('iteration', {
      epoch: this.pos.epoch,
      batch: this.pos.batch,
      batchesPerEpoch: plan.batches,
      iteration: iteration + 1,
      examples: indices.length,
      loss,
      lossSmoothed: this.lossEwa.update(loss),
      lossSmoothedRaw: this.lossEwaRaw.update(loss),
      accuracy: agg.correct / agg.count,
      lr,
      examplesPerSec: (indices.length / totalMs) * 1000,
      timing: { totalMs, computeMs, stepMs },
      replanned,
      workers: this.pool.status(),
    });
    return { lossSum: agg.lossSum, correct: agg.correct, count: agg.count };
  }

  /** Loss and accuracy on the whole test split, computed by the workers. */
  async evaluate(): Promise<{ loss: number; accuracy: number }> {
    if (this.job.evaluate === false || this.testSize === 0) return this.lastTest;
    const all = new Uint32Array(this.testSize);
    for (let i = 0; i < all.length; i++) all[i] = i;
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    const version = this.version;
    const done = await this.runSharded(
      all,
      (m, shard, weights) => m.handle.evaluate({ version, indices: shard.indices, split: 'test', weights }),
      (_m, shard, r) => {
        if (r.count !== shard.indices.length || !Number.isFinite(r.lossSum)) {
          throw new GradroomError('BAD_MESSAGE', `evaluation shard ${shard.shardId}: bad sums`);
        }
        lossSum += r.lossSum;
        correct += r.correct;
        count += r.count;
      },
    );
    if (done === null) return this.lastTest;
    this.lastTest = { loss: lossSum / count, accuracy: correct / count };
    return this.lastTest;
  }

  /**
   * Splits `indices` among the idle workers by speed and runs `call` on each shard; a shard that
   * fails for any reason goes back into the pool of unplanned indices for the next round. Returns
   * how many shards were planned again, or null if the run was stopped while waiting for workers.
   */
  private async runSharded<R>(
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
        const shard = { shardId: this.nextShardId++, indices: all.subarray(offset, offset + sizes[i]) };
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
    this.emit('log', { level: 'warn', message: `worker ${m.handle.id}: ${reason}; its shard is planned again` });
    this.pool.strike(m, reason);
  }

  private async dispatch<R>(m: Member, shard: Shard, call: ShardCall<R>): Promise<R> {
    m.busy = true;
    const t0 = performance.now();
    const version = this.version;
    const work = (async () => {
      let weights: Float32Array | undefined;
      if (m.version !== version) {
        // a copy per worker: the transport may transfer (detach) it
        if (m.handle.inlineWeights) weights = this.weights.slice();
        else await m.handle.setWeights(version, this.weights.slice());
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
      if (this.stopRequested) return null;
      const idle = this.pool.idle();
      if (idle.length > 0) return idle;
      if (!this.pool.hasAny()) {
        if (!this.opts.waitForWorkers)
          throw new GradroomError(
            'BAD_STATE',
            'every worker has left or failed; nothing can compute the rest of the run',
          );
        this.emit('state', { state: 'waiting', reason: 'no workers: waiting for one to join' });
      }
      await this.pool.nextChange();
    }
  }

  private checkpoint(): Checkpoint {
    return {
      format: CHECKPOINT_FORMAT,
      job: this.job,
      layout: (this.layout as ParamLayout).shapes(),
      weights: this.getWeights(),
      optimizer: this.optimizer.state(),
      position: this.position,
      manual: this.manual,
      lossEwa: this.lossEwa.state(),
      savedAt: new Date().toISOString(),
    };
  }

  /** Encodes the run's state now (also used by the host page to offer a download). */
  snapshot(): Uint8Array {
    return encodeCheckpoint(this.checkpoint());
  }

  private async saveCheckpoint(): Promise<void> {
    const store = this.opts.checkpoint?.store;
    if (!store || !this.layout) return;
    const bytes = this.snapshot();
    await store.save(bytes);
    this.emit('checkpoint', { iteration: this.pos.iteration, epoch: this.pos.epoch, bytes: bytes.byteLength });
  }

  /** Ends every worker. */
  async close(): Promise<void> {
    await Promise.all([...this.pool.members.values()].map((m) => m.handle.close('run closed').catch(() => {})));
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
