/**
 * Exact mode's packed floats over a real room (peer processes, real WebRTC and the relay): after a
 * peer's first weights, each version goes to it as a change from the last, the gradient sums come
 * back packed, and the final weights still equal the plain serial loop's. With packing off, the
 * same room sends float32 as before.
 */
import type { Message } from '@gradroom/core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { hostRoom } from '../../src/room/node.js';
import { Trainer } from '../../src/trainer.js';
import type { WorkerHandle } from '../../src/worker-handle.js';
import { relativeDifference } from '../reference/serial.js';
import { mnistJob, roomFixture, spawnPeer, until } from './helpers.js';

const ITERATIONS = 10;
const PARAMS = 784 * 32 + 32 + 32 * 10 + 10; // mnistJob's MLP

async function roomRun(fx: ReturnType<typeof roomFixture>, packed: boolean) {
  const { server, peers } = fx;
  const room = server.createRoom();
  const trainer = new Trainer(mnistJob(ITERATIONS), { waitForWorkers: true, firstDeadlineMs: 30_000, planning: 'all' });
  /** Bytes of each weights message, per peer, in order. */
  const sent = new Map<string, number[]>();
  const results: Message[] = [];
  const hostLog: string[] = [];
  const host = await hostRoom({
    url: server.wsUrl,
    token: room.token,
    hostKey: room.hostKey,
    trainer,
    packed,
    log: (l) => hostLog.push(l),
    tap: (_, m) => {
      if (m.type === 'result') results.push(m);
    },
    wrapHandle: (h): WorkerHandle => ({
      ...h,
      closed: h.closed,
      setWeights: async (s) => {
        const bytes = await h.setWeights(s);
        sent.set(h.id, [...(sent.get(h.id) ?? []), Number(bytes)]);
        return bytes;
      },
    }),
  });
  const accepted: string[] = [];
  host.on('peer', (e) => {
    if (e.type === 'accepted') accepted.push(e.via ?? '');
  });
  const tag = packed ? 'p' : 'f';
  const direct = spawnPeer({ url: server.wsUrl, token: room.token, name: `${tag}direct` });
  const relayed = spawnPeer({ url: server.wsUrl, token: room.token, name: `${tag}relayed`, relay: 'always' });
  peers.push(direct, relayed);
  onTestFailed(() => {
    console.error(['host:', ...hostLog, 'peers:', ...direct.out, ...relayed.out].join('\n'));
  });
  await until(() => accepted.length === 2, 30_000, 'two peers accepted');
  expect(accepted.sort()).toEqual(['direct', 'relay']);
  const result = await trainer.run();
  host.close();
  expect(await direct.exited).toBe(0);
  expect(await relayed.exited).toBe(0);
  return { result, sent, results };
}

describe('exact mode over a room: packed floats', () => {
  const fx = roomFixture(ITERATIONS);

  it('weights go as changes after the first, sums come back packed, and the weights equal the serial loop', {
    timeout: 90_000,
  }, async () => {
    const { result, sent, results } = await roomRun(fx, true);
    expect(result.position.iteration).toBe(ITERATIONS);
    expect(relativeDifference(result.weights, fx.reference)).toBeLessThanOrEqual(1e-5);
    expect(sent.size).toBe(2);
    for (const [id, bytes] of sent) {
      // the first weights whole (float32 and the envelope); every later version a change, under
      // 0.8 of float32 (Adam at lr 0.002 on this MLP: about 0.6)
      expect(bytes[0], id).toBeGreaterThan(4 * PARAMS);
      expect(bytes.length, id).toBeGreaterThanOrEqual(ITERATIONS - 1);
      for (const b of bytes.slice(1)) expect(b, id).toBeLessThan(0.8 * 4 * PARAMS);
    }
    // every sum packed: MNIST's background pixels leave whole rows of the first layer at zero
    expect(results.length).toBeGreaterThanOrEqual(2 * ITERATIONS);
    for (const m of results) {
      if (m.type !== 'result') continue;
      expect(m.gradSum).toBeUndefined();
      expect(m.gradPacked?.length).toBeLessThan(0.8 * 4 * PARAMS);
    }
  });

  it('with packing off, the same room sends and receives float32, to the same weights', {
    timeout: 90_000,
  }, async () => {
    const { result, sent, results } = await roomRun(fx, false);
    expect(relativeDifference(result.weights, fx.reference)).toBeLessThanOrEqual(1e-5);
    for (const bytes of sent.values()) for (const b of bytes) expect(b).toBeGreaterThan(4 * PARAMS);
    for (const m of results) {
      if (m.type !== 'result') continue;
      expect(m.gradPacked).toBeUndefined();
      expect(m.gradSum?.length).toBe(PARAMS);
    }
  });
});
