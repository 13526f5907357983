/**
 * The worker's state machine behind every transport: built model, loaded data, current weights
 * version. Transports (node-thread.ts, web-worker.ts, the volunteer peer) wrap it.
 */
import { decodeUpdate, GradroomError, ParamLayout } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import type {
  CatchUpRequest,
  EvalRequest,
  EvalResultData,
  LocalRequest,
  LocalResultData,
  ShardRequest,
  ShardResultData,
  WorkerApi,
  WorkerInfo,
  WorkerInit,
} from './api.js';
import { type BackendReport, selectBackend } from './backends.js';
import { BACKEND_ORDER, type BackendName } from './catalog.js';
import { ensureExamples } from './data/chunked.js';
import { type Dataset, fromBytes, gather } from './data/dataset.js';
import { type BytesLoader, loadDataset } from './data/load.js';
import type { FetchDataOptions } from './data/url.js';
import { LocalTrainer } from './local.js';
import { checkBinaryTargets, checkLossFit } from './losses.js';
import { buildModel } from './models.js';
import { checkOwnExamples, type DigitCounts, digitCounts, type OwnExamples } from './own-data.js';
import { ShardComputer } from './shard.js';

export class ShardWorker implements WorkerApi {
  private computer?: ShardComputer;
  private train?: Dataset;
  private test?: Dataset;
  private version = -1;
  /** The weights of `version`, kept for mode `local` (its inner steps start from them). */
  private held?: Float32Array;
  private local?: LocalTrainer;
  /** Mode local: the weights this worker started its last round from, for compressed changes. */
  private view?: { version: number; weights: Float32Array };
  private backend = 'none';
  /** Draw to train: the student's drawings (this tab's only), and whether the task is MNIST's digits. */
  private own?: OwnExamples;
  private digits = false;

  constructor(
    private readonly loadBytes: BytesLoader,
    /** How data sets by URL are fetched (a host's own thread reads its server's files: FetchDataOptions.local). */
    private readonly fetchOptions?: FetchDataOptions,
  ) {}

  async init(init: WorkerInit): Promise<WorkerInfo> {
    this.computer?.model.dispose();
    this.computer = undefined;
    const { task } = init;
    const dsTrain = await loadDataset({ ...task.dataset, split: 'train' }, this.loadBytes, this.fetchOptions);
    const dsTest = await loadDataset({ ...task.dataset, split: 'test' }, this.loadBytes, this.fetchOptions);
    // a backend can lack a kernel this model needs (wasm has no Conv2DBackpropFilter): try one
    // gradient on it, and move on to the next backend if it fails
    let order: readonly BackendName[] = init.backends ?? BACKEND_ORDER;
    const unfit: BackendReport['skipped'] = [];
    for (;;) {
      const report = await selectBackend({
        prefer: order,
        wasmPaths: init.wasmPaths,
        allowSoftware: init.backends !== undefined,
      });
      const computer = await this.build(task, dsTrain);
      try {
        await computer.compute({
          x: new Float32Array(dsTrain.features),
          y: dsTrain.classes > 0 ? new Int32Array(1) : new Float32Array(dsTrain.targets),
        });
      } catch (e) {
        computer.model.dispose();
        unfit.push({ backend: report.backend, reason: `cannot train this model: ${(e as Error).message}` });
        order = order.slice(order.indexOf(report.backend) + 1);
        if (order.length === 0)
          throw new GradroomError(
            'BAD_CONFIG',
            `no backend can train this model: ${unfit.map((u) => `${u.backend}: ${u.reason}`).join('; ')}`,
          );
        continue;
      }
      this.backend = report.backend;
      this.computer = computer;
      this.train = dsTrain;
      this.test = dsTest;
      // drawings are handwritten digits: they mix into MNIST only (whole, or its chunked form, whose
      // checked manifest names it)
      this.digits =
        task.dataset.kind === 'mnist' || (task.dataset.kind === 'chunked' && dsTrain.name === 'mnist/train');
      this.version = -1;
      return {
        ...report,
        skipped: [...unfit, ...report.skipped.filter((s) => !unfit.some((u) => u.backend === s.backend))],
        layout: computer.shapes(),
        paramCount: computer.layout.size,
        trainSize: dsTrain.size,
        testSize: dsTest.size,
      };
    }
  }

