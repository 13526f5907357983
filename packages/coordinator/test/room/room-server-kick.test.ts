/**
 * Rule-breakers leave the room: every close on the host's side frees the seat on the server, and a
 * ban (a kick for breaking the rules) sticks: the same identity key is refused for the room's life,
 * the same address for banMs. A peer closed for being slow is not banned.
 */
import { FramedLink, PROTOCOL_VERSION, type ServerMessage, SignalClient, type WebSocketCtor } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomHost } from '../../src/room/host.js';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';
import { until } from './helpers.js';

const WS = WebSocket as unknown as WebSocketCtor;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(opts: RoomServerOptions = {}) {
  const log: string[] = [];
  const server = await RoomServer.start({ port: 0, log: (l) => log.push(l), ...opts });
  cleanup.push(() => server.close());
  const room = server.createRoom();
  const hostLog: string[] = [];
  const host = await RoomHost.open({
    ...nodeRtc(),
    url: server.wsUrl,
    token: room.token,
    hostKey: room.hostKey,
    helloTimeoutMs: 400,
    log: (l) => hostLog.push(l),
  });
  cleanup.push(() => host.close());
  const members = () => [...server.rooms.values()][0].members.size;
  return { server, room, host, log, hostLog, members };
}

/** A peer over the relay that says hello properly; returns its link to misbehave on. */
async function peer(url: string, token: string, key?: string, hello = true) {
  const signal = await SignalClient.connect(url, WS, false);
  const first = await new Promise<ServerMessage>((resolve) => {
    signal.onMessage(resolve);
    signal.send({ t: 'join', token, name: 'p', key });
  });
  if (first.t !== 'joined') return { refused: first.t === 'rejected' ? first.reason : first.t, signal };
  signal.send({ t: 'relay' });
  const link = new FramedLink(signal.relayChannel(undefined, first.maxChunk));
  if (hello) await link.send({ v: PROTOCOL_VERSION, type: 'hello', token, name: 'p', backends: [] });
  return { refused: '', signal, link, id: first.peerId };
}

const KEY_A = 'aaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'bbbbbbbbbbbbbbbbbbbbbb';

describe('kicks free the seat and bans stick', () => {
  it('a peer that breaks the protocol after hello is removed from the room, and its key cannot rejoin', async () => {
    const { room, server, host, log, members } = await setup({ maxPeersPerRoom: 1 });
    const accepted: string[] = [];
    host.on('peer', (e) => e.type === 'accepted' && accepted.push(e.id));
    const bad = await peer(server.wsUrl, room.token, KEY_A);
    await until(() => accepted.length === 1, 5000, 'the peer accepted');
    // a message peers never send: the peer handle closes it for a violation
    await bad.link?.send({
      v: PROTOCOL_VERSION,
      type: 'assign',
      iteration: 0,
      version: 0,
      shardId: 0,
      indices: new Uint32Array(1),
    });
    expect(await bad.signal.closed).toMatch(/removed by the coordinator: disconnected: sent a 'assign' message/);
    expect(members()).toBe(0);
    expect(log.some((l) => /removed by the host and banned/.test(l))).toBe(true);
    // the seat is free: another peer joins the full-at-one room
    const next = await peer(server.wsUrl, room.token, KEY_B);
    expect(next.refused).toBe('');
    next.signal.close();
    await until(() => members() === 0, 3000, 'the next peer gone');
    // the banned identity is refused, for as long as the room lives
    const again = await peer(server.wsUrl, room.token, KEY_A);
    expect(again.refused).toBe('you were removed from this room');
  });

  it('a peer closed for silence frees its seat but is not banned', async () => {
    const { room, server, log, members } = await setup({ maxPeersPerRoom: 1 });
    // joins the server, never says hello: the host's hello timeout (400 ms) closes it
    const slow = await peer(server.wsUrl, room.token, KEY_A, false);
    expect(await slow.signal.closed).toMatch(/removed by the coordinator: no hello in time/);
    expect(members()).toBe(0);
    expect(log.some((l) => /removed by the host: no hello in time/.test(l))).toBe(true);
    const back = await peer(server.wsUrl, room.token, KEY_A);
    expect(back.refused).toBe('');
  });

  it("with banMs, a rule-breaker's address is refused for that long, whatever key it presents", async () => {
    const { room, server, host, members } = await setup({ banMs: 600 });
    const accepted: string[] = [];
    host.on('peer', (e) => e.type === 'accepted' && accepted.push(e.id));
    const bad = await peer(server.wsUrl, room.token, KEY_A);
    await until(() => accepted.length === 1, 5000, 'the peer accepted');
    await bad.link?.send({
      v: PROTOCOL_VERSION,
      type: 'assign',
      iteration: 0,
      version: 0,
      shardId: 0,
      indices: new Uint32Array(1),
    });
    await bad.signal.closed;
    expect(members()).toBe(0);
    const fresh = await peer(server.wsUrl, room.token, KEY_B);
    expect(fresh.refused).toMatch(/^your address was removed from this room; try again in 1 s$/);
    await new Promise((r) => setTimeout(r, 700));
    const later = await peer(server.wsUrl, room.token, KEY_B);
    expect(later.refused).toBe('');
  });
});
