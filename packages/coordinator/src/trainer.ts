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
  specState,
  type TensorShape,
  withManualChange,
} from '@gradroom/core';
import type { ModelTarget } from '@gradroom/worker/export';
import { CHECKPOINT_FORMAT, type Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { Dispatcher } from './dispatch.js';
import { Emitter } from './emitter.js';
import { Evaluator } from './evaluation.js';
import type { TrainerEvents } from './events.js';
import type { SplitScore } from './history.js';
import { type JobConfig, validateJob } from './job.js';
import { exportModel, type ModelExporter, type ModelExportOptions } from './model-export.js';
import { checkStartFits, modelSpecOf, startWeights } from './model-input.js';
import { runPhases } from './modes/auto.js';
import type { RoundOutcome } from './modes/mode.js';
import type { RunPhases } from './modes/phases.js';
import { PauseGate } from './pause-gate.js';
import { ShardPlanner } from './planning.js';
import { WorkerPool } from './pool.js';
import { RunFacts } from './run-facts.js';
import { RunScores } from './run-scores.js';
import type { WorkerSession } from './session.js';
import { creditWorkers, diverged, EpochStats, firstNonFinite, iterationEvent } from './step-checks.js';
import { datasetSpecOf } from './tensor-input.js';
import { checkOptions, type JobInput, type TrainerOptions, type TrainResult } from './trainer-options.js';
import { WeightsSnapshot, type WorkerHandle } from './worker-handle.js';

export type { ModelExporter, ModelExportOptions } from './model-export.js';
export type { JobInput, TrainerOptions, TrainResult } from './trainer-options.js';

const START_GRACE_MS = 1000; // how long a room's start waits for joins once a worker is set up

export class Trainer extends Emitter<TrainerEvents> {
  readonly job: JobConfig;
  readonly pool: WorkerPool;
  private readonly opts: TrainerOptions;
  /** The model's layout and the data set's sizes, as the run knows them itself. */
  private readonly facts: RunFacts;
  private weights: Float32Array = new Float32Array(0);
  private grads: Float32Array = new Float32Array(0);
  /** The central optimizer of the phase in progress; its buffers hold the weights. */
  private active?: Optimizer;
  private pos: Position = { epoch: 0, batch: 0, iteration: 0 };
  private manual: ManualChange[] = [];
  private lossEwa = new Ewa(0.9);
  private lossEwaRaw = new Ewa(0.9, { biasCorrection: false });
  private plan?: EpochPlan;
  private readonly dispatcher: Dispatcher;
  private readonly phases: RunPhases;
  private readonly evaluator: Evaluator;
  private readonly gate = new PauseGate();
  private stopRequested = false;
  private readonly scores: RunScores;
  /** BatchNorm moving statistics and frozen tensors in the layout (model-state.ts); null: none. */
  private state: ModelState | null = null;
  /** Where the starting weights came from, when given (checked against the model's layout at run). */
  private startLayout?: TensorShape[];
  private snap?: WeightsSnapshot;
  /** Examples computed in this run (for the 'evaluation' event). */
  private examplesSeen = 0;

  constructor(input: JobInput, opts: TrainerOptions = {}) {
    super();
    const model = modelSpecOf(input.model);
    const job: JobConfig = { ...input, model, dataset: datasetSpecOf(input.dataset, model) }; // tensors read now
    validateJob(job);
    this.job = structuredClone(job);
    this.opts = checkOptions(opts);
    this.facts = new RunFacts(job, opts.dataSizes);
    const start = startWeights(opts); // fine-tuning: checked against the layout where it is known now
    if (start) {
      this.weights = start.weights;
      this.startLayout = start.layout;
      if (this.facts.layout) checkStartFits(this.facts.layout, start);
    }
    this.pool = new WorkerPool(
      () => ({ task: this.facts.task(), backends: opts.backends, wasmPaths: opts.wasmPaths }),
      opts,
      (s, info) => this.facts.admit(s.id, info, s.trusted),
    );
    this.pool.on('worker', (e) => this.emit('worker', e));
    const log = (level: 'info' | 'warn', message: string) => this.emit('log', { level, message });
    this.dispatcher = new Dispatcher(this.pool, opts, {
      stopped: () => this.stopRequested,
      log,
      waiting: (reason) => this.emit('state', { state: 'waiting', reason }),
    });
    const planner = new ShardPlanner(this.pool, opts, log);
    this.evaluator = new Evaluator(this.dispatcher, planner);
    this.scores = new RunScores(this.job, this.evaluator);
    const sizes = () => ({ parameters: this.facts.layout?.size ?? 1, trainSize: this.facts.trainSize });
    this.phases = runPhases(this.job, this.pool, this.dispatcher, planner, opts, sizes);
  }

  /** The current weights as one immutable snapshot, shared by every worker of this version. */
  private snapshot_(): WeightsSnapshot {
    if (this.snap?.version !== this.version)
      this.snap = new WeightsSnapshot(this.version, this.weights.slice(), this.snap?.asBase());
    return this.snap;
  }

  /** Continues from a checkpoint: the run goes on exactly as if it had never stopped. */
  static fromCheckpoint(bytes: Uint8Array, opts: TrainerOptions = {}): Trainer {
    const c = decodeCheckpoint(bytes);
    return new Trainer(c.job, opts).restore(c);
  }

  private restore(c: Checkpoint): this {
    this.facts.layout = new ParamLayout(c.layout);
    this.weights = c.weights;
    this.phases.restore(c.position, c.optimizer, c.partition);
    this.pos = { ...c.position };
    this.manual = c.manual.map((m) => ({ ...m }));
    this.lossEwa.load(c.lossEwa);
    this.lossEwaRaw.load(c.lossEwa);
    return this;
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

  /** The largest message a peer of this run can need to send (RunFacts.peerMessageBytes). */
  peerMessageBytes(): number | undefined {
    return this.facts.peerMessageBytes();
  }

  getLayout(): TensorShape[] {
    return this.facts.layout?.shapes() ?? [];
  }

  /** Adds a worker; during a run it takes shards from the next planning round once it is set up. */
  addWorker(handle: WorkerHandle): Promise<WorkerSession> {
    return this.pool.add(handle);
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
    if (this.gate.pause()) this.emit('state', { state: 'paused' });
  }

  resume(): void {
    if (this.gate.resume()) this.emit('state', { state: 'running' });
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
    const layout = this.facts.layout as ParamLayout;
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
    this.activate(this.phases.at(this.pos).optimizer, start);
    this.emit('state', { state: 'running' });
    const epoch = new EpochStats();
    try {
      while (!this.finished() && !this.stopRequested) {
        await this.gate.passed();
        if (this.stopRequested) break;
        const r = await this.step();
        if (r === null) break; // stopped while waiting for workers
        epoch.add(r);
        this.examplesSeen += r.count;
        const done = this.pos;
        for (let k = 0; k < r.steps; k++) this.pos = nextPosition(this.pos, this.planFor(this.pos.epoch).batches);
        const every = this.opts.checkpoint?.everyIterations;
        // a round of mode local may step over the multiple: crossing it counts
        const n = this.opts.evalEvery;
        const crossed = n !== undefined && Math.floor(this.pos.iteration / n) > Math.floor(done.iteration / n);
        const evaluated = crossed ? await this.evaluateNow() : null;
        if (this.pos.epoch !== done.epoch) {
          const { trainSize, testSize } = this.facts;
          const at = { epoch: done.epoch, iteration: this.pos.iteration, trainSize, testSize };
          this.emit('epoch', await this.scores.closeEpoch(at, epoch.close(), this.snapshot_(), evaluated));
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
    if (!stopped && this.scores.test === null && this.job.evaluate !== false)
      await this.scores.scoreTest(this.snapshot_(), this.facts.testSize);
    this.emit('state', { state: stopped ? 'stopped' : 'done' });
    const { metric, test } = this.scores;
    const result: TrainResult = {
      weights: this.getWeights(),
      layout: layout.shapes(),
      position: this.position,
      metric,
      test,
      history: this.scores.history,
      ...this.scores.legacy(),
      stopped,
    };
    const seconds = (performance.now() - started) / 1000;
    const { epoch: epochs, iteration: iterations } = this.pos;
    this.emit('done', { epochs, iterations, metric, test, ...this.scores.legacy(), seconds, stopped });
    return result;
  }

  /** Waits for the workers added so far; at least one must have joined. */
  private async ready(): Promise<void> {
    // a run of its own workers starts with all of them; in a room, joins still under way (a tab
    // fetching its data over the class's Wi-Fi) hold up the start at most START_GRACE_MS after the
    // first worker is set up (the host's own, say): the others join as their data arrives
    await this.pool.joined(this.opts.waitForWorkers ? START_GRACE_MS : undefined);
    while (!this.facts.layout || this.facts.trainSize === 0 || this.pool.ready().length === 0) {
      if (!this.opts.waitForWorkers) throw new GradroomError('BAD_STATE', 'no worker could be set up for this run');
      this.emit('state', { state: 'waiting', reason: 'waiting for a worker to join' });
      await this.pool.nextChange();
      if (this.stopRequested) throw new GradroomError('BAD_STATE', 'stopped before any worker joined');
    }
    if (this.weights.length > 0) {
      if (this.startLayout) checkStartFits(this.facts.layout, { weights: this.weights, layout: this.startLayout });
      this.facts.layout.check(this.weights);
    }
    this.scores.holdOut(this.facts.trainSize);
  }

  private planFor(epoch: number): EpochPlan {
    if (this.plan?.epoch !== epoch) {
      // a validation split is the training set's last examples, never trained on
      const examples = this.facts.trainSize - this.scores.validation;
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
    const layout = this.facts.layout as ParamLayout;
    const decided = this.phases.decide(pos);
    if (decided) this.emit('log', { level: 'info', message: decided });
    const phase = this.phases.at(pos);
    if (phase.optimizer !== this.active) this.activate(phase.optimizer, this.weights);
    let r: RoundOutcome | null;
    try {
      r = await phase.mode.round({
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
    phase.optimizer.step(this.weights, this.grads, r.stepLr);
    putState?.();
    const stepMs = performance.now() - s0;
    const loss = r.lossSum / r.count;
    const bad = firstNonFinite(this.weights);
    if (!Number.isFinite(loss) || bad >= 0)
      throw diverged(new GradroomError('DIVERGED', `weight ${bad} is ${this.weights[bad]}`), pos.iteration, r.stepLr);
    const totalMs = performance.now() - t0;
    creditWorkers(r, this.pool.ready());
    const smoothed = { lossSmoothed: this.lossEwa.update(loss), lossSmoothedRaw: this.lossEwaRaw.update(loss) };
    const timed = { totalMs, stepMs, batchesPerEpoch: plan.batches, workers: this.pool.status() };
    const auto = this.phases.decision ? { auto: { ...this.phases.decision } } : {};
    this.emit('iteration', { ...iterationEvent(pos, r, this.scores.metric, loss, timed), ...smoothed, ...auto });
    return { lossSum: r.lossSum, correct: r.correct, count: r.count, steps: r.steps };
  }

  /** Makes `optimizer` the central one: the weights move into its buffers (Adam's: WebAssembly memory). */
  private activate(optimizer: Optimizer, weights: Float32Array): void {
    const b = optimizer.allocate(weights.length);
    b.params.set(weights);
    this.weights = b.params;
    this.grads = b.grads;
    this.active = optimizer;
  }

  /** The test split scored now, timed and reported as an 'evaluation' event (TrainerOptions.evalEvery). */
  private async evaluateNow(): Promise<SplitScore | null> {
    const t0 = performance.now();
    const test = await this.scores.scoreTest(this.snapshot_(), this.facts.testSize);
    const { iteration, epoch } = this.pos;
    const fields = this.scores.evaluationFields(test);
    this.emit('evaluation', {
      iteration,
      epoch,
      examples: this.examplesSeen,
      ...fields,
      evalMs: performance.now() - t0,
    });
    return test;
  }

  /**
   * Loss and metric on the whole test split with the current weights, computed by the workers (the
   * run's own, when it has any); also with `evaluate: false`, which only stops the scoring after each
   * epoch. Null when the run stopped meanwhile.
   */
  async evaluate(): Promise<SplitScore | null> {
    if (!this.facts.layout || this.facts.testSize === 0 || this.pool.ready().length === 0)
      throw new GradroomError(
        'BAD_STATE',
        'nothing to evaluate with yet: add a worker and run (or restore) the trainer first',
      );
    return this.scores.scoreTest(this.snapshot_(), this.facts.testSize);
  }

  private checkpoint(): Checkpoint {
    return {
      format: CHECKPOINT_FORMAT,
      job: this.job,
      layout: (this.facts.layout as ParamLayout).shapes(),
      weights: this.getWeights(),
      optimizer: this.phases.at(this.pos).optimizer.state(),
      position: this.position,
      manual: this.manual,
      lossEwa: this.lossEwa.state(),
      savedAt: new Date().toISOString(),
      ...(this.phases.progress?.() ? { partition: this.phases.progress?.() } : {}),
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
    if (!this.facts.layout || this.weights.length === 0)
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
    if (!store || !this.facts.layout) return;
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