  /** Builds the task's model on the current backend and checks it against the data, the loss and the layout. */
  private async build(task: WorkerInit['task'], ds: Dataset): Promise<ShardComputer> {
    const model = await buildModel(task.model);
    const loss = task.model.loss ?? 'softmax-cross-entropy';
    try {
      const inputShape = model.inputs[0].shape.slice(1) as number[];
      const features = inputShape.reduce((a, b) => a * b, 1);
      if (features !== ds.features) {
        throw new GradroomError(
          'BAD_CONFIG',
          `the model takes ${features} inputs (${JSON.stringify(inputShape)}); the data set ${ds.name} has ${ds.features} features per example`,
        );
      }
      checkLossFit(model, loss, ds);
      if (loss === 'sigmoid-cross-entropy' && ds.classes === 0)
        checkBinaryTargets(ds.y as Float32Array, ds.targets, ds.name);
      const computer = new ShardComputer(model, inputShape, ds, loss);
      if (task.layout.length > 0 && !computer.layout.equals(new ParamLayout(task.layout))) {
        throw new GradroomError(
          'BAD_CONFIG',
          `the model built here has layout ${JSON.stringify(computer.shapes())}, the task says ${JSON.stringify(task.layout)}`,
        );
      }
      return computer;
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  private ready(): ShardComputer {
    if (!this.computer) throw new GradroomError('BAD_STATE', 'worker has no task yet (call init first)');
    return this.computer;
  }

  async setWeights(version: number, weights: Float32Array): Promise<void> {
    this.ready().setWeights(weights);
    this.version = version;
    this.held = weights;
  }

  async prefetch(examples: Uint32Array): Promise<void> {
    // before init there is no data set to fetch for: nothing to do
    if (this.train && examples.length > 0) ensureExamples(this.train, examples).catch(() => {});
  }

  async catchUp(req: CatchUpRequest): Promise<void> {
    // it may come before this worker's first local round: the round finds it when it starts
    this.local ??= new LocalTrainer();
    const e = req.encoded;
    const change = req.change ?? (e ? decodeUpdate(e, e.length) : undefined);
    if (change) this.local.catchUp(req.round, change);
  }

  async trainLocal(req: LocalRequest): Promise<LocalResultData> {
    const c = this.ready();
    let start: Float32Array;
    if (req.weightsDelta) {
      // compressed weights: the change from the view this worker kept of an earlier version; the
      // coordinator applies the same decoded change to its copy of this view, so both stay equal
      const view = this.view;
      if (!view || view.version !== req.baseVersion)
        throw new GradroomError(
          'STALE',
          `asked to apply a weights change to version ${req.baseVersion}, this worker's view is ${view?.version ?? 'none'}`,
        );
      const d = decodeUpdate(req.weightsDelta, view.weights.length);
      for (let i = 0; i < d.length; i++) view.weights[i] += d[i];
      view.version = req.version;
      start = view.weights;
    } else {
      if (req.weights) await this.setWeights(req.version, req.weights);
      this.checkVersion(req.version);
      start = this.held as Float32Array;
      this.view = { version: req.version, weights: start.slice() };
    }
    const ds = this.train as Dataset;
    // a chunked data set fetches the chunks these mini-batches need (the member's partition) first;
    // that is data travel, not compute, so it is outside computeMs
    await ensureExamples(ds, ...req.batches);
    // the next round's chunks travel while this one trains; a failed fetch is tried again when needed
    if (req.prefetch) void this.prefetch(req.prefetch);
    const t0 = performance.now();
    this.local ??= new LocalTrainer();
    // the model's variables end the round at w_end, not at this version's weights
    this.version = -1;
    this.held = undefined;
    const sums = await this.local.round(
      c,
      start,
      req.batches.map((b) => gather(ds, b)),
      req.lrs,
      req.inner,
      req.compress,
      this.digits && this.own ? { x: this.own.x, y: this.own.y } : undefined,
      req.round,
      req.early === true,
    );
    return {
      round: req.round,
      version: req.version,
      ...sums,
      computeMs: performance.now() - t0,
      backend: this.backend,
    };
  }

  private checkVersion(version: number): void {
    if (version !== this.version) {
      throw new GradroomError(
        'STALE',
        `asked to compute against weights version ${version}, this worker holds ${this.version}`,
      );
    }
  }

  async compute(req: ShardRequest): Promise<ShardResultData> {
    const c = this.ready();
    if (req.weights) await this.setWeights(req.version, req.weights);
    this.checkVersion(req.version);
    const ds = (req.split === 'test' ? this.test : this.train) as Dataset;
    // examples that came with the shard are not fetched (a chunked data set's chunks stay where they are)
    if (!req.inline && !req.bytes) await ensureExamples(ds, req.indices);
    const t0 = performance.now();
    const ex = req.inline ?? (req.bytes ? fromBytes(ds, req.bytes, req.indices.length) : gather(ds, req.indices));
    const sums = await c.compute(ex);
    return {
      iteration: req.iteration,
      version: req.version,
      shardId: req.shardId,
      ...sums,
      computeMs: performance.now() - t0,
      backend: this.backend,
    };
  }

  async classify(features: Float32Array): Promise<number[]> {
    const c = this.ready();
    const ds = this.train as Dataset;
    if (features.length !== ds.features)
      throw new GradroomError(
        'BAD_CONFIG',
        `an example of ${ds.name} has ${ds.features} features, not ${features.length}`,
      );
    if (ds.classes < 2)
      throw new GradroomError('BAD_CONFIG', 'this model is a regression: there are no classes to show');
    return tf.tidy(() => {
      const out = c.model.predict(tf.tensor(features, [1, ...ds.inputShape])) as tf.Tensor;
      return Array.from(tf.softmax(out).dataSync());
    });
  }

  async evaluate(req: EvalRequest): Promise<EvalResultData> {
    const c = this.ready();
    if (req.weights) await this.setWeights(req.version, req.weights);
    this.checkVersion(req.version);
    const ds = (req.split === 'test' ? this.test : this.train) as Dataset;
    await ensureExamples(ds, req.indices);
    return c.evaluate(gather(ds, req.indices));
  }

  async setOwnExamples(own: OwnExamples | null): Promise<void> {
    if (own) checkOwnExamples(own, 28 * 28);
    this.own = own ?? undefined;
  }

  async classEval(req: { weights: Float32Array }): Promise<DigitCounts> {
    const c = this.ready();
    if (!this.digits)
      throw new GradroomError(
        'BAD_CONFIG',
        "draw to train needs a run on MNIST's digits; this run trains another data set",
      );
    const own = this.own ?? { heldX: new Float32Array(0), heldY: new Int32Array(0) };
    c.setWeights(req.weights);
    try {
      return await digitCounts(c.model, (this.train as Dataset).inputShape, { x: own.heldX, y: own.heldY });
    } finally {
      // the weights of `version` stay what an exact-mode shard computes against
      if (this.held) c.setWeights(this.held);
    }
  }

  async memory(): Promise<{ numTensors: number; numBytes: number }> {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }

  async dispose(): Promise<void> {
    this.computer?.model.dispose();
    this.computer = undefined;
  }
}
