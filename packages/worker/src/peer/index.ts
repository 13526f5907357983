// The volunteer's side of a room. The room's wire (FramedLink, WebRTC channels, the signalling
// protocol) lives in @gradroom/core; it is re-exported here for volunteer pages that import it from
// this entry.
export {
  addRoute,
  CLIENT_KEY,
  CLOSE,
  type ClientMessage,
  FramedLink,
  type FramedLinkOptions,
  type IceServer,
  MAX_NAME_LENGTH,
  MAX_PEER_ID_LENGTH,
  MAX_REASON_LENGTH,
  MAX_SECRET_LENGTH,
  onListenerError,
  parseClientMessage,
  parseServerMessage,
  pollLow,
  type RawChannel,
  type RtcDeps,
  reportListenerError,
  type ServerMessage,
  SignalClient,
  type SimplePeerCtor,
  type SimplePeerLike,
  simplePeerChannel,
  splitRoute,
  type WebSocketCtor,
  type WebSocketLike,
} from '@gradroom/core';
export * from './browser.js';
export * from './volunteer.js';
