/**
 * The browser entry of @gradroom/coordinator (`@gradroom/coordinator/browser`): the trainer, job
 * types, checkpoints (in memory or IndexedDB), Web Worker transport and events. Nothing here imports
 * a node: module, so a bundler can build it for a page as is. RoomHost hosts a training room from a
 * browser tab (the demo's host page): pass it the page's WebSocket and simple-peer's browser build.
 */
export * from './checkpoint.js';
export { type IndexedDbCheckpointOptions, IndexedDbCheckpointStore } from './checkpoint-idb.js';
export { Emitter } from './emitter.js';
export type * from './events.js';
export { describeEpoch, describeScore, type EpochRecord, type MetricName, type SplitScore } from './history.js';
export { DEFAULT_JOB, type JobConfig, validateJob } from './job.js';
export {
  isLayersModel,
  type LayersModelLike,
  type LayersTopologyInput,
  type ModelInput,
  modelSpecOf,
  weightsOfModel,
} from './model-input.js';
export { type PoolOptions, WorkerPool } from './pool.js';
export { type ClassAccuracy, ClassData, type ClassDataReport, type ClassThumbnail } from './room/class-data.js';
export {
  type PeerEvent,
  RoomHost,
  type RoomHostOptions,
  type TrainerLike,
} from './room/host.js';
export { type SessionOptions, WorkerSession } from './session.js';
export type { JobInput } from './trainer.js';
export {
  type ModelExporter,
  type ModelExportOptions,
  Trainer,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export type { ClassDataEvent, PeerWorkerHandle } from './transports/peer.js';
export { spawnWebWorker, type WebWorkerOptions } from './transports/web-worker.js';
export { closeGuard, WeightsSnapshot, WorkerGoneError, type WorkerHandle, type WorkerKind } from './worker-handle.js';
