/**
 * The worker's state machine behind every transport: built model, loaded data, current weights
 * version. Transports (node-thread.ts, web-worker.ts, the volunteer peer) wrap it.
 */
import { GradroomError, ParamLayout } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import type {
  EvalRequest,
  EvalResultData,
  ShardRequest,
  ShardResultData,
  WorkerApi,
  WorkerInfo,
  WorkerInit,
} from './api.js';
import { selectBackend } from './backends.js';
import { type Dataset, gather } from './data/dataset.js';
import { type BytesLoader, loadDataset } from './data/load.js';
import { buildModel } from './models.js';
import { ShardComputer } from './shard.js';

export class ShardWorker implements WorkerApi {
  private computer?: ShardComputer;
  private train?: Dataset;
  private test?: Dataset;
  private version = -1;
  private backend = 'none';

  constructor(private readonly loadBytes: BytesLoader) {}

  async init(init: WorkerInit): Promise<WorkerInfo> {
    const report = await selectBackend({ prefer: init.backends, wasmPaths: init.wasmPaths });
    this.backend = report.backend;
    this.computer?.model.dispose();
    const { task } = init;
    const model = await buildModel(task.model);
    const dsTrain = await loadDataset({ ...task.dataset, split: 'train' }, this.loadBytes);
    const dsTest = await loadDataset({ ...task.dataset, split: 'test' }, this.loadBytes);
    const computer = new ShardComputer(model, dsTrain.inputShape, dsTrain.classes);
    const want = new ParamLayout(task.layout);
    if (task.layout.length > 0 && !computer.layout.equals(want)) {
      model.dispose();
      throw new GradroomError(
        'BAD_CONFIG',
        `the model built here has layout ${JSON.stringify(computer.shapes())}, the task says ${JSON.stringify(task.layout)}`,
      );
    }
    this.computer = computer;
    this.train = dsTrain;
    this.test = dsTest;
    this.version = -1;
    return {
      ...report,
      layout: computer.shapes(),
      paramCount: computer.layout.size,
      trainSize: dsTrain.size,
      testSize: dsTest.size,
    };
  }

  private ready(): ShardComputer {
    if (!this.computer) throw new GradroomError('BAD_STATE', 'worker has no task yet (call init first)');
    return this.computer;
  }

  async setWeights(version: number, weights: Float32Array): Promise<void> {
    this.ready().setWeights(weights);
    this.version = version;
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
    const t0 = performance.now();
    const ds = req.split === 'test' ? this.test : this.train;
    const ex = req.inline ?? gather(ds as Dataset, req.indices);
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

  async evaluate(req: EvalRequest): Promise<EvalResultData> {
    const c = this.ready();
    if (req.weights) await this.setWeights(req.version, req.weights);
    this.checkVersion(req.version);
    const ds = (req.split === 'test' ? this.test : this.train) as Dataset;
    return c.evaluate(gather(ds, req.indices));
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
