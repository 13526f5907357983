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
  createOptimizer,
  type EpochPlan,
  Ewa,
  GradroomError,
  holdState,
  initModelWeights,
  learningRate,
  type ManualChange,
  type ManualSchedule,
  type ModelState,
  nextPosition,
  type Optimizer,
  ParamLayout,
  type Position,
  planEpoch,
  specLayout,
  specState,
  type TaskSpec,
  type TensorShape,
  withManualChange,
} from '@gradroom/core';
import type { WorkerInit } from '@gradroom/worker';
import { datasetSizes } from '@gradroom/worker/catalog';
import type { ModelTarget } from '@gradroom/worker/export';
import { CHECKPOINT_FORMAT, type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { Dispatcher } from './dispatch.js';
import { Emitter } from './emitter.js';
import { Evaluator } from './evaluation.js';
import type { TrainerEvents } from './events.js';
import { type EpochRecord, type MetricName, metricOf, type SplitScore, splitScore, validationSize } from './history.js';
import { DEFAULT_OUTER, type JobConfig, validateJob } from './job.js';
import { exportModel, type ModelExporter, type ModelExportOptions } from './model-export.js';
import { checkStartFits, modelSpecOf, startWeights } from './model-input.js';
import { ExactMode } from './modes/exact.js';
import { LocalMode } from './modes/local.js';
import type { Mode, RoundOutcome } from './modes/mode.js';
import { ShardPlanner } from './planning.js';
import { WorkerPool } from './pool.js';
import type { WorkerSession } from './session.js';
import { diverged, EpochStats, firstNonFinite } from './step-checks.js';
import type { JobInput, TrainerOptions, TrainResult } from './trainer-options.js';
import { WeightsSnapshot, type WorkerHandle } from './worker-handle.js';

export type { ModelExporter, ModelExportOptions } from './model-export.js';
export type { JobInput, TrainerOptions, TrainResult } from './trainer-options.js';

export class Trainer extends Emitter<TrainerEvents> {
  readonly job: JobConfig;
  readonly pool: WorkerPool;
  private readonly opts: TrainerOptions;
  private task?: TaskSpec;
  private layout?: ParamLayout;
  private weights: Float32Array = new Float32Array(0);
  private grads: Float32Array = new Float32Array(0);
  private optimizer: Optimizer;
  private pos: Position = { epoch: 0, batch: 0, iteration: 0 };
  private manual: ManualChange[] = [];
  private lossEwa = new Ewa(0.9);
  private lossEwaRaw = new Ewa(0.9, { biasCorrection: false });
  private plan?: EpochPlan;
  private trainSize = 0;
  private testSize = 0;
  private readonly dispatcher: Dispatcher;
  private readonly mode: Mode;
  private readonly evaluator: Evaluator;
  private paused = false;
  private stopRequested = false;
  private resumeGate?: { promise: Promise<void>; resolve: () => void };
  private pendingJoins: Promise<unknown>[] = [];
  private lastTest: SplitScore | null = null;
  private readonly metric: MetricName;
  private history: EpochRecord[] = [];
  /** Examples at the end of the training set held out for validation (job.validationSplit). */
  private validation = 0;
  private snap?: WeightsSnapshot;
  /** BatchNorm moving statistics and frozen tensors in the layout (model-state.ts); null: none. */
  private state: ModelState | null = null;

  /** Where the starting weights came from, when given (checked against the model's layout at run). */
  private startLayout?: TensorShape[];

  constructor(input: JobInput, opts: TrainerOptions = {}) {
    super();
    const job: JobConfig = { ...input, model: modelSpecOf(input.model) };
    validateJob(job);
    this.job = structuredClone(job);
    this.opts = opts;
    this.metric = metricOf(job.model.loss);
    // in mode local the coordinator's optimizer is the outer one; the job's runs on the workers
    this.optimizer = createOptimizer(job.mode?.kind === 'local' ? (job.mode.outer ?? DEFAULT_OUTER) : job.optimizer);
    const known = specLayout(job.model);
    if (known) this.layout = new ParamLayout(known);
    this.takeStart(opts);
    const sizes = opts.dataSizes ?? datasetSizes(job.dataset);
    if (sizes) {
      this.trainSize = sizes.train;
      this.testSize = sizes.test;
    }
    this.pool = new WorkerPool(() => this.workerInit(), opts);
    this.pool.on('worker', (e) => this.emit('worker', e));
    const log = (level: 'info' | 'warn', message: string) => this.emit('log', { level, message });
    this.dispatcher = new Dispatcher(this.pool, opts, {
      stopped: () => this.stopRequested,
      log,
      waiting: (reason) => this.emit('state', { state: 'waiting', reason }),
    });
    const planner = new ShardPlanner(this.pool, opts, log);
    this.evaluator = new Evaluator(this.dispatcher, planner);
    const mode = job.mode;
    this.mode =
      mode?.kind === 'local'
        ? new LocalMode(this.pool, this.dispatcher, mode, job.optimizer, mode.outer ?? DEFAULT_OUTER, job.batchSize)
        : new ExactMode(this.pool, this.dispatcher, planner, opts);
  }

  /** The starting weights given for fine-tuning (checked against the layout where it is known now). */
  private takeStart(opts: TrainerOptions): void {
    const start = startWeights(opts);
    if (!start) return;
    this.weights = start.weights;
    this.startLayout = start.layout;
    if (this.layout) checkStartFits(this.layout, start);
  }

  /** The current weights as one immutable snapshot, shared by every worker of this version. */
  private snapshot_(): WeightsSnapshot {
    if (this.snap?.version !== this.version) this.snap = new WeightsSnapshot(this.version, this.weights.slice());
    return this.snap;
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
  addWorker(handle: WorkerHandle): Promise<WorkerSession> {
    const p = this.pool.add(handle).then(async (s) => this.adopt(s));
    // forgotten once settled: a long room run sees many joins
    const settled: Promise<unknown> = p.then(
      () => this.forgetJoin(settled),
      () => this.forgetJoin(settled),
    );
    this.pendingJoins.push(settled);
    return p;
  }

  private forgetJoin(p: Promise<unknown>): void {
    const i = this.pendingJoins.indexOf(p);
    if (i >= 0) this.pendingJoins.splice(i, 1);
  }

  /**
   * Checks a worker that finished setting up against what the run knows itself. The model's layout
   * comes from the spec (or the first worker to build a layers topology); the data set's sizes from
   * the spec, the options or the run's own first worker, never from a peer's word.
   */
  private async adopt(s: WorkerSession): Promise<WorkerSession> {
    const info = s.info;
    if (!info) throw new Error('worker joined without info');
    const layout = new ParamLayout(info.layout);
    if (!this.layout) this.layout = layout;
    if (!this.layout.equals(layout)) {
      this.pool.remove(s.id, 'its model layout differs from the run', 'rejected');
      throw new GradroomError('BAD_CONFIG', `worker ${s.id} built a different model layout`);
    }
    if (this.trainSize === 0 && s.trusted) {
      this.trainSize = info.trainSize;
      this.testSize = info.testSize;
    } else if (this.trainSize === 0) {
      this.pool.remove(s.id, "the run does not know its data set's sizes yet; join again later", 'rejected');
      throw new GradroomError('BAD_STATE', `worker ${s.id}: the data set's sizes are not known yet`);
    } else if (info.trainSize !== this.trainSize || info.testSize !== this.testSize) {
      this.pool.remove(
        s.id,
        `its data set has ${info.trainSize}/${info.testSize} examples, the run's ${this.trainSize}/${this.testSize}`,
        'rejected',
      );
      throw new GradroomError('BAD_CONFIG', `worker ${s.id} loaded a different data set`);
    }
    this.task = {
      model: this.job.model,
      dataset: this.job.dataset,
      layout: this.layout.shapes(),
      paramCount: this.layout.size,
    };
    return s;
  }

  /** Changes the learning rate by hand from the next iteration on (the lecture's manual decay). */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0))
      throw new GradroomError('BAD_CONFIG', `learning rate must be finite and >= 0, got ${lr}`);
    // core's manual schedule takes the change; one made earlier at this same iteration is replaced
    const earlier = this.manualSchedule(this.manual.filter((c) => c.iteration < this.pos.iteration));
    this.manual = withManualChange(earlier, this.pos, lr).changes;
  }

  /** The learning rate of the iteration at `pos`. */
  lrAt(pos: Position): number {
    return learningRate(this.manualSchedule(this.manual), { epoch: pos.epoch, iteration: pos.iteration });
  }

  /** Core's manual schedule: the job's schedule until the first change made by hand. */
  private manualSchedule(changes: ManualChange[]): ManualSchedule {
    return { kind: 'manual', lr: this.job.optimizer.lr, base: this.job.schedule, changes };
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
    // the weights and the mean gradient live in the optimizer's own buffers (for Adam: WebAssembly
    // memory its SIMD kernel updates in place)
    const start = this.weights.length > 0 ? this.weights : initModelWeights(this.job.model, layout, this.job.seed);
    this.state = specState(this.job.model, layout);
    const bad = firstNonFinite(start);
    if (bad >= 0)
      throw new GradroomError(
        'NON_FINITE',
        `the starting weights hold ${start[bad]} at index ${bad}: refusing to train`,
      );
    const buffers = this.optimizer.allocate(layout.size);
    buffers.params.set(start);
    this.weights = buffers.params;
    this.grads = buffers.grads;
    this.emit('state', { state: 'running' });
    const epoch = new EpochStats();
    try {
      while (!this.finished() && !this.stopRequested) {
        if (this.paused) await this.resumeGate?.promise;
        if (this.stopRequested) break;
        const r = await this.step();
        if (r === null) break; // stopped while waiting for workers
        epoch.add(r);
        const done = this.pos;
        for (let k = 0; k < r.steps; k++) this.pos = nextPosition(this.pos, this.planFor(this.pos.epoch).batches);
        const every = this.opts.checkpoint?.everyIterations;
        if (this.pos.epoch !== done.epoch) {
          await this.closeEpoch(done.epoch, epoch.close());
          await this.saveCheckpoint();
        } else if (every && Math.floor(this.pos.iteration / every) > Math.floor(done.iteration / every)) {
          await this.saveCheckpoint();
        }
      }
    } catch (e) {
      // nothing is saved: the last checkpoint on disk is the last good one
      const reason = e instanceof Error ? e.message : String(e);
      this.emit('state', { state: 'failed', reason });
      throw e;
    }
    const stopped = !this.finished();
    // a run ended by --max-iterations mid-epoch is saved too, so it can be continued
    if (stopped || this.pos.batch !== 0) await this.saveCheckpoint();
    if (!stopped && this.lastTest === null && this.job.evaluate !== false) await this.scoreTest();
    this.emit('state', { state: stopped ? 'stopped' : 'done' });
    const test = this.lastTest;
    const legacy = {
      testAccuracy: test && this.metric === 'accuracy' ? test.metric : Number.NaN,
      testLoss: test ? test.loss : Number.NaN,
    };
    const result: TrainResult = {
      weights: this.getWeights(),
      layout: layout.shapes(),
      position: this.position,
      metric: this.metric,
      test,
      history: this.history.slice(),
      ...legacy,
      stopped,
    };
    this.emit('done', {
      epochs: this.pos.epoch,
      iterations: this.pos.iteration,
      metric: this.metric,
      test,
      ...legacy,
      seconds: (performance.now() - started) / 1000,
      stopped,
    });
    return result;
  }

  /** Waits for the workers added so far; at least one must have joined. */
  private async ready(): Promise<void> {
    await Promise.all(this.pendingJoins);
    while (!this.layout || this.trainSize === 0 || this.pool.ready().length === 0) {
      if (!this.opts.waitForWorkers) throw new GradroomError('BAD_STATE', 'no worker could be set up for this run');
      this.emit('state', { state: 'waiting', reason: 'waiting for a worker to join' });
      await this.pool.nextChange();
      await Promise.all(this.pendingJoins);
      if (this.stopRequested) throw new GradroomError('BAD_STATE', 'stopped before any worker joined');
    }
    if (this.weights.length > 0) {
      if (this.startLayout) checkStartFits(this.layout, { weights: this.weights, layout: this.startLayout });
      this.layout.check(this.weights);
    }
    this.validation = validationSize(this.job.validationSplit, this.trainSize);
  }

  private planFor(epoch: number): EpochPlan {
    if (this.plan?.epoch !== epoch) {
      // a validation split is the training set's last examples, never trained on
      const examples = this.trainSize - this.validation;
      this.plan = planEpoch({ seed: this.job.seed, epoch, examples, batchSize: this.job.batchSize });
    }
    return this.plan;
  }

  /**
   * One round of the job's mode, then the one central step: the mode's mean gradient (exact) or
   * mean pseudo-gradient (local) goes through the optimizer, the weights are checked, each worker is
   * credited, and the iteration is reported. null when stopped while waiting for workers.
   */
  private async step(): Promise<RoundResult | null> {
    const t0 = performance.now();
    const pos = this.pos;
    const plan = this.planFor(pos.epoch);
    const layout = this.layout as ParamLayout;
    let r: RoundOutcome | null;
    try {
      r = await this.mode.round({
        pos,
        plan,
        snapshot: this.snapshot_(),
        paramCount: layout.size,
        grads: this.grads,
        lrAt: (p) => this.lrAt(p),
        maxIterations: this.job.maxIterations,
      });
    } catch (e) {
      throw diverged(e, pos.iteration, this.lrAt(pos));
    }
    if (r === null) return null;
    const s0 = performance.now();
    // state entries carry mini-batch statistics, not gradients: kept out of the optimizer's step
    const putState = this.state ? holdState(this.state, this.weights, this.grads) : undefined;
    this.optimizer.step(this.weights, this.grads, r.stepLr);
    putState?.();
    const stepMs = performance.now() - s0;
    const loss = r.lossSum / r.count;
    const bad = firstNonFinite(this.weights);
    if (!Number.isFinite(loss) || bad >= 0)
      throw diverged(new GradroomError('DIVERGED', `weight ${bad} is ${this.weights[bad]}`), pos.iteration, r.stepLr);
    const totalMs = performance.now() - t0;
    const credited = new Set<WorkerSession>();
    for (const [s, n] of r.perWorker) {
      s.credit(n, n / r.shareOf);
      credited.add(s);
    }
    for (const s of this.pool.ready()) if (!credited.has(s)) s.credit(0, 0);
    const { stats } = r;
    this.emit('iteration', {
      epoch: pos.epoch,
      batch: pos.batch + r.steps - 1,
      batchesPerEpoch: plan.batches,
      iteration: pos.iteration + r.steps,
      examples: r.count,
      loss,
      lossSmoothed: this.lossEwa.update(loss),
      lossSmoothedRaw: this.lossEwaRaw.update(loss),
      metric: this.metric,
      metricValue: this.metric === 'accuracy' ? r.correct / r.count : loss,
      accuracy: this.metric === 'accuracy' ? r.correct / r.count : Number.NaN,
      lr: r.eventLr,
      examplesPerSec: (r.count / totalMs) * 1000,
      timing: {
        totalMs,
        computeMs: stats.criticalComputeMs,
        transferMs: stats.criticalTransferMs,
        waitMs: Math.max(0, totalMs - stats.criticalComputeMs - stats.criticalTransferMs - stepMs),
        stepMs,
      },
      bytes: { out: stats.bytesOut, in: stats.bytesIn },
      fastestAloneExamplesPerSec: r.fastestAloneExamplesPerSec,
      replanned: stats.replanned,
      workers: this.pool.status(),
      ...(r.round ? { round: r.round } : {}),
    });
    return { lossSum: r.lossSum, correct: r.correct, count: r.count, steps: r.steps };
  }

  /**
   * Loss and metric on the whole test split with the current weights, computed by the workers (the
   * run's own, when it has any); also with `evaluate: false`, which only stops the scoring after
   * each epoch. Null when the run stopped meanwhile.
   */
  async evaluate(): Promise<SplitScore | null> {
    if (!this.layout || this.testSize === 0 || this.pool.ready().length === 0)
      throw new GradroomError(
        'BAD_STATE',
        'nothing to evaluate with yet: add a worker and run (or restore) the trainer first',
      );
    return this.scoreTest();
  }

  private async scoreTest(): Promise<SplitScore | null> {
    if (this.testSize === 0) return null;
    const score = await this.evaluator.score(this.snapshot_(), this.testSize, 'test');
    if (score !== null) this.lastTest = splitScore(this.metric, score);
    return score === null ? null : this.lastTest;
  }

  /** Scores the epoch that just ended (validation, test), keeps its record and tells it. */
  private async closeEpoch(n: number, train: { trainLoss: number; trainAccuracy: number; seconds: number }) {
    const snapshot = this.snapshot_();
    const from = this.trainSize - this.validation;
    const v = this.validation > 0 ? await this.evaluator.score(snapshot, this.validation, 'train', from) : null;
    const test = this.job.evaluate === false ? null : await this.scoreTest();
    const record: EpochRecord = {
      epoch: n,
      iteration: this.pos.iteration,
      train: splitScore(this.metric, { loss: train.trainLoss, accuracy: train.trainAccuracy }),
      validation: v ? splitScore(this.metric, v) : null,
      test,
      seconds: train.seconds,
    };
    this.history.push(record);
    const acc = this.metric === 'accuracy';
    this.emit('epoch', {
      ...record,
      metric: this.metric,
      trainLoss: train.trainLoss,
      trainAccuracy: acc ? train.trainAccuracy : Number.NaN,
      testLoss: test ? test.loss : Number.NaN,
      testAccuracy: test && acc ? test.metric : Number.NaN,
    });
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

  /**
   * Saves the model with the current weights as a tfjs layers model (model.json + weights) that
   * tf.loadLayersModel loads: a directory in Node, a tfjs URL (downloads://, indexeddb://) or an IOHandler.
   * A classifier outputs probabilities unless `outputs: 'logits'`. In a browser pass `exporter:
   * exportLayersModel` from '@gradroom/worker/export' (or it as the second argument): importing it
   * here would put tfjs (2.5 MB) into every page that bundles the trainer.
   */
  async exportModel(target: ModelTarget, options?: ModelExporter | ModelExportOptions): Promise<void> {
    if (!this.layout || this.weights.length === 0)
      throw new GradroomError('BAD_STATE', 'no weights to export yet: run (or restore) the trainer first');
    const o = typeof options === 'function' ? { exporter: options } : options;
    await exportModel(this.job.model, this.getLayout(), this.getWeights(), target, o);
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
    await this.pool.closeAll('run closed');
  }
}

/** What an iteration (or a local round of `steps` mini-batches) adds to its epoch. */
interface RoundResult {
  lossSum: number;
  correct: number;
  count: number;
  steps: number;
}
