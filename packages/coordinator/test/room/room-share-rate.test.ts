/**
 * What the host tells each peer of its part ('share'): at most once every SHARE_EVERY_MS while
 * nothing about its part changes, at once when it starts or stops computing, when its reason for
 * standing by changes, and on every state change. Told after every iteration, a room of 6 peers in
 * exact mode (10 iterations a second) cost a host at a fifth of a CPU half its iteration rate: each
 * send is a call into WebRTC's own thread. The trainer is a stand-in that emits iteration events;
 * the room server and the host are real.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Emitter } from '../../src/emitter.js';
import type { IterationEvent } from '../../src/events.js';
import { RoomHost, SHARE_EVERY_MS } from '../../src/room/host.js';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import type { PeerWorkerHandle } from '../../src/transports/peer.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type Told = Parameters<PeerWorkerHandle['sendShare']>[0];

type Events = {
  iteration: IterationEvent;
  state: { state: 'running' | 'done' };
  epoch: { testAccuracy: number };
};

class FakeTrainer extends Emitter<Events> {
  readonly job = { dataset: { kind: 'mnist' } };
  addWorker(): Promise<unknown> {
    return Promise.resolve();
  }
  fire<K extends keyof Events>(type: K, e: Events[K]): void {
    this.emit(type, e);
  }
}

function iteration(i: number, workers: { id: string; share: number; standby?: string }[]): IterationEvent {
  return {
    iteration: i,
    epoch: 0,
    lossSmoothed: 0.5,
    workers: workers.map((w) => ({ ...w, speed: 100 })),
  } as unknown as IterationEvent;
}

describe("the host's progress messages to peers", () => {
  it('at most one a second while nothing changes; at once on a change of part, standby or state', async () => {
    const server = await RoomServer.start({ port: 0, log: () => {} });
    cleanup.push(() => server.close());
    const room = server.createRoom();
    const host = await RoomHost.open({ ...nodeRtc(), url: server.wsUrl, token: room.token, hostKey: room.hostKey });
    cleanup.push(() => host.close());
    const told: Record<string, Told[]> = { p1: [], p2: [] };
    for (const id of ['p1', 'p2'])
      host.peers.set(id, {
        id,
        name: id,
        timer: setTimeout(() => {}, 0),
        handle: { sendShare: (p: Told) => told[id].push(p), close: async () => {} } as unknown as PeerWorkerHandle,
      });
    const trainer = new FakeTrainer();
    host.attach(trainer);
    const t0 = performance.now();
    // 200 iterations as fast as they come: p1 computes throughout, p2 stands by (its reason's figures
    // re-measured each iteration, as the planner's are)
    for (let i = 1; i <= 200; i++)
      trainer.fire(
        'iteration',
        iteration(i, [
          { id: 'p1', share: 0.5 },
          { id: 'p2', share: 0, standby: `standing by: its link costs ${700 + i} ms a shard (${(i / 7).toFixed(1)})` },
        ]),
      );
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(SHARE_EVERY_MS); // all within one period on any machine
    expect(told.p1).toHaveLength(1);
    expect(told.p2).toHaveLength(1);
    expect(told.p2[0].standby).toBe('standing by: its link costs 701 ms a shard (0.1)');
    // another reason to stand by: told at once
    trainer.fire(
      'iteration',
      iteration(200, [
        { id: 'p1', share: 0.5 },
        { id: 'p2', share: 0, standby: 'standing by: the room was slower with more members (213 ms with 4)' },
      ]),
    );
    expect(told.p2).toHaveLength(2);
    expect(told.p2[1].standby).toMatch(/slower with more members/);
    // p2 starts computing: told at once; p1's share moves but its part does not: not yet
    trainer.fire(
      'iteration',
      iteration(201, [
        { id: 'p1', share: 0.4 },
        { id: 'p2', share: 0.2 },
      ]),
    );
    expect(told.p2).toHaveLength(3);
    expect(told.p2[2]).toMatchObject({ iteration: 201, share: 0.2, standby: undefined });
    expect(told.p1).toHaveLength(1);
    // a second later, the next iteration is told to both
    await new Promise((r) => setTimeout(r, SHARE_EVERY_MS + 50));
    trainer.fire(
      'iteration',
      iteration(202, [
        { id: 'p1', share: 0.4 },
        { id: 'p2', share: 0.2 },
      ]),
    );
    expect(told.p1.map((p) => p.iteration)).toEqual([1, 202]);
    expect(told.p2.map((p) => p.iteration)).toEqual([1, 200, 201, 202]);
    // a state change always, with the last progress
    trainer.fire('state', { state: 'done' });
    expect(told.p1.at(-1)).toMatchObject({ state: 'done', iteration: 202, share: 0.4 });
    expect(told.p2.at(-1)).toMatchObject({ state: 'done', iteration: 202, share: 0.2 });
  });
});
