/**
 * Round five's attacks on mode local's new paths, in Node worker threads presented as peers: a peer
 * that sends 1e30 only in its early (overlap) groups is gated and bounded like any other
 * result, and a run with outer momentum restarts resumed from a checkpoint between two restarts
 * restarts where the uninterrupted run does.
 */
import type { LocalResultData } from '@gradroom/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../src/checkpoint.js';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { earlyRounds, sgdJob } from './fixtures.js';
import { asPeer } from './peer-fakes.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

type LocalReq = Parameters<NonNullable<WorkerHandle['trainLocal']>>[0];

/**
 * A thread worker whose answers pass through `edit` (with the request, and whether it was sent
 * ahead of its round by `early`, fixtures' earlyRounds), after `delayMs`.
 */
function edited(
  edit: (req: LocalReq, r: LocalResultData, early: boolean) => LocalResultData,
  delayMs = 0,
  early: (round: number) => boolean = () => false,
): WorkerHandle {
  const w = spawnThreadWorker();
  const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  return {
    ...w,
    trainLocal: async (req) => {
      const ahead = early(req.round); // when sent: its round may open while it trains
      const r = edit(req, await train(req), ahead);
      if (delayMs > 0) await new Promise((ok) => setTimeout(ok, delayMs));
      return r;
    },
  };
}

describe('mode local: early groups are gated and bounded like the others', () => {
  it('a peer sending 1e30 in its early groups only: each refused and planned again, every example once, the run learns', async () => {
    const epochs = 4;
    const job: JobConfig = {
      ...sgdJob,
      batchSize: 20,
      epochs,
      maxIterations: undefined,
      evaluate: true,
      // float32 deltas (peers default to int8): the attacks below edit them
      mode: { kind: 'local', steps: 2, warmup: 0, outer: { kind: 'sgd', lr: 1 }, overlap: true, compress: 'none' },
    };
    const t = new Trainer(job, { backends: ['wasm'] });
    open.push(t);
    const logs: string[] = [];
    t.on('log', (e) => logs.push(e.message));
    let earlySent = 0;
    t.addWorker(asPeer(edited((_q, r) => r)));
    t.addWorker(asPeer(edited((_q, r) => r, 250)));
    const hostile = asPeer(
      edited(
        (_q, r, early) => {
          if (!early) return r;
          earlySent++;
          return { ...r, delta: new Float32Array(r.delta?.length ?? 0).fill(1e30) };
        },
        0,
        earlyRounds(t),
      ),
    );
    t.addWorker(hostile);
    const rounds: { epoch: number; examples: number; loss: number }[] = [];
    t.on('iteration', (e) => rounds.push({ epoch: e.epoch, examples: e.examples, loss: e.loss }));
    const r = await t.run();
    // every early 1e30 that reached its round was refused by the bound and planned again (an early
    // group whose round closed first is discarded unread: on a loaded machine some are), and none
    // reached the outer step: a 1e30 step would leave weights far beyond an honest run's
    expect(earlySent).toBeGreaterThanOrEqual(1);
    const refused = logs.filter((m) =>
      /norm per example .* 1\.\d+e\+31 is over 50x the median .* planned again/.test(m),
    );
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(earlySent);
    expect(r.weights.every(Number.isFinite)).toBe(true);
    expect(Math.max(...r.weights.map(Math.abs))).toBeLessThan(100);
    for (let e = 0; e < epochs; e++)
      expect(rounds.filter((x) => x.epoch === e).reduce((a, x) => a + x.examples, 0)).toBe(300);
    expect(rounds.at(-1)?.loss).toBeLessThan(rounds[0].loss);
    expect(r.testAccuracy).toBeGreaterThan(0.7);
  }, 120_000);
});

