export type * from './api.js';
export {
  type AdapterVerdict,
  type BackendOptions,
  type BackendReport,
  classifyAdapter,
  type GpuAdapterLike,
  type GpuWork,
  selectBackend,
  watchGpuWork,
} from './backends.js';
export * from './catalog.js';
export * from './data/index.js';
export type { LocalData } from './local-data.js';
export { buildModel, bytesPerExample, modelLayout } from './models.js';
export { checkOwnExamples, type DigitCounts, digitCounts, OWN_SHARE, type OwnExamples } from './own-data.js';
export { type EvalSums, ShardComputer, type ShardSums, shardRows } from './shard.js';
export { ShardWorker } from './shard-worker.js';
