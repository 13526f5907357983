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

/** The first `n` chunks of a three-chunk message of `total` bytes, as msgId 1000 (after hello's 0). */
const chunksOf = (total: number, n = 1) =>
  frameMessage(new Uint8Array(total), 1000, 20 + Math.ceil(total / 3)).slice(0, n);
const startOf = (total: number) => chunksOf(total)[0];

describe('unfinished messages on the host', () => {
  it('a partial message expires: the peer is disconnected, not banned, and its bytes are freed', async () => {
    const { server, room, host, events, members } = await setup({ partialTimeoutMs: 300 });
    const p = await accepted(server.wsUrl, room.token, 'k'.repeat(20), events);
    p.channel.send(startOf(200_000));
    // what arrived is held: one chunk of the three
    await until(() => host.bytesInFlight === 66_667, 3000, 'the partial message held');
    // nothing more arrives: the link's timer finds it (the close reason is cut at 123 bytes)
    expect(await p.signal.closed).toMatch(/removed by the coordinator: .*unfinished after \d+ ms \(1 of 3 chunks/);
    expect(host.bytesInFlight).toBe(0);
    expect(members()).toBe(0);
    // not a ban: the same identity may join again
    const again = await accepted(server.wsUrl, room.token, 'k'.repeat(20), events);
    expect(again.id).not.toBe(p.id);
  });

  it('all peers together hold at most reassemblyBytes of what arrived; the one that would go over is disconnected', async () => {
    const { server, room, host, events } = await setup({ reassemblyBytes: 300_000 });
    const a = await accepted(server.wsUrl, room.token, 'a'.repeat(20), events);
    const b = await accepted(server.wsUrl, room.token, 'b'.repeat(20), events);
    for (const c of chunksOf(400_000, 2)) a.channel.send(c);
    await until(() => host.bytesInFlight === 266_668, 3000, 'a holds two chunks');
    b.channel.send(startOf(400_000));
    expect(await b.signal.closed).toMatch(/the host holds 266668 bytes of/);
    expect(host.bytesInFlight).toBe(266_668);
    a.signal.close();
    await until(() => host.bytesInFlight === 0, 3000, 'a gone, its bytes freed');
    expect(events.filter((e) => e.type === 'left').map((e) => e.id)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it('peers declaring messages far larger than the run needs are removed at their first chunk; an honest peer stays', async () => {
    // the run's largest peer message: a result of this model's size (Trainer.peerMessageBytes)
    const run = { addWorker: async () => {}, on: () => () => {}, peerMessageBytes: () => 500_000 };
    const { server, room, host, events, members } = await setup({ trainer: run });
    const honest = await accepted(server.wsUrl, room.token, 'h'.repeat(20), events);
    const declarers = [];
    for (let k = 0; k < 8; k++) declarers.push(await accepted(server.wsUrl, room.token, `${k}`.repeat(20), events));
    // one 100 kB chunk each, of a message that says it is 2 MB long
    const declared = frameMessage(new Uint8Array(2_000_000), 1000, 20 + 100_000)[0];
    for (const d of declarers) d.channel.send(declared);
    for (const d of declarers) expect(await d.signal.closed).toMatch(/removed by the coordinator/);
    const left = events.filter((e) => e.type === 'left' || e.type === 'rejected');
    for (const d of declarers)
      expect(left.some((e) => e.id === d.id && /exceeds the limit of 500000/.test(e.reason ?? ''))).toBe(true);
    expect(host.bytesInFlight).toBe(0);
    // the honest peer's own multi-chunk message is still taken whole (bytes held, then freed)
    for (const c of chunksOf(400_000, 2)) honest.channel.send(c);
    await until(() => host.bytesInFlight === 266_668, 3000, 'the honest message held');
    expect(members()).toBe(1);
    expect(
      events
        .filter((e) => e.type === 'left')
        .map((e) => e.id)
        .sort(),
    ).toEqual(declarers.map((d) => d.id).sort());
  });
});