describe('mode local: a peer just over the bound', () => {
  /**
   * Last epoch's mean training loss and the run's test accuracy: two honest peers and a third one
   * scaling its updates by `scale` (1: an honest third member, the reference below). The reference
   * has three members because a third member changes the run even when honest: each outer step
   * averages three updates, so an epoch holds fewer of them (2.5 against 3.75). A room of two learned
   * faster (last epoch 0.17-0.18 against 0.31-0.32) and, as the reference, left the 1,000x run
   * (0.26-0.27, three members until it is struck) at the edge of its bound; a CI run failed on it.
   */
  async function room(scale: number) {
    const job: JobConfig = {
      ...sgdJob,
      batchSize: 20,
      epochs: 6,
      maxIterations: undefined,
      evaluate: true,
      mode: { kind: 'local', steps: 2, warmup: 0, outer: { kind: 'sgd', lr: 1 }, compress: 'none' },
    };
    const t = new Trainer(job, { backends: ['wasm'] });
    open.push(t);
    const logs: string[] = [];
    t.on('log', (e) => logs.push(e.message));
    const left: string[] = [];
    t.on('worker', (e) => {
      if (e.type === 'left') left.push(e.reason ?? '');
    });
    // honest for its first 2 rounds, so the bound has its samples (from the first round, its updates
    // would set the bound's scale: see the README's Trust section), then `scale` times
    t.addWorker(
      asPeer(spawnThreadWorker(), {
        local: (c, r) => (c <= 2 ? r : { ...r, delta: r.delta?.map((x) => x * scale) }),
      }),
    );
    t.addWorker(asPeer(spawnThreadWorker()));
    t.addWorker(asPeer(spawnThreadWorker()));
    const losses: number[] = [];
    t.on('epoch', (e) => losses.push(e.trainLoss));
    const perEpoch: number[] = [];
    t.on('iteration', (e) => {
      perEpoch[e.epoch] = (perEpoch[e.epoch] ?? 0) + e.examples;
    });
    const r = await t.run();
    return { loss: losses[losses.length - 1], accuracy: r.testAccuracy, logs, left, weights: r.weights, perEpoch };
  }

  it('updates 100x its honest ones: those over the bound are refused and computed by another member; the run goes on and learns', async () => {
    const clean = await room(1);
    const hostile = await room(100);
    expect(hostile.weights.every(Number.isFinite)).toBe(true);
    // (given back to the same peer, each refusal came back until the round gave up and the run failed).
    // How many of its updates land over 50x the median is chance: 100x of a small honest update can
    // pass (1 of 16 refused with this epoch's last round spread over all three, 3 of 16 before)
    expect(hostile.logs.filter((m) => /over 50x the median .* planned again/.test(m)).length).toBeGreaterThanOrEqual(1);
    // just over the bound is not absurd: the peer is not struck, and every example of every epoch is
    // counted once, the refused groups computed by another member
    expect(hostile.left).toEqual([]);
    expect(hostile.perEpoch).toEqual(clean.perEpoch);
    expect(hostile.loss).toBeLessThanOrEqual(clean.loss * 1.25 + 0.05);
    expect(hostile.accuracy).toBeGreaterThanOrEqual(clean.accuracy - 0.05);
  }, 120_000);

  it('updates 1,000x its honest ones: refused again and again, the peer is struck and dropped; the run learns', async () => {
    const clean = await room(1);
    const hostile = await room(1000);
    expect(hostile.weights.every(Number.isFinite)).toBe(true);
    expect(hostile.left.some((m) => /dropped after 3 strikes/.test(m))).toBe(true);
    expect(hostile.loss).toBeLessThanOrEqual(clean.loss * 1.25 + 0.05);
    expect(hostile.accuracy).toBeGreaterThanOrEqual(clean.accuracy - 0.05);
  }, 120_000);
});

describe('mode local: outer momentum restarts across a resume', () => {
  it('a run resumed between two restarts restarts where the uninterrupted run does (equal weights)', async () => {
    const outer = { kind: 'momentum', form: 'classic', momentum: 0.9, lr: 1, restartEvery: 3 } as const;
    const job: JobConfig = { ...sgdJob, maxIterations: 16, mode: { kind: 'local', steps: 2, warmup: 0, outer } };
    const whole = new Trainer(job, { backends: ['wasm'] });
    open.push(whole);
    whole.addWorker(spawnThreadWorker());
    const a = await whole.run();
    // without restarts the run is another one: the restarts matter to the comparison below
    const carried = new Trainer(
      { ...job, mode: { kind: 'local', steps: 2, warmup: 0, outer: { ...outer, restartEvery: undefined } } },
      { backends: ['wasm'] },
    );
    open.push(carried);
    carried.addWorker(spawnThreadWorker());
    expect(relativeDifference((await carried.run()).weights, a.weights)).toBeGreaterThan(1e-4);
    const store = new MemoryCheckpointStore();
    const first = new Trainer(job, { backends: ['wasm'], checkpoint: { store } });
    open.push(first);
    first.addWorker(spawnThreadWorker());
    // stopped after 2 outer steps: the next restart is before step 4, not the resumed run's 3rd
    first.on('iteration', (e) => {
      if (e.iteration >= 4) first.stop();
    });
    expect((await first.run()).stopped).toBe(true);
    const bytes = (await store.load()) as Uint8Array;
    const second = Trainer.fromCheckpoint(bytes, { backends: ['wasm'] });
    open.push(second);
    second.addWorker(spawnThreadWorker());
    const b = await second.run();
    expect(b.position.iteration).toBe(16);
    expect(relativeDifference(b.weights, a.weights)).toBeLessThanOrEqual(1e-6);
  }, 120_000);
});
