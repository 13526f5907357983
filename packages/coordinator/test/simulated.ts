/**
 * Simulated workers for unit tests of planning logic (PlanCheck, OwnWorkerCheck): their time is
 * spent on simulated CPUs, their results are zero gradients of the right length. The real worker
 * parts are tested elsewhere; these only make the timing a test needs.
 */
import { datasetSizes } from '@gradroom/worker/catalog';
import type { JobConfig } from '../src/job.js';
import type { WorkerHandle } from '../src/worker-handle.js';

/** A small job for simulated rooms: synthetic data, 64-example mini-batches, `maxIterations` of them. */
export function simulatedJob(maxIterations: number): JobConfig {
  return {
    model: { kind: 'mlp', inputShape: [20], hidden: [16], classes: 4 },
    dataset: { kind: 'synthetic', seed: 5, examples: 6400, features: 20, classes: 4, split: 'train' },
    optimizer: { kind: 'sgd', lr: 0.1 },
    batchSize: 64,
    epochs: 1,
    seed: 1,
    maxIterations,
    evaluate: false,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A CPU: work queued on it runs one piece at a time. */
export class Cpu {
  private chain: Promise<void> = Promise.resolve();
  run(ms: number): Promise<void> {
    const done = this.chain.then(() => sleep(ms));
    this.chain = done;
    return done;
  }
}

export interface SimulatedOptions {
  id: string;
  /** 'thread': the run's own worker; 'peer': a volunteer. */
  kind: 'thread' | 'peer';
  job: JobConfig;
  /** Where its compute runs: `fixedMs` per shard and `msPerExample` per example. */
  cpu: Cpu;
  fixedMs: number;
  msPerExample: number;
  /** Work on another CPU before each shard (the coordinator's sends, on the host's CPU). */
  before?: { cpu: Cpu; ms: number };
  /** Extra time on its k-th shard, from 0 (a shard delayed on a loaded machine). */
  extraMs?: (k: number) => number;
}

export function simulatedWorker(o: SimulatedOptions): WorkerHandle {
  let paramCount = 0;
  let shards = 0;
  let end: (r: string) => void = () => {};
  const closed = new Promise<string>((r) => {
    end = r;
  });
  return {
    id: o.id,
    kind: o.kind,
    inlineWeights: true,
    closed,
    async init(init) {
      paramCount = init.task.paramCount;
      const sizes = datasetSizes(o.job.dataset) ?? { train: 0, test: 0 };
      return {
        backend: 'cpu',
        skipped: [],
        layout: init.task.layout,
        paramCount,
        trainSize: sizes.train,
        testSize: sizes.test,
      };
    },
    async setWeights() {
      return undefined;
    },
    async compute(req) {
      const n = req.indices.length;
      if (o.before) await o.before.cpu.run(o.before.ms);
      await o.cpu.run(o.fixedMs + n * o.msPerExample + (o.extraMs?.(shards++) ?? 0));
      return {
        iteration: req.iteration,
        version: req.version,
        shardId: req.shardId,
        gradSum: new Float32Array(paramCount),
        lossSum: n,
        correct: 0,
        count: n,
        computeMs: n * o.msPerExample,
        backend: 'cpu',
      };
    },
    async evaluate(req) {
      return { lossSum: req.indices.length, correct: 0, count: req.indices.length };
    },
    async memory() {
      return { numTensors: 0, numBytes: 0 };
    },
    async close(reason) {
      end(reason);
    },
  };
}
