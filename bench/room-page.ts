/**
 * The page behind bench/room-goodput.bench.mjs: two tabs connect through the room server (one as
 * the room's host, one as a member) over a real WebRTC data channel, then move the same bytes raw
 * (256 KiB data-channel sends with the same backpressure) and framed (protocol messages through
 * FramedLink: encode, frame, reassemble, decode, validate).
 */
// relative paths: the bench folder is outside the workspace packages
// @ts-expect-error: untyped browser build of simple-peer
import SimplePeer from '../apps/demo/node_modules/simple-peer/simplepeer.min.js';
import { encodeMessage, PROTOCOL_VERSION } from '../packages/core/dist/index.js';
import {
  FramedLink,
  type RawChannel,
  SignalClient,
  type SimplePeerCtor,
  type SimplePeerLike,
  simplePeerChannel,
  type WebSocketCtor,
} from '../packages/worker/dist/peer/index.js';

const p = new URLSearchParams(location.search);
const role = p.get('role') as 'host' | 'peer';
const HIGH = 2 * 1024 * 1024;
const LOW = 512 * 1024;

async function connect(): Promise<RawChannel> {
  const signal = await SignalClient.connect(
    p.get('ws') as string,
    WebSocket as unknown as WebSocketCtor,
    role === 'host',
  );
  const Peer = SimplePeer as unknown as SimplePeerCtor;
  return new Promise((resolve) => {
    let rtc: SimplePeerLike | undefined;
    let other = '';
    const make = (initiator: boolean) => {
      const r = new Peer({ initiator });
      r.on('signal', (data) => signal.send(role === 'host' ? { t: 'signal', to: other, data } : { t: 'signal', data }));
      r.on('connect', () => resolve(simplePeerChannel(r)));
      return r;
    };
    signal.onMessage((m) => {
      if (m.t === 'signal') {
        other = m.from;
        rtc ??= make(false);
        rtc.signal(m.data);
      }
    });
    if (role === 'host')
      signal.send({ t: 'host', token: p.get('token') as string, hostKey: p.get('hostKey') as string });
    else {
      signal.send({ t: 'join', token: p.get('token') as string, name: 'bench' });
      rtc = make(true);
    }
  });
}

const ready = connect().then((raw) => {
  // one raw channel, two uses: counting raw chunks, or feeding the FramedLink
  let mode: 'raw' | 'framed' = 'raw';
  let framedIn: (c: Uint8Array) => void = () => {};
  let rawCount = 0;
  let rawWant = -1;
  let onAck: () => void = () => {};
  const proxy: RawChannel = { ...raw, onMessage: (fn) => (framedIn = fn) };
  Object.defineProperty(proxy, 'bufferedAmount', { get: () => raw.bufferedAmount });
  const link = new FramedLink(proxy, { highWater: HIGH, lowWater: LOW });
  let framedCount = 0;
  let framedWant = -1;
  raw.onMessage((c) => {
    if (c.length === 1) return onAck();
    if (mode === 'framed') return framedIn(c);
    rawCount += c.length;
    if (rawCount === rawWant) raw.send(new Uint8Array(1));
  });
  link.onMessage(() => {
    if (++framedCount === framedWant) raw.send(new Uint8Array(1));
  });
  const acked = () => new Promise<void>((r) => (onAck = r));
  return {
    expectRaw(total: number) {
      mode = 'raw';
      rawCount = 0;
      rawWant = total;
    },
    expectFramed(n: number) {
      mode = 'framed';
      framedCount = 0;
      framedWant = n;
    },
    /** Sends `total` bytes as maxMessageSize sends; ms until the receiver acknowledged all. */
    async sendRaw(total: number): Promise<number> {
      const size = raw.maxMessageSize;
      const chunk = new Uint8Array(size).map((_, i) => i);
      const ack = acked();
      const t0 = performance.now();
      for (let sent = 0; sent < total; ) {
        const n = Math.min(size, total - sent);
        if (raw.bufferedAmount > HIGH) await raw.waitLow(LOW);
        raw.send(n === size ? chunk : chunk.subarray(0, n));
        sent += n;
      }
      await ack;
      return performance.now() - t0;
    },
    /** Sends `n` weights messages of `floats` values; { ms, bytes } (encoded bytes, frame headers excluded). */
    async sendFramed(n: number, floats: number): Promise<{ ms: number; bytes: number; framedBytes: number }> {
      const w = new Float32Array(floats).map((_, i) => Math.sin(i));
      const ack = acked();
      const t0 = performance.now();
      const before = link.stats.sentBytes;
      const sends: Promise<void>[] = [];
      for (let i = 0; i < n; i++)
        sends.push(link.send({ v: PROTOCOL_VERSION, type: 'weights', version: i, weights: w }));
      await Promise.all(sends);
      await ack;
      const ms = performance.now() - t0;
      const encoded = encodeMessage({ v: PROTOCOL_VERSION, type: 'weights', version: 0, weights: w }).length;
      const framedBytes = link.stats.sentBytes - before;
      return { ms, bytes: n * encoded, framedBytes };
    },
  };
});
(window as unknown as { bench: typeof ready }).bench = ready;
