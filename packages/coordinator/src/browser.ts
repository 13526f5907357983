/**
 * The browser entry of @gradroom/coordinator (`@gradroom/coordinator/browser`): the trainer, job
 * types, checkpoints (in memory or IndexedDB), Web Worker transport and events. Nothing here imports
 * a node: module, so a bundler can build it for a page as is. RoomHost hosts a training room from a
 * browser tab (the demo's host page): pass it the page's WebSocket and simple-peer's browser build.
 */
export { type IndexedDbCheckpointOptions, IndexedDbCheckpointStore } from './checkpoint-idb.js';
export * from './common.js';
export { type ClassAccuracy, ClassData, type ClassDataReport, type ClassThumbnail } from './room/class-data.js';
export {
  type PeerEvent,
  RoomHost,
  type RoomHostOptions,
  type TrainerLike,
} from './room/host.js';
export type { ClassDataEvent, PeerWorkerHandle } from './transports/peer.js';
export { spawnWebWorker, type WebWorkerOptions } from './transports/web-worker.js';
