export * from './checkpoint.js';
export { FileCheckpointStore } from './checkpoint-file.js';
export { Emitter } from './emitter.js';
export type * from './events.js';
export { DEFAULT_JOB, type JobConfig, validateJob } from './job.js';
export { type Member, type PoolOptions, WorkerPool } from './pool.js';
export { type TrainerOptions, type TrainResult, Trainer } from './trainer.js';
export { spawnThreadWorker, type ThreadOptions } from './transports/thread.js';
export { raceClosed, WorkerGoneError, type WorkerHandle, type WorkerKind } from './worker-handle.js';
