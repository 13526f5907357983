/**
 * The room server's control messages are checked like the wire protocol: one table per type, unknown
 * fields refused, a reason that names the field. Fuzzed with fast-check: nothing but a typed
 * BAD_MESSAGE ever comes out, and a real server answers every bad message with a reason and lives on.
 */
import {
  GradroomError,
  parseClientMessage,
  parseServerMessage,
  type ServerMessage,
  SignalClient,
  type WebSocketCtor,
} from '@gradroom/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomServer } from '../../src/room/server.js';

const WS = WebSocket as unknown as WebSocketCtor;
const servers: RoomServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const reason = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GradroomError);
    expect((e as GradroomError).code).toBe('BAD_MESSAGE');
    return (e as Error).message;
  }
  return 'accepted';
};
const client = (v: unknown) => reason(() => parseClientMessage(JSON.stringify(v)));
const server = (v: unknown) => reason(() => parseServerMessage(JSON.stringify(v)));

describe('signalling messages', () => {
  it('accepts exactly the messages of the protocol', () => {
    const T = 'x'.repeat(27);
    for (const m of [
      { t: 'join', token: T },
      { t: 'join', token: T, name: 'Ana', key: 'k'.repeat(22) },
      { t: 'host', token: T, hostKey: T },
      { t: 'signal', data: { type: 'offer', sdp: 'v=0' } },
      { t: 'signal', to: 'p1', data: { candidate: { candidate: 'a', sdpMLineIndex: 0, sdpMid: '0' } } },
      { t: 'relay' },
      { t: 'kick', peer: 'p1', reason: '', ban: true },
    ]) {
      expect(client(m), JSON.stringify(m)).toBe('accepted');
      expect(parseClientMessage(JSON.stringify(m))).toEqual(m);
    }
    for (const m of [
      {
        t: 'joined',
        peerId: 'p1',
        iceServers: [{ urls: 'turn:h:3478', username: 'u', credential: 'c' }],
        maxChunk: 262144,
      },
      { t: 'hosting', iceServers: [{ urls: ['stun:h', 'turns:h:5349'] }], maxChunk: 65536 },
      { t: 'peer', peerId: 'p1', name: 'Ana' },
      { t: 'gone', peerId: 'p1', reason: 'closed (1006)' },
      { t: 'signal', from: 'host', data: { type: 'answer', sdp: 'v=0' } },
      { t: 'relay', from: 'p2' },
      { t: 'rejected', reason: 'the room is full' },
      { t: 'closed', reason: 'the coordinator left' },
    ] satisfies ServerMessage[]) {
      expect(server(m), JSON.stringify(m)).toBe('accepted');
    }
  });

  it('refuses everything else with a reason that names the field', () => {
    const T = 'x'.repeat(27);
    const cases: [unknown, RegExp][] = [
      [{ t: 'join', token: 12 }, /^join\.token must be a string of 1 to 256 chars$/],
      [{ t: 'join', token: '' }, /^join\.token must be/],
      [{ t: 'join', token: 'x'.repeat(257) }, /^join\.token must be/],
      [{ t: 'join', token: T, key: 'short' }, /^join\.key must be 16 to 64 letters/],
      [{ t: 'join', token: T, key: `${'k'.repeat(15)}/` }, /^join\.key must be/],
      [{ t: 'join', token: T, name: 'n'.repeat(201) }, /^join\.name must be/],
      [{ t: 'join', token: T, admin: true }, /^join\.admin must be absent \(unknown field\)$/],
      [{ t: 'host', token: T }, /^host\.hostKey must be present$/],
      [{ t: 'signal', data: 'offer' }, /^signal\.data must be an object$/],
      [{ t: 'signal', data: [1] }, /^signal\.data must be an object$/],
      [{ t: 'signal', data: { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } } }, /nested at most 8 deep/],
      [{ t: 'signal', data: { list: Array(3000).fill(0) } }, /^signal\.data must be at most 2000 values$/],
      [{ t: 'kick', peer: 'p1' }, /^kick\.reason must be present$/],
      [{ t: 'kick', peer: 'p1', reason: 'x', ban: 'yes' }, /^kick\.ban must be true or false$/],
      [{ t: 'peer' }, /^client message\.t must be one of join, host, signal, relay, kick$/],
      [{ t: '__proto__' }, /^client message\.t must be one of/],
      [{ t: 'toString' }, /^client message\.t must be one of/],
      [[], /^client message must be a JSON object$/],
      [null, /^client message must be a JSON object$/],
    ];
    for (const [m, why] of cases) expect(client(m), JSON.stringify(m)).toMatch(why);
    expect(reason(() => parseClientMessage('{"t":"join",'))).toBe('client message must be JSON');
    expect(reason(() => parseClientMessage('x'.repeat(100), 50))).toBe('client message must be at most 50 chars');
    expect(server({ t: 'joined', peerId: 'p1', iceServers: [], maxChunk: 1e9 })).toMatch(
      /^joined\.maxChunk must be an integer in \[64, 262144\]$/,
    );
    expect(server({ t: 'hosting', iceServers: [{ urls: 'http://evil' }], maxChunk: 1024 })).toMatch(
      /^hosting\.iceServers\[0\]\.urls must be a stun:, turn: or turns: URL$/,
    );
    expect(server({ t: 'joined', peerId: 'p1', iceServers: [{ urls: 'stun:h', x: 1 }], maxChunk: 1024 })).toMatch(
      /^joined\.iceServers\[0\]\.x must be absent/,
    );
  });

  it('fuzz: any JSON value or text gives a checked message or a BAD_MESSAGE, never anything else', () => {
    const messageLike = fc.record(
      {
        t: fc.constantFrom('join', 'host', 'signal', 'relay', 'kick', 'joined', 'peer', 'x'),
        token: fc.oneof(fc.string(), fc.integer()),
        hostKey: fc.string(),
        name: fc.oneof(fc.string(), fc.constant(null)),
        key: fc.string(),
        to: fc.string(),
        peer: fc.string(),
        reason: fc.string(),
        ban: fc.oneof(fc.boolean(), fc.string()),
        data: fc.jsonValue({ maxDepth: 10 }),
      },
      { requiredKeys: ['t'] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), messageLike), (v) => {
        const text = JSON.stringify(v) ?? 'null';
        for (const parse of [parseClientMessage, parseServerMessage]) {
          let m: { t: string } | undefined;
          try {
            m = parse(text);
          } catch (e) {
            expect(e).toBeInstanceOf(GradroomError);
            expect((e as GradroomError).code).toBe('BAD_MESSAGE');
            continue;
          }
          // what passes is exactly what was sent, and a known type
          expect(m).toEqual(JSON.parse(text));
          expect(typeof m.t).toBe('string');
        }
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        for (const parse of [parseClientMessage, parseServerMessage]) {
          try {
            parse(s);
          } catch (e) {
            expect((e as GradroomError).code).toBe('BAD_MESSAGE');
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a real server answers 200 fuzzed control messages with a reason each, and keeps serving', async () => {
    const log: string[] = [];
    const s = await RoomServer.start({ port: 0, log: (l) => log.push(l) });
    servers.push(s);
    const room = s.createRoom();
    const samples = fc.sample(fc.oneof(fc.jsonValue(), fc.string({ unit: 'binary' })), { numRuns: 200, seed: 7 });
    const closes = await Promise.all(
      samples.map(async (v) => {
        const ws = new WebSocket(s.wsUrl);
        await new Promise((r) => ws.once('open', r));
        const closed = new Promise<[number, string]>((r) => ws.once('close', (c, why) => r([c, why.toString()])));
        ws.send(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null'));
        return closed;
      }),
    );
    for (const [code, why] of closes) {
      // 4006: malformed; 4001: a well-formed join or host with a wrong token
      expect([4006, 4001]).toContain(code);
      expect(why).toMatch(/^malformed control message: .+ must be |^unknown room|^'\w+' before joining/);
    }
    const host = await SignalClient.connect(s.wsUrl, WS, true);
    const reply = new Promise<ServerMessage>((r) => host.onMessage(r));
    host.send({ t: 'host', token: room.token, hostKey: room.hostKey });
    expect((await reply).t).toBe('hosting');
    host.close();
  });
});
