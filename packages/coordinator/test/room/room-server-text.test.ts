/**
 * Terminal and log injection: what a peer names itself, the backends it claims, the reasons it
 * gives, reach the server's log, the host's log and its events without control characters, and short.
 */
import { FramedLink, PROTOCOL_VERSION, type ServerMessage, SignalClient, type WebSocketCtor } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type PeerEvent, RoomHost } from '../../src/room/host.js';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { until } from './helpers.js';

const WS = WebSocket as unknown as WebSocketCtor;
// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach a log
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const EVIL = '\u001b[2J\u001b[H\u001b]0;pwned\u0007mallory\r\n2026-01-01T00:00:00.000Z [room 00000000] host left\u202e';

describe('peer text in logs and events', () => {
  it('names, backends and leave reasons arrive without control characters and capped', async () => {
    const serverLog: string[] = [];
    const server = await RoomServer.start({ port: 0, log: (l) => serverLog.push(l) });
    cleanup.push(() => server.close());
    const room = server.createRoom();
    const hostLog: string[] = [];
    const events: PeerEvent[] = [];
    const host = await RoomHost.open({
      ...nodeRtc(),
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      log: (l) => hostLog.push(l),
    });
    cleanup.push(() => host.close());
    host.on('peer', (e) => events.push(e));

    const signal = await SignalClient.connect(server.wsUrl, WS, false);
    const first = await new Promise<ServerMessage>((resolve) => {
      signal.onMessage(resolve);
      signal.send({ t: 'join', token: room.token, name: EVIL });
    });
    if (first.t !== 'joined') throw new Error(`refused: ${JSON.stringify(first)}`);
    signal.send({ t: 'relay' });
    const link = new FramedLink(signal.relayChannel(undefined, first.maxChunk));
    await link.send({
      v: PROTOCOL_VERSION,
      type: 'hello',
      token: room.token,
      name: `${EVIL}${'x'.repeat(150)}`,
      backends: [EVIL, 'wasm'],
    });
    await until(() => events.some((e) => e.type === 'accepted'), 5000, 'accepted');
    await link.send({ v: PROTOCOL_VERSION, type: 'leave', reason: `${EVIL}${'y'.repeat(5000)}` });
    await until(() => events.some((e) => e.type === 'left'), 5000, 'left');
    await until(() => serverLog.some((l) => /removed by the host/.test(l)), 5000, 'kicked on the server');

    const lines = [...serverLog, ...hostLog, ...events.map((e) => `${e.name} ${e.reason ?? ''}`)];
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(CONTROL.test(line), JSON.stringify(line)).toBe(false);
      expect(line.length, line).toBeLessThan(700);
    }
    // the text is still there, only harmless: what was said can be read
    expect(hostLog.some((l) => /accepted via relay, backends \[\[2J \[H \]0;pwned mallory/.test(l))).toBe(true);
    expect(events.find((e) => e.type === 'accepted')?.name).toHaveLength(40);
  });
});
