/**
 * What both entries of @gradroom/coordinator export (index.ts for Node, browser.ts for pages): the
 * trainer, jobs, checkpoints in memory, events, the pool and the worker handle. Nothing here
 * imports a node: module.
 */
export * from './checkpoint.js';
export { Emitter } from './emitter.js';
export type * from './events.js';
export { describeEpoch, describeScore, type EpochRecord, type MetricName, type SplitScore } from './history.js';
export { DEFAULT_JOB, INNER_SCALES, type InnerScale, type JobConfig, PEER_COMPRESS, validateJob } from './job.js';
export {
  isLayersModel,
  type LayersModelLike,
  type LayersTopologyInput,
  type ModelInput,
  modelSpecOf,
  weightsOfModel,
} from './model-input.js';
export { type PoolOptions, WorkerPool } from './pool.js';
export { type SessionOptions, WorkerSession } from './session.js';
export type {
  DatasetInput,
  TensorLike,
  TensorSplit,
  TensorsDatasetInput,
} from './tensor-input.js';
export { DEFAULT_MAX_EXAMPLES, fromTfDataset, type TfDatasetLike, type TfDatasetOptions } from './tf-dataset.js';
export type { JobInput } from './trainer.js';
export {
  type ModelExporter,
  type ModelExportOptions,
  Trainer,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export { closeGuard, WeightsSnapshot, WorkerGoneError, type WorkerHandle, type WorkerKind } from './worker-handle.js';
