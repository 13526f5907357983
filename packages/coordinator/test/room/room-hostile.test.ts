/**
 * A hostile peer (a test client built from the real wire pieces) against a room in training: wrong
 * tokens, malformed control messages, garbage and oversized frames, a wrong protocol version, and
 * NaN gradients. Each attempt is rejected with a logged reason, nothing unauthenticated reaches the
 * coordinator, and the run ends with the serial loop's weights, exactly as without the attacker.
 */
import {
  encodeMessage,
  FramedLink,
  PROTOCOL_VERSION,
  type RawChannel,
  type ServerMessage,
  SignalClient,
  simplePeerChannel,
  type WebSocketCtor,
} from '@gradroom/core';
import { MNIST_SIZES } from '@gradroom/worker/catalog';
import { describe, expect, it, onTestFailed } from 'vitest';
import { WebSocket } from 'ws';
import type { PeerEvent } from '../../src/room/host.js';
import { hostRoom, nodeRtc } from '../../src/room/node.js';
import { Trainer } from '../../src/trainer.js';
import { relativeDifference } from '../reference/serial.js';
import { mnistJob, roomFixture, spawnPeer, until } from './helpers.js';

const ITERATIONS = 8;
const WS = WebSocket as unknown as WebSocketCtor;

interface Hostile {
  signal: SignalClient;
  peerId: string;
  channel: RawChannel;
}

/** Joins with `token` at the server; null and the server's reason when refused there. */
async function connect(url: string, token: string, via: 'relay' | 'direct'): Promise<Hostile | { refused: string }> {
  const signal = await SignalClient.connect(url, WS, false);
  const first = await new Promise<ServerMessage>((resolve) => {
    signal.onMessage(resolve);
    signal.send({ t: 'join', token, name: 'mallory' });
  });
  if (first.t !== 'joined') return { refused: first.t === 'rejected' ? first.reason : first.t };
  if (via === 'relay') {
    signal.send({ t: 'relay' });
    return { signal, peerId: first.peerId, channel: signal.relayChannel(undefined, first.maxChunk) };
  }
  const { SimplePeer, wrtc } = nodeRtc();
  const peer = new SimplePeer({ initiator: true, wrtc });
  signal.onMessage((m) => {
    if (m.t === 'signal') peer.signal(m.data);
  });
  peer.on('signal', (data) => signal.send({ t: 'signal', data }));
  await new Promise<void>((resolve, reject) => {
    peer.on('connect', resolve);
    peer.on('error', reject);
  });
  return { signal, peerId: first.peerId, channel: simplePeerChannel(peer) };
}

/** A chunk with a hand-made frame header (framing.ts: magic, version, msgId, index, count, total). */
function frameHeaderForTest(
  h: { msgId: number; index: number; count: number; total: number; payload: number },
  body?: Uint8Array,
): Uint8Array {
  const chunk = new Uint8Array(20 + h.payload);
  const view = new DataView(chunk.buffer);
  chunk[0] = 0x47;
  chunk[1] = 1;
  view.setUint32(4, h.msgId);
  view.setUint32(8, h.index);
  view.setUint32(12, h.count);
  view.setUint32(16, h.total);
  if (body) chunk.set(body, 20);
  return chunk;
}

function hostile(h: Hostile | { refused: string }): Hostile {
  if ('refused' in h) throw new Error(`refused: ${h.refused}`);
  return h;
}

