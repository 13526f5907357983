export { type ClassAccuracy, ClassData, type ClassDataReport, type ClassThumbnail } from './class-data.js';
export { type PeerEvent, RoomHost, type RoomHostOptions, type TrainerLike } from './host.js';
export { hostRoom, nodeRtc } from './node.js';
export { type RateLimit, type RoomInfo, RoomServer, type RoomServerOptions } from './server.js';
export { constantTimeEqual, randomToken } from './tokens.js';
