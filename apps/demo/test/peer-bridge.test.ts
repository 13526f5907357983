// The host page's WebRTC bridge (src/coordinator-worker/peer-bridge.ts) over a real MessageChannel,
// with a stand-in for simple-peer on the "page" side and @gradroom/worker's simplePeerChannel on the
// "worker" side, as RoomHost uses it: data that arrives before 'connect' is not lost and stays in
// order, bytes go both ways unchanged and the sender's buffer is not detached, backpressure figures
// come back, and a close reaches the worker.
import { type SimplePeerCtor, simplePeerChannel } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgedSimplePeer, servePeerBridge } from '../src/coordinator-worker/peer-bridge.js';

type Fn = (...a: unknown[]) => void;
class FakePeer {
  static made: FakePeer[] = [];
  destroyed = false;
  sent: Uint8Array[] = [];
  signals: unknown[] = [];
  listeners = new Map<string, Fn[]>();
  _pc = { sctp: { maxMessageSize: 65536 } };
  _channel = { bufferedAmount: 0, bufferedAmountLowThreshold: 0, addEventListener: () => {} };
  constructor(readonly opts: unknown) {
    FakePeer.made.push(this);
  }
  on(e: string, fn: Fn) {
    this.listeners.set(e, [...(this.listeners.get(e) ?? []), fn]);
  }
  emit(e: string, ...a: unknown[]) {
    for (const fn of this.listeners.get(e) ?? []) fn(...a);
  }
  signal(d: unknown) {
    this.signals.push(d);
  }
  send(c: Uint8Array) {
    this.sent.push(c.slice());
    this._channel.bufferedAmount += c.byteLength;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));
const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
  FakePeer.made = [];
});

function pair() {
  const mc = new MessageChannel();
  channels.push(mc);
  servePeerBridge(mc.port1 as unknown as globalThis.MessagePort, FakePeer as unknown as SimplePeerCtor);
  return bridgedSimplePeer(mc.port2 as unknown as globalThis.MessagePort);
}

describe('WebRTC bridge between the host page and its coordinator worker', () => {
  it('keeps data that arrives before connect, in order, for the channel made on connect', async () => {
    const Peer = pair();
    const peer = new Peer({ initiator: false, config: { iceServers: [] } });
    const got: number[] = [];
    let maxMessageSize = 0;
    peer.on('connect', () => {
      const ch = simplePeerChannel(peer);
      maxMessageSize = ch.maxMessageSize;
      ch.onMessage((m) => got.push(m[0]));
    });
    peer.signal({ type: 'offer', sdp: 'x' });
    await tick();
    const page = FakePeer.made[0];
    expect(page.opts).toEqual({ initiator: false, config: { iceServers: [] } });
    expect(page.signals).toEqual([{ type: 'offer', sdp: 'x' }]);
    // the far side talks before simple-peer says 'connect' (it waits for its own checks)
    for (const i of [1, 2, 3]) page.emit('data', new Uint8Array([i, 0, 0]));
    page.emit('connect');
    for (const i of [4, 5]) page.emit('data', new Uint8Array([i, 0, 0]));
    await tick();
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(maxMessageSize).toBe(65536);
  });

  it('sends bytes unchanged without detaching the sender’s buffer, and reports what the channel buffers', async () => {
    const Peer = pair();
    const peer = new Peer({ initiator: false });
    await tick();
    const page = FakePeer.made[0];
    page.emit('connect');
    await tick();
    const shared = new Uint8Array(1000).map((_, i) => i % 251);
    // two views into one buffer, as one encoded weights snapshot is sent to every peer
    peer.send(shared.subarray(0, 600));
    peer.send(shared.subarray(600));
    expect(shared.byteLength).toBe(1000); // not detached
    expect(peer._channel?.bufferedAmount).toBe(1000); // posted, not yet handed to the channel
    await tick();
    expect(Buffer.concat(page.sent)).toEqual(Buffer.from(shared));
    expect(peer._channel?.bufferedAmount).toBe(1000); // now the page's channel holds them
    page._channel.bufferedAmount = 0;
    peer.send(new Uint8Array(10));
    await tick();
    expect(peer._channel?.bufferedAmount).toBe(10);
  });

  it('a close on the page reaches the worker once; a destroy in the worker closes the page’s peer', async () => {
    const Peer = pair();
    const a = new Peer({ initiator: false });
    const b = new Peer({ initiator: false });
    let closes = 0;
    a.on('close', () => closes++);
    await tick();
    FakePeer.made[0].emit('error', new Error('ICE failed'));
    FakePeer.made[0].emit('close');
    await tick();
    expect(closes).toBe(1);
    expect(a.destroyed).toBe(true);
    expect(() => a.send(new Uint8Array(1))).toThrow(/closed/);
    b.destroy();
    await tick();
    expect(FakePeer.made[1].destroyed).toBe(true);
  });
});
