/**
 * Heartbeats only on a quiet link, both ways: the host sends a peer a heartbeat (or echoes one) only
 * when nothing else went to that peer since the last tick, and a volunteer likewise. Any message
 * says its sender is alive, and each send from Node costs a laptop at a fifth of a CPU about 9 ms: a
 * classroom room's host spent as long on heartbeats as on its tasks. Over an in-memory channel pair
 * with real FramedLinks and the real peer handle; the volunteer side is the real joinRoom answerer's
 * rule, checked on the host's handle here and end to end by the room tests (heartbeatMs 500).
 */
import { FramedLink, type Message, msg } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type PeerWorkerHandle, peerWorkerHandle } from '../../src/transports/peer.js';
import { channelPair } from './helpers.js';

const open: PeerWorkerHandle[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close('test over');
});
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the host's heartbeats to a peer", () => {
  it('come every tick while the link is quiet, not while other messages flow; echoes likewise', async () => {
    const [hostSide, peerSide] = channelPair();
    const handle = peerWorkerHandle({ id: 'p1', name: 'p1', link: new FramedLink(hostSide), heartbeatMs: 40 });
    open.push(handle);
    const peer = new FramedLink(peerSide);
    const got: Message[] = [];
    peer.onMessage((m) => got.push(m));
    const beats = () => got.filter((m) => m.type === 'heartbeat' && m.echo === undefined).length;
    const echoes = () => got.filter((m) => m.type === 'heartbeat' && m.echo !== undefined).length;

    // quiet: a heartbeat about every tick, and the peer's heartbeats are echoed
    await peer.send(msg({ type: 'heartbeat', t: 1 }));
    await wait(420);
    const quietBeats = beats();
    expect(quietBeats).toBeGreaterThanOrEqual(5);
    expect(echoes()).toBe(1);

    // busy: progress every 10 ms (the host's own messages), the peer's heartbeats every 20 ms
    got.length = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 420) {
      handle.sendShare({ iteration: 1, epoch: 0, loss: 1, share: 0.5, workers: 2 });
      await peer.send(msg({ type: 'heartbeat', t: 2 }));
      await wait(10);
    }
    expect(got.filter((m) => m.type === 'share').length).toBeGreaterThan(15);
    // the first tick after a quiet spell may still send one; after that, none
    expect(beats()).toBeLessThanOrEqual(1);
    expect(echoes()).toBeLessThanOrEqual(1);

    // quiet again: heartbeats come back, so the peer never goes 30 s without a message
    got.length = 0;
    await wait(420);
    expect(beats()).toBeGreaterThanOrEqual(5);
  });
});
