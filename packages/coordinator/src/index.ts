export * from './checkpoint.js';
export { FileCheckpointStore } from './checkpoint-file.js';
export { Emitter } from './emitter.js';
export type * from './events.js';
export { describeEpoch, describeScore, type EpochRecord, type MetricName, type SplitScore } from './history.js';
export { DEFAULT_JOB, INNER_SCALES, type InnerScale, type JobConfig, validateJob } from './job.js';
export {
  isLayersModel,
  type LayersModelLike,
  type LayersTopologyInput,
  type ModelInput,
  modelSpecOf,
  weightsOfModel,
} from './model-input.js';
export { type PoolOptions, WorkerPool } from './pool.js';
export {
  type ClassAccuracy,
  ClassData,
  type ClassDataReport,
  type ClassThumbnail,
  hostRoom,
  nodeRtc,
  type PeerEvent,
  RoomHost,
  type RoomHostOptions,
  type RoomInfo,
  RoomServer,
  type RoomServerOptions,
} from './room/index.js';
export { ISOLATION_HEADERS, staticFiles } from './server/static.js';
export { type SessionOptions, WorkerSession } from './session.js';
export type { JobInput } from './trainer.js';
export {
  type ModelExporter,
  type ModelExportOptions,
  Trainer,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export {
  type ClassDataEvent,
  type PeerHandleOptions,
  type PeerWorkerHandle,
  peerWorkerHandle,
} from './transports/peer.js';
export { spawnThreadWorker, type ThreadOptions } from './transports/thread.js';
export { closeGuard, WeightsSnapshot, WorkerGoneError, type WorkerHandle, type WorkerKind } from './worker-handle.js';
