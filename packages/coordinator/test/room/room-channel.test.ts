/**
 * The framed channel over a real WebRTC data channel in Node (simple-peer + @roamhq/wrtc) and over
 * the room server's relay: 32 MB of protocol messages arrive intact and in order, no chunk exceeds
 * the channel's maxMessageSize (one byte over silently kills a wrtc channel), and the channel's
 * buffer stays under the high-water mark (the browser's send queue is capped at 16 MiB).
 */
import {
  FramedLink,
  type Message,
  PROTOCOL_VERSION,
  type RawChannel,
  type ServerMessage,
  SignalClient,
  simplePeerChannel,
  type WebSocketCtor,
} from '@gradroom/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';

const HIGH = 1024 * 1024;
const MESSAGES = 8;
const FLOATS = 1 << 20;

/**
 * Wraps a channel to record the largest chunk sent, the largest bufferedAmount seen before a send,
 * and how often the link read bufferedAmount (each read is a call into wrtc's own thread).
 */
function watched(raw: RawChannel) {
  const seen = { maxChunk: 0, maxBuffered: 0, reads: 0, sends: 0 };
  const ch: RawChannel = {
    maxMessageSize: raw.maxMessageSize,
    get bufferedAmount() {
      seen.reads++;
      return raw.bufferedAmount;
    },
    send(chunk) {
      seen.sends++;
      seen.maxChunk = Math.max(seen.maxChunk, chunk.length);
      seen.maxBuffered = Math.max(seen.maxBuffered, raw.bufferedAmount);
      raw.send(chunk);
    },
    waitLow: (low) => raw.waitLow(low),
    onMessage: (fn) => raw.onMessage(fn),
    closed: raw.closed,
    close: (r) => raw.close(r),
  };
  return { ch, seen };
}

/** Two simple-peer ends in this process over real WebRTC (@roamhq/wrtc), connected. */
async function connectedPair() {
  const { SimplePeer, wrtc } = nodeRtc();
  const a = new SimplePeer({ initiator: true, wrtc });
  const b = new SimplePeer({ initiator: false, wrtc });
  a.on('signal', (d) => b.signal(d));
  b.on('signal', (d) => a.signal(d));
  await Promise.all([a, b].map((p) => new Promise<void>((r) => p.on('connect', r))));
  return [a, b] as const;
}

async function pump(sender: RawChannel, receiver: RawChannel) {
  const { ch, seen } = watched(sender);
  const out = new FramedLink(ch, { highWater: HIGH, lowWater: HIGH / 4 });
  const inn = new FramedLink(receiver);
  const got: Message[] = [];
  const all = new Promise<void>((resolve, reject) => {
    inn.onMessage((m) => {
      got.push(m);
      if (got.length === MESSAGES) resolve();
    });
    inn.onError(reject);
  });
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const w = new Float32Array(FLOATS);
    for (let j = 0; j < FLOATS; j += 4096) w[j] = i + j;
    void out.send({ v: PROTOCOL_VERSION, type: 'weights', version: i, weights: w });
  }
  await all;
  const ms = performance.now() - t0;
  got.forEach((m, i) => {
    expect(m.type).toBe('weights');
    if (m.type !== 'weights') return;
    expect(m.version).toBe(i);
    expect(m.weights.length).toBe(FLOATS);
    for (let j = 0; j < FLOATS; j += 4096) expect(m.weights[j]).toBe(Math.fround(i + j));
  });
  expect(seen.maxChunk).toBeLessThanOrEqual(sender.maxMessageSize);
  expect(seen.maxBuffered).toBeLessThanOrEqual(HIGH + sender.maxMessageSize);
  return { ms, seen };
}

describe('the framed channel with backpressure', () => {
  let server: RoomServer;
  beforeAll(async () => {
    server = await RoomServer.start({ port: 0, log: () => {} });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('over real WebRTC (@roamhq/wrtc): 32 MB intact, chunks <= 262144, buffer under the high-water mark', async () => {
    const [a, b] = await connectedPair();
    const ca = simplePeerChannel(a);
    const cb = simplePeerChannel(b);
    expect(ca.maxMessageSize).toBe(262144);
    const { seen } = await pump(ca, cb);
    // the buffer really filled up, so the backpressure was exercised
    expect(seen.maxBuffered).toBeGreaterThan(HIGH / 2);
    ca.close('done');
    expect(await cb.closed).toMatch(/closed/);
  });

  it('small messages (heartbeats, progress) read bufferedAmount rarely, not once a send', async () => {
    const [a, b] = await connectedPair();
    const { ch, seen } = watched(simplePeerChannel(a));
    const out = new FramedLink(ch, { highWater: HIGH, lowWater: HIGH / 4 });
    const inn = new FramedLink(simplePeerChannel(b));
    const N = 300;
    const got: number[] = [];
    const all = new Promise<void>((resolve) =>
      inn.onMessage((m) => {
        if (m.type === 'heartbeat') got.push(m.t);
        if (got.length === N) resolve();
      }),
    );
    for (let i = 0; i < N; i++) await out.send({ v: PROTOCOL_VERSION, type: 'heartbeat', t: i });
    await all;
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(seen.sends).toBe(N);
    // a bound (last figure read + bytes sent since) stands in until it nears the high-water mark
    expect(seen.reads).toBeLessThanOrEqual(2);
    a.destroy();
    b.destroy();
  });

  it("over the room server's relay: 32 MB intact", async () => {
    const room = server.createRoom();
    const WS = WebSocket as unknown as WebSocketCtor;
    const host = await SignalClient.connect(server.wsUrl, WS, true);
    const hostReady = new Promise<void>((r) => host.onMessage((m) => m.t === 'hosting' && r()));
    host.send({ t: 'host', token: room.token, hostKey: room.hostKey });
    await hostReady;
    const peer = await SignalClient.connect(server.wsUrl, WS, false);
    const joined = new Promise<ServerMessage>((r) => peer.onMessage(r));
    const relayed = new Promise<string>((r) => host.onMessage((m) => m.t === 'relay' && r(m.from)));
    peer.send({ t: 'join', token: room.token, name: 'relay-test' });
    const j = await joined;
    expect(j.t).toBe('joined');
    peer.send({ t: 'relay' });
    const id = await relayed;
    await pump(peer.relayChannel(undefined, 262144), host.relayChannel(id, 262144));
    peer.close();
    host.close();
  });
});
