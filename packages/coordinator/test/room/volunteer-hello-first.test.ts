/**
 * A volunteer sends nothing after its hello until the coordinator has answered. A Node host's WebRTC
 * binding (@roamhq/wrtc) can hand its JS side the first messages of a new data channel out of order
 * (those it cached while building the channel's object come after one that arrived meanwhile); a
 * Chromium tab's 'drawings' once reached a CI host before its 'hello', and the host banned the tab.
 * A scripted host (the real room server, its relay, a FramedLink) against a real volunteer.
 */
import {
  FramedLink,
  type Message,
  PROTOCOL_VERSION,
  type ServerMessage,
  SignalClient,
  type WebSocketCtor,
} from '@gradroom/core';
import { ShardWorker } from '@gradroom/worker';
import { readPackedFile } from '@gradroom/worker/node-thread';
import { Volunteer } from '@gradroom/worker/peer';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { until } from './helpers.js';

const WS = WebSocket as unknown as WebSocketCtor;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe("a volunteer's first messages", () => {
  it('hello alone until the coordinator speaks; then its drawings', { timeout: 30_000 }, async () => {
    const server = await RoomServer.start({ port: 0, log: () => {} });
    cleanup.push(() => server.close());
    const room = server.createRoom();
    // the scripted host: takes the relay of the first peer and records what arrives on it
    const signal = await SignalClient.connect(server.wsUrl, WS, true);
    cleanup.push(() => signal.close());
    const got: Message[] = [];
    let link: FramedLink | undefined;
    let maxChunk = 0;
    signal.onMessage((m: ServerMessage) => {
      if (m.t === 'hosting') maxChunk = m.maxChunk;
      if (m.t === 'relay') {
        link = new FramedLink(signal.relayChannel(m.from, maxChunk));
        link.onMessage((x) => got.push(x));
      }
    });
    signal.send({ t: 'host', token: room.token, hostKey: room.hostKey });
    await until(() => maxChunk > 0, 10_000, 'hosting');

    const v = new Volunteer({
      ...nodeRtc(),
      url: server.wsUrl,
      token: room.token,
      name: 'student',
      engine: new ShardWorker(readPackedFile),
      backends: ['cpu'],
      relay: 'always',
      heartbeatMs: 100, // its heartbeats, too, wait for the coordinator
    });
    cleanup.push(() => v.leave('test over'));
    // drawings set before it joins: they used to follow hello at once
    v.setDrawings({ counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 2], heldOut: new Array(10).fill(0) });
    await v.start();
    await until(() => got.length >= 1, 10_000, 'hello');
    await new Promise((r) => setTimeout(r, 600)); // six of its heartbeat ticks
    expect(got.map((m) => m.type)).toEqual(['hello']);

    // the coordinator speaks: the drawings follow
    await link?.send({ v: PROTOCOL_VERSION, type: 'heartbeat', t: Date.now() });
    await until(() => got.some((m) => m.type === 'drawings'), 10_000, 'drawings');
    const drawings = got.find((m) => m.type === 'drawings');
    expect(drawings).toMatchObject({ counts: [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] });
    expect(got[0].type).toBe('hello');
  });
});
