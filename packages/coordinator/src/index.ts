export { FileCheckpointStore } from './checkpoint-file.js';
export * from './common.js';
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
export {
  type ClassDataEvent,
  type PeerHandleOptions,
  type PeerWorkerHandle,
  peerWorkerHandle,
} from './transports/peer.js';
export { spawnThreadWorker, type ThreadOptions } from './transports/thread.js';
