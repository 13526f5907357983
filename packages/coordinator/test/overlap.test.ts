/**
 * Mode local with overlap (eager rounds) in Node worker threads: with one worker nothing is early
 * (the exactness anchor still holds); with a slow member the fast ones get next-round groups early,
 * and every mini-batch of every epoch is still trained and counted exactly once; a member killed
 * while holding an early group, and one joining while early groups are in flight, lose nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { exactJob, sgdJob } from './fixtures.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

type LocalReq = Parameters<NonNullable<WorkerHandle['trainLocal']>>[0];
interface Sent {
  worker: string;
  round: number;
  eager: boolean;
  indices: number[];
}

/**
 * A thread worker whose local rounds are logged into `sent`; `delayMs` holds each answer back (a
 * slow member, or a slow link); `kill` closes the worker when it returns true for a request.
 */
function watched(name: string, sent: Sent[], delayMs = 0, kill?: (r: LocalReq) => boolean): WorkerHandle {
  const w = spawnThreadWorker();
  const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  return {
    ...w,
    trainLocal: async (req) => {
      sent.push({
        worker: name,
        round: req.round,
        eager: req.eager === true,
        indices: req.batches.flatMap((b) => [...b]),
      });
      const p = train(req);
      if (kill?.(req)) void w.close('killed by the test while holding an early group');
      const r = await p;
      if (delayMs > 0) await new Promise((ok) => setTimeout(ok, delayMs));
      return r;
    },
  };
}

/** 300 examples in mini-batches of 20: 15 an epoch, so a round of 3 workers x H = 2 leaves room for early groups. */
const overlapJob = (epochs: number): JobConfig => ({
  ...exactJob,
  batchSize: 20,
  epochs,
  maxIterations: undefined,
  evaluate: true,
  mode: { kind: 'local', steps: 2, warmup: 0, outer: { kind: 'sgd', lr: 1 }, overlap: true },
});

function record(t: Trainer) {
  const rounds: { examples: number; epoch: number; loss: number; replanned: number; early: number }[] = [];
  t.on('iteration', (e) =>
    rounds.push({
      examples: e.examples,
      epoch: e.epoch,
      loss: e.loss,
      replanned: e.replanned,
      early: e.round?.early ?? 0,
    }),
  );
  return rounds;
}

/** Each epoch's rounds count its 300 examples exactly: nothing lost, nothing twice. */
function expectEveryEpochOnce(rounds: { examples: number; epoch: number }[], epochs: number): void {
  for (let e = 0; e < epochs; e++)
    expect(rounds.filter((r) => r.epoch === e).reduce((a, r) => a + r.examples, 0)).toBe(300);
}

describe('mode local, overlap', () => {
  it('1 worker: nothing is early, and the anchor (H = 1, inner SGD, outer SGD lr 1) still equals exact mode', async () => {
    const exact = new Trainer(sgdJob, { backends: ['wasm'] });
    open.push(exact);
    exact.addWorker(spawnThreadWorker());
    const sent: Sent[] = [];
    const local = new Trainer(
      { ...sgdJob, mode: { kind: 'local', steps: 1, warmup: 0, outer: { kind: 'sgd', lr: 1 }, overlap: true } },
      { backends: ['wasm'] },
    );
    open.push(local);
    local.addWorker(watched('only', sent));
    const [a, b] = [await exact.run(), await local.run()];
    expect(b.position.iteration).toBe(20);
    expect(sent.map((s) => s.round)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sent.filter((s) => s.eager)).toHaveLength(0);
    expect(relativeDifference(b.weights, a.weights)).toBeLessThanOrEqual(1e-5);
  });

  it('a slow member: the fast ones get early groups, every mini-batch of every epoch once, and the loss falls', async () => {
    const epochs = 3;
    const t = new Trainer(overlapJob(epochs), { backends: ['wasm'] });
    open.push(t);
    const sent: Sent[] = [];
    t.addWorker(watched('fast-1', sent));
    t.addWorker(watched('fast-2', sent));
    t.addWorker(watched('slow', sent, 250));
    const rounds = record(t);
    const result = await t.run();
    const eager = sent.filter((s) => s.eager);
    expect(eager.length).toBeGreaterThanOrEqual(3);
    // early groups go to members that are done, never to the one that keeps the round open
    expect(eager.every((s) => s.worker !== 'slow')).toBe(true);
    // each was adopted by its round, which reports it
    expect(rounds.reduce((a, r) => a + r.early, 0)).toBe(eager.length);
    expect(rounds.reduce((a, r) => a + r.replanned, 0)).toBe(0);
    expectEveryEpochOnce(rounds, epochs);
    expect(result.position.iteration).toBe(epochs * 15);
    // every example was sent exactly once an epoch (no failures here, so nothing was sent twice)
    for (let e = 0; e < epochs; e++) {
      const got = sent.filter((s) => Math.floor(s.round / 15) === e).flatMap((s) => s.indices);
      expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    }
    expect(rounds.at(-1)?.loss).toBeLessThan(rounds[0].loss);
    expect(result.testAccuracy).toBeGreaterThan(0.7);
  });

  it('a member killed while holding an early group, and one joining while early groups are in flight: nothing lost or twice', async () => {
    const epochs = 4;
    const t = new Trainer(overlapJob(epochs), { backends: ['wasm'] });
    open.push(t);
    const sent: Sent[] = [];
    let killedAt = -1;
    t.addWorker(watched('fast', sent));
    t.addWorker(watched('slow', sent, 250));
    t.addWorker(
      watched('doomed', sent, 0, (r) => {
        if (killedAt >= 0 || r.eager !== true) return false;
        killedAt = r.round;
        return true;
      }),
    );
    const rounds = record(t);
    let joinedWith = -1;
    t.on('iteration', (e) => {
      // the round just closed: early groups of the next one are in flight now
      const inFlight = sent.some((s) => s.eager && s.round === e.iteration && s.worker !== 'doomed');
      if (joinedWith < 0 && killedAt >= 0 && inFlight) {
        joinedWith = e.iteration;
        t.addWorker(watched('joiner', sent));
      }
    });
    const result = await t.run();
    expect(killedAt).toBeGreaterThan(0);
    expect(joinedWith).toBeGreaterThanOrEqual(killedAt);
    // the killed member's early group was planned again, to someone else, without the eager mark
    const again = sent.filter((s) => s.round === killedAt && s.worker !== 'doomed');
    const lost = sent.find((s) => s.worker === 'doomed' && s.round === killedAt) as Sent;
    expect(again.some((s) => !s.eager && s.indices.join() === lost.indices.join())).toBe(true);
    expect(rounds.reduce((a, r) => a + r.replanned, 0)).toBeGreaterThanOrEqual(1);
    expect(sent.some((s) => s.worker === 'joiner')).toBe(true);
    expectEveryEpochOnce(rounds, epochs);
    expect(result.position.iteration).toBe(epochs * 15);
    expect(rounds.at(-1)?.loss).toBeLessThan(rounds[0].loss);
    expect(result.testAccuracy).toBeGreaterThan(0.7);
  });

  it('refuses a non-boolean overlap with a clear error', () => {
    const job = overlapJob(1);
    const mode = { ...(job.mode as object), overlap: 'yes' } as unknown as JobConfig['mode'];
    expect(() => new Trainer({ ...job, mode })).toThrow(/overlap must be true or false, got "yes"/);
  });
});
