/**
 * Rooms with real parts, in Node: a RoomServer, a coordinator (Trainer + RoomHost) and volunteer
 * peers in their own processes over real WebRTC (simple-peer + @roamhq/wrtc) and the server's
 * relay, training real MNIST. The final weights equal the plain serial loop's, also when a peer
 * crashes mid-iteration.
 */
import { describe, expect, it, onTestFailed } from 'vitest';
import { hostRoom } from '../../src/room/node.js';
import { Trainer } from '../../src/trainer.js';
import { relativeDifference } from '../reference/serial.js';
import { mnistJob, roomFixture, spawnPeer, until } from './helpers.js';

const ITERATIONS = 12;

describe('a room in Node: peer processes over real WebRTC and the relay', () => {
  const fx = roomFixture(ITERATIONS);

  it('two peers (direct and relayed) train MNIST while a third crashes and a fourth freezes mid-iteration: weights equal the serial loop', {
    timeout: 90_000,
  }, async () => {
    const { server, reference, serverLog, peers } = fx;
    const room = server.createRoom();
    expect(room.token.length).toBeGreaterThanOrEqual(22); // >= 128 bits, base64url
    // every peer takes part ('all'), so the crash and the freeze happen whatever the cost-aware planner would choose
    const trainer = new Trainer(mnistJob(ITERATIONS), {
      waitForWorkers: true,
      firstDeadlineMs: 30_000,
      planning: 'all',
    });
    const hostLog: string[] = [];
    const host = await hostRoom({
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      trainer,
      heartbeatMs: 500,
      heartbeatTimeoutMs: 3000,
      log: (l) => hostLog.push(l),
    });
    onTestFailed(() => {
      console.error(
        ['server:', ...serverLog, 'host:', ...hostLog, 'peers:', ...peers.flatMap((p) => p.out)].join('\n'),
      );
    });
    const accepted = new Map<string, string>();
    host.on('peer', (e) => {
      if (e.type === 'accepted') accepted.set(e.id, e.via ?? '');
    });
    const direct = spawnPeer({ url: server.wsUrl, token: room.token, name: 'direct' });
    // WebRTC given no time to connect: the peer falls back to the server's relay by itself
    const relayed = spawnPeer({ url: server.wsUrl, token: room.token, name: 'relayed', connectTimeoutMs: 1 });
    const crashing = spawnPeer({ url: server.wsUrl, token: room.token, name: 'crashing', crashAtAssign: 2 });
    const frozen = spawnPeer({ url: server.wsUrl, token: room.token, name: 'frozen', freezeAtAssign: 3 });
    peers.push(direct, relayed, crashing, frozen);
    await until(() => accepted.size === 4, 30_000, 'four peers accepted');
    expect([...accepted.values()].sort()).toEqual(['direct', 'direct', 'direct', 'relay']);

    const shares: number[][] = [];
    let replanned = 0;
    trainer.on('iteration', (e) => {
      shares.push(e.workers.map((w) => w.share));
      replanned += e.replanned;
    });
    const left: string[] = [];
    trainer.on('worker', (e) => {
      if (e.type === 'left') left.push(`${e.id}: ${e.reason}`);
    });
    const result = await trainer.run();

    expect(await crashing.exited).toBe(3);
    expect(frozen.out).toContain('PEER freezing');
    expect(replanned).toBeGreaterThanOrEqual(2);
    // the crashed one is gone at once (its socket closed); the frozen one's shard was planned again
    // when it missed its deadline, and the peer is dropped when its heartbeats stop
    await until(() => left.length === 2, 10_000, 'the frozen peer dropped');
    expect(hostLog.some((l) => /peer p\d+ stopped answering \(nothing for \d+ ms\)/.test(l))).toBe(true);
    expect(result.position.iteration).toBe(ITERATIONS);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
    // the last iterations were shared by the two remaining peers
    expect(shares.at(-1)?.filter((s) => s > 0).length).toBe(2);
    // evaluated by the peers on the 2,003 test digits: better than chance
    expect(result.testAccuracy).toBeGreaterThan(0.2);
    expect(serverLog.some((l) => / joined$/.test(l))).toBe(true);
    expect(serverLog.some((l) => /\(relayed\) .* uses the relay/.test(l))).toBe(true);
    expect(relayed.out).toContain("PEER relayed using the room server's relay (no direct connection after 1 ms)");
    expect(serverLog.some((l) => /\(crashing\) from .* left/.test(l))).toBe(true);

    host.close();
    // the other peers are told and leave on their own
    expect(await direct.exited).toBe(0);
    expect(await relayed.exited).toBe(0);
  });
});
