/**
 * Unfinished messages on the host: a peer that sends the start of a message and never the rest is
 * disconnected after partialTimeoutMs, and all peers together hold at most reassemblyBytes. Neither
 * is a ban (it may be a slow or unlucky peer), and the bytes are given back.
 */
import {
  FramedLink,
  frameMessage,
  PROTOCOL_VERSION,
  type RawChannel,
  type ServerMessage,
  SignalClient,
  type WebSocketCtor,
} from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type PeerEvent, RoomHost, type RoomHostOptions } from '../../src/room/host.js';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { until } from './helpers.js';

const WS = WebSocket as unknown as WebSocketCtor;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(opts: Partial<RoomHostOptions>) {
  const server = await RoomServer.start({ port: 0, log: () => {} });
  cleanup.push(() => server.close());
  const room = server.createRoom();
  const host = await RoomHost.open({
    ...nodeRtc(),
    url: server.wsUrl,
    token: room.token,
    hostKey: room.hostKey,
    ...opts,
  });
  cleanup.push(() => host.close());
  const events: PeerEvent[] = [];
  host.on('peer', (e) => events.push(e));
  const members = () => [...server.rooms.values()][0].members.size;
  return { server, room, host, events, members };
}

/** A peer over the relay, accepted by the host (hello sent); its raw channel to misbehave on. */
async function accepted(url: string, token: string, key: string, events: PeerEvent[]) {
  const signal = await SignalClient.connect(url, WS, false);
  const first = await new Promise<ServerMessage>((resolve) => {
    signal.onMessage(resolve);
    signal.send({ t: 'join', token, name: 'p', key });
  });
  if (first.t !== 'joined') throw new Error(`refused: ${JSON.stringify(first)}`);
  signal.send({ t: 'relay' });
  const channel: RawChannel = signal.relayChannel(undefined, first.maxChunk);
  const link = new FramedLink(channel);
  await link.send({ v: PROTOCOL_VERSION, type: 'hello', token, name: 'p', backends: [] });
  await until(() => events.some((e) => e.type === 'accepted' && e.id === first.peerId), 5000, 'accepted');
  return { signal, channel, id: first.peerId };
}

/** The first chunk of a three-chunk message of `total` bytes, as msgId 1000 (after hello's 0). */
const startOf = (total: number) => frameMessage(new Uint8Array(total), 1000, 20 + Math.ceil(total / 3))[0];

describe('unfinished messages on the host', () => {
  it('a partial message expires: the peer is disconnected, not banned, and its bytes are freed', async () => {
    const { server, room, host, events, members } = await setup({ partialTimeoutMs: 300 });
    const p = await accepted(server.wsUrl, room.token, 'k'.repeat(20), events);
    p.channel.send(startOf(200_000));
    await until(() => host.bytesInFlight === 200_000, 3000, 'the partial message held');
    // nothing more arrives: the link's timer finds it (the close reason is cut at 123 bytes)
    expect(await p.signal.closed).toMatch(/removed by the coordinator: .*unfinished after \d+ ms \(1 of 3 chunks/);
    expect(host.bytesInFlight).toBe(0);
    expect(members()).toBe(0);
    // not a ban: the same identity may join again
    const again = await accepted(server.wsUrl, room.token, 'k'.repeat(20), events);
    expect(again.id).not.toBe(p.id);
  });

  it('all peers together hold at most reassemblyBytes; the one that would go over is disconnected', async () => {
    const { server, room, host, events } = await setup({ reassemblyBytes: 300_000 });
    const a = await accepted(server.wsUrl, room.token, 'a'.repeat(20), events);
    const b = await accepted(server.wsUrl, room.token, 'b'.repeat(20), events);
    a.channel.send(startOf(200_000));
    await until(() => host.bytesInFlight === 200_000, 3000, 'a holds 200000 bytes');
    b.channel.send(startOf(200_000));
    expect(await b.signal.closed).toMatch(/the host holds 200000 bytes of/);
    expect(host.bytesInFlight).toBe(200_000);
    a.signal.close();
    await until(() => host.bytesInFlight === 0, 3000, 'a gone, its bytes freed');
    expect(events.filter((e) => e.type === 'left').map((e) => e.id)).toEqual(expect.arrayContaining([a.id, b.id]));
  });
});
