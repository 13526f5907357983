// The room's wire: the framed message link over a data channel or relay, WebRTC through simple-peer,
// and the room server's signalling protocol (schema, checks, client). Shared by the room server, the
// room host and volunteers.
export * from './channel.js';
export * from './rtc.js';
export * from './signal.js';
export * from './signal-check.js';
