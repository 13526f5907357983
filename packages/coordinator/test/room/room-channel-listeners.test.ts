/**
 * A listener of ours that throws (a bug, or an application callback) never escapes into the
 * WebSocket or data channel's event loop, where it would end the process: it is logged, and the
 * peer it concerned is let go.
 */
import {
  FramedLink,
  onListenerError,
  PROTOCOL_VERSION,
  type RawChannel,
  type ServerMessage,
  SignalClient,
  type WebSocketCtor,
} from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomHost } from '../../src/room/host.js';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { until } from './helpers.js';

const WS = WebSocket as unknown as WebSocketCtor;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('listeners that throw', () => {
  it("the host's onPeer callback throws: logged, the peer let go, the room goes on", async () => {
    const server = await RoomServer.start({ port: 0, log: () => {} });
    cleanup.push(() => server.close());
    const room = server.createRoom();
    const hostLog: string[] = [];
    let calls = 0;
    const host = await RoomHost.open({
      ...nodeRtc(),
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      log: (l) => hostLog.push(l),
      onPeer: () => {
        calls++;
        throw new Error('the application broke');
      },
    });
    cleanup.push(() => host.close());
    const join = async () => {
      const signal = await SignalClient.connect(server.wsUrl, WS, false);
      const first = await new Promise<ServerMessage>((resolve) => {
        signal.onMessage(resolve);
        signal.send({ t: 'join', token: room.token, name: 'p' });
      });
      if (first.t !== 'joined') throw new Error('refused');
      signal.send({ t: 'relay' });
      const link = new FramedLink(signal.relayChannel(undefined, first.maxChunk));
      await link.send({ v: PROTOCOL_VERSION, type: 'hello', token: room.token, name: 'p', backends: [] });
      return signal;
    };
    const a = await join();
    expect(await a.closed).toMatch(
      /removed by the coordinator: handling peer p\d+'s hello failed: the application broke/,
    );
    expect(hostLog.some((l) => /handling peer p\d+'s hello failed: the application broke/.test(l))).toBe(true);
    // the host still works: the next peer gets as far as the callback again
    const b = await join();
    await b.closed;
    expect(calls).toBe(2);
  });

  it('a FramedLink message listener that throws is reported, and the link reads on', async () => {
    const reported: string[] = [];
    onListenerError((where, e) => reported.push(`${where}: ${(e as Error).message}`));
    cleanup.push(() => onListenerError((w, e) => console.error(w, e)));
    let deliver: (c: Uint8Array) => void = () => {};
    const raw: RawChannel = {
      maxMessageSize: 1024,
      bufferedAmount: 0,
      send: (c) => deliver(c),
      waitLow: async () => {},
      onMessage: (fn) => {
        deliver = fn;
      },
      closed: new Promise(() => {}),
      close: () => {},
    };
    const link = new FramedLink(raw);
    const got: number[] = [];
    link.onMessage((m) => {
      if (m.type === 'heartbeat') got.push(m.t);
      if (got.length === 1) throw new Error('first one breaks');
    });
    await link.send({ v: PROTOCOL_VERSION, type: 'heartbeat', t: 1 });
    await link.send({ v: PROTOCOL_VERSION, type: 'heartbeat', t: 2 });
    await until(() => got.length === 2, 2000, 'both heartbeats');
    expect(got).toEqual([1, 2]);
    expect(reported).toEqual(['link message: first one breaks']);
  });
});