describe('a hostile peer is rejected each time and the run loses nothing', () => {
  const fx = roomFixture(ITERATIONS);

  it('wrong tokens, garbage, oversized frames, a wrong version and NaN gradients', { timeout: 60_000 }, async () => {
    const { server, reference, serverLog, peers } = fx;
    const room = server.createRoom();
    const other = server.createRoom();
    const trainer = new Trainer(mnistJob(ITERATIONS), { waitForWorkers: true, firstDeadlineMs: 30_000 });
    const hostLog: string[] = [];
    const events: PeerEvent[] = [];
    const host = await hostRoom({
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      trainer,
      log: (l) => hostLog.push(l),
    });
    host.on('peer', (e) => events.push(e));
    onTestFailed(() => {
      console.error(
        ['server:', ...serverLog, 'host:', ...hostLog, 'peers:', ...peers.flatMap((p) => p.out)].join('\n'),
      );
    });
    const honest = spawnPeer({ url: server.wsUrl, token: room.token, name: 'honest' });
    peers.push(honest);
    await until(() => events.some((e) => e.type === 'accepted'), 30_000, 'the honest peer');
    const rejected = (id: string) => events.find((e) => e.type === 'rejected' && e.id === id)?.reason ?? '';

    // 1. wrong token, a token of another room, the host key of another room: refused by the server
    for (const token of ['x'.repeat(27), other.token]) {
      const r = await connect(server.wsUrl, token, 'relay');
      expect('refused' in r && r.refused).toMatch(/unknown room or wrong token|coordinator is not connected/);
    }
    const fakeHost = await SignalClient.connect(server.wsUrl, WS, true);
    const fakeHostReply = new Promise<ServerMessage>((r) => fakeHost.onMessage(r));
    fakeHost.send({ t: 'host', token: room.token, hostKey: other.hostKey });
    expect(await fakeHostReply).toMatchObject({ t: 'rejected', reason: 'unknown room or wrong host key' });

    // 2. a malformed control message before joining
    const raw = new WebSocket(server.wsUrl);
    await new Promise((r) => raw.once('open', r));
    const rawClosed = new Promise<number>((r) => raw.once('close', (code) => r(code)));
    raw.send('{"t":"join","token":12}');
    expect(await rawClosed).toBe(4006);

    // 3. garbage bytes through the relay instead of a frame
    const g = hostile(await connect(server.wsUrl, room.token, 'relay'));
    g.channel.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]));
    await until(() => rejected(g.peerId) !== '', 10_000, 'garbage rejected');
    expect(rejected(g.peerId)).toMatch(/bad message before hello: frame: bad magic/);
    await g.signal.closed; // removed from the room by the server

    // 4. a relayed WebSocket frame over the server's size limit
    const o = hostile(await connect(server.wsUrl, room.token, 'relay'));
    (o.signal as unknown as { ws: WebSocket }).ws.send(new Uint8Array(262144 + 1024));
    await o.signal.closed;
    await until(
      () => serverLog.some((l) => /mallory.*left: sent a message over the size limit/.test(l)),
      5000,
      'size log',
    );

    // 5. over WebRTC: a frame header announcing a 1 GB message
    const big = hostile(await connect(server.wsUrl, room.token, 'direct'));
    big.channel.send(frameHeaderForTest({ msgId: 0, index: 0, count: 4096, total: 1 << 30, payload: 64 }));
    await until(() => rejected(big.peerId) !== '', 10_000, 'oversized frame rejected');
    expect(rejected(big.peerId)).toMatch(/exceeds the limit/);

    // 6. the server's token, then a hello with another token inside the channel
    const w = hostile(await connect(server.wsUrl, room.token, 'relay'));
    await new FramedLink(w.channel).send({
      v: PROTOCOL_VERSION,
      type: 'hello',
      token: other.token,
      name: 'm',
      backends: [],
    });
    await until(() => rejected(w.peerId) !== '', 10_000, 'wrong hello token');
    expect(rejected(w.peerId)).toBe('wrong room token');

    // 7. another message before its hello, the hello right behind it: refused for the first, and the
    // hello that follows on the same link (before the link closes) is not accepted
    const early = hostile(await connect(server.wsUrl, room.token, 'relay'));
    const earlyLink = new FramedLink(early.channel);
    void earlyLink.send({ v: PROTOCOL_VERSION, type: 'heartbeat', t: 1 });
    await earlyLink.send({ v: PROTOCOL_VERSION, type: 'hello', token: room.token, name: 'early', backends: [] });
    await until(() => rejected(early.peerId) !== '', 10_000, 'a message before hello rejected');
    expect(rejected(early.peerId)).toBe("sent 'heartbeat' before hello");
    await early.signal.closed; // removed (and banned) by the server
    expect(events.some((e) => e.type === 'accepted' && e.id === early.peerId)).toBe(false);

    // 8. a message of another protocol version
    const v = hostile(await connect(server.wsUrl, room.token, 'direct'));
    const hello = encodeMessage({ v: PROTOCOL_VERSION, type: 'hello', token: room.token, name: 'm', backends: [] });
    const v2 = hello.slice();
    v2[v2.indexOf(0xa1) + 2] = PROTOCOL_VERSION - 1; // the map's first entry is v: fixstr 'v' then its value (an older peer)
    v.channel.send(frameHeaderForTest({ msgId: 0, index: 0, count: 1, total: v2.length, payload: v2.length }, v2));
    await until(() => rejected(v.peerId) !== '', 10_000, 'wrong version rejected');
    expect(rejected(v.peerId)).toMatch(new RegExp(`protocol version ${PROTOCOL_VERSION - 1} is not supported`));

    // 9. a peer that sets up properly, then answers with NaN gradients
    const n = hostile(await connect(server.wsUrl, room.token, 'direct'));
    const link = new FramedLink(n.channel);
    let nanSent = 0;
    let paramCount = 0;
    link.onMessage((m) => {
      if (m.type === 'welcome') {
        paramCount = m.task.paramCount;
        void link.send({
          v: PROTOCOL_VERSION,
          type: 'ready',
          backend: 'wasm',
          layout: m.task.layout,
          paramCount: m.task.paramCount,
          trainSize: MNIST_SIZES.train,
          testSize: MNIST_SIZES.test,
        });
      } else if (m.type === 'assign') {
        nanSent++;
        const gradSum = new Float32Array(paramCount).fill(Number.NaN);
        void link.send({
          v: PROTOCOL_VERSION,
          type: 'result',
          iteration: m.iteration,
          version: m.version,
          shardId: m.shardId,
          gradSum,
          lossSum: 1,
          correct: 0,
          count: m.indices.length,
          computeMs: 1,
          backend: 'wasm',
        });
      }
    });
    await link.send({ v: PROTOCOL_VERSION, type: 'hello', token: room.token, name: 'nan', backends: ['wasm'] });
    await until(() => trainer.pool.members.size === 2, 10_000, 'the NaN peer set up');

    const result = await trainer.run();
    expect(nanSent).toBeGreaterThanOrEqual(1);
    expect(
      hostLog.some((l) => new RegExp(`peer ${n.peerId} disconnected: sent an unusable result: .*NaN`).test(l)),
    ).toBe(true);
    expect(result.position.iteration).toBe(ITERATIONS);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
    // only the honest peer and the NaN peer ever reached the trainer
    expect(events.filter((e) => e.type === 'accepted').length).toBe(2);
    expect(serverLog.filter((l) => /rejected: unknown room or wrong token/.test(l)).length).toBe(1);
    host.close();
    expect(await honest.exited).toBe(0);
  });
});
