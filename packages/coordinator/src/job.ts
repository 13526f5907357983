/** The serializable description of one training run, and its defaults. */
import {
  createOptimizer,
  type DatasetSpec,
  GradroomError,
  type ModelSpec,
  type OptimizerConfig,
  type ScheduleConfig,
  validateSchedule,
} from '@gradroom/core';

export interface JobConfig {
  model: ModelSpec;
  /** The data set; its `split` is ignored: training uses 'train', evaluation 'test'. */
  dataset: DatasetSpec;
  optimizer: OptimizerConfig;
  /** Learning-rate schedule; default: constant optimizer.lr. */
  schedule?: ScheduleConfig;
  batchSize: number;
  epochs: number;
  seed: number;
  /** Stop after this many iterations in all (tests, benchmarks); default: run all epochs. */
  maxIterations?: number;
  /** Evaluate on the test split after every epoch (default true). */
  evaluate?: boolean;
}

/** The product's default job (`npm start`): MNIST, a small MLP, Adam with 1/(1+decay*epoch) decay. */
export const DEFAULT_JOB: JobConfig = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  schedule: { kind: 'inverse-time', lr0: 0.005, decayRate: 0.3 },
  batchSize: 64,
  epochs: 5,
  seed: 1,
};

export function validateJob(job: JobConfig): void {
  const bad = (m: string) => {
    throw new GradroomError('BAD_CONFIG', m);
  };
  if (!Number.isInteger(job.batchSize) || job.batchSize <= 0)
    bad(`batchSize must be a positive integer, got ${job.batchSize}`);
  if (!Number.isInteger(job.epochs) || job.epochs <= 0) bad(`epochs must be a positive integer, got ${job.epochs}`);
  if (!Number.isInteger(job.seed) || job.seed < 0) bad(`seed must be a non-negative integer, got ${job.seed}`);
  if (job.maxIterations !== undefined && (!Number.isInteger(job.maxIterations) || job.maxIterations <= 0)) {
    bad(`maxIterations must be a positive integer, got ${job.maxIterations}`);
  }
  createOptimizer(job.optimizer); // validates the optimizer config
  if (job.schedule) validateSchedule(job.schedule);
}
