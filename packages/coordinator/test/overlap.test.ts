/**
 * Mode local with overlap (early groups) in Node worker threads: with one worker nothing is early
 * (the exactness anchor still holds); with a slow member the fast ones get next-round groups early,
 * and every mini-batch of every epoch is still trained and counted exactly once; a member killed
 * while holding an early group, and one joining while early groups are in flight, lose nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { earlyRounds, exactJob, holdingRoundOpen, sgdJob } from './fixtures.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

type LocalReq = Parameters<NonNullable<WorkerHandle['trainLocal']>>[0];
interface Sent {
  worker: string;
  round: number;
  early: boolean;
  indices: number[];
}

/**
 * A thread worker whose local rounds are logged into `sent`, `early` telling which were sent ahead
 * (fixtures' earlyRounds of its trainer); `delayMs` holds each answer back (a slow member, or a slow
 * link); `kill` closes the worker when it returns true for a request.
 */
function watched(
  early: (round: number) => boolean,
  name: string,
  sent: Sent[],
  delayMs = 0,
  kill?: (r: LocalReq, early: boolean) => boolean,
): WorkerHandle {
  const w = spawnThreadWorker();
  const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  return {
    ...w,
    trainLocal: async (req) => {
      const ahead = early(req.round);
      sent.push({ worker: name, round: req.round, early: ahead, indices: req.batches.flatMap((b) => [...b]) });
      const p = train(req);
      if (kill?.(req, ahead)) void w.close('killed by the test while holding an early group');
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
  const rounds: {
    examples: number;
    epoch: number;
    loss: number;
    replanned: number;
    early: number;
    caughtUp: number;
  }[] = [];
  t.on('iteration', (e) =>
    rounds.push({
      examples: e.examples,
      epoch: e.epoch,
      loss: e.loss,
      replanned: e.replanned,
      early: e.round?.early ?? 0,
      caughtUp: e.round?.caughtUp ?? 0,
    }),
  );
  return rounds;
}

/** Two fast members and a slow one (its answers 250 ms late) on overlapJob: the fast ones' groups are early. */
function slowRoom(epochs: number) {
  const t = new Trainer(overlapJob(epochs), { backends: ['wasm'] });
  open.push(t);
  const sent: Sent[] = [];
  const early = earlyRounds(t);
  t.addWorker(watched(early, 'fast-1', sent));
  t.addWorker(watched(early, 'fast-2', sent));
  t.addWorker(watched(early, 'slow', sent, 250));
  return { t, sent, rounds: record(t) };
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
    local.addWorker(watched(earlyRounds(local), 'only', sent));
    const [a, b] = [await exact.run(), await local.run()];
    expect(b.position.iteration).toBe(20);
    expect(sent.map((s) => s.round)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(sent.filter((s) => s.early)).toHaveLength(0);
    expect(relativeDifference(b.weights, a.weights)).toBeLessThanOrEqual(1e-5);
  });

  it('a slow member: the fast ones get early groups, every mini-batch of every epoch once, and the loss falls', async () => {
    const epochs = 3;
    const { t, sent, rounds } = slowRoom(epochs);
    const result = await t.run();
    const ahead = sent.filter((s) => s.early);
    expect(ahead.length).toBeGreaterThanOrEqual(3);
    // early groups go to members that are done, never to the one that keeps the round open
    expect(ahead.every((s) => s.worker !== 'slow')).toBe(true);
    // each was adopted by its round, which reports it
    expect(rounds.reduce((a, r) => a + r.early, 0)).toBe(ahead.length);
    // and was told the outer step it missed; a group still training took it between two inner
    // steps (the slow member keeps each round open 250 ms longer, so most are done before it comes)
    expect(rounds.reduce((a, r) => a + r.caughtUp, 0)).toBeLessThanOrEqual(ahead.length);
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

  it("an epoch's last, shorter round stays spread over every member: its early groups take their share, not H", async () => {
    // 15 mini-batches an epoch, 3 workers x H = 2: rounds at 0, 6 and 12 (the last: 3 steps, one each).
    // Given H, the first early member took 2 of the 3 and the outer step applied its moves whole
    // (measured: 80.7 % against 84.4 % without overlap on Fashion-MNIST, 9 threads, 600 iterations)
    const epochs = 3;
    const { t, sent, rounds } = slowRoom(epochs);
    await t.run();
    expectEveryEpochOnce(rounds, epochs);
    const lastRounds = [12, 27, 42];
    const last = sent.filter((s) => lastRounds.includes(s.round));
    // the test means something only if those rounds had early groups (the slow member keeps each
    // round open 250 ms, so the fast ones are back long before)
    expect(last.filter((s) => s.early).length).toBeGreaterThanOrEqual(2);
    // one mini-batch of 20 each, three groups a round
    for (const s of last) expect(s.indices.length, `${s.worker} in round ${s.round}`).toBe(20);
    for (const r of lastRounds) expect(last.filter((s) => s.round === r).length).toBe(3);
  });

  it('a member killed while holding an early group, and one joining while early groups are in flight: nothing lost or twice', async () => {
    const epochs = 4;
    const t = new Trainer(overlapJob(epochs), { backends: ['wasm'] });
    open.push(t);
    const sent: Sent[] = [];
    let killedAt = -1;
    const early = earlyRounds(t);
    t.addWorker(watched(early, 'fast', sent));
    t.addWorker(watched(early, 'slow', sent, 250));
    t.addWorker(
      watched(early, 'doomed', sent, 0, (r, early) => {
        if (killedAt >= 0 || !early) return false;
        killedAt = r.round;
        return true;
      }),
    );
    const rounds = record(t);
    let joinedWith = -1;
    t.on('iteration', (e) => {
      // the round just closed: early groups of the next one are in flight now
      const inFlight = sent.some((s) => s.early && s.round === e.iteration && s.worker !== 'doomed');
      if (joinedWith < 0 && killedAt >= 0 && inFlight) {
        joinedWith = e.iteration;
        t.addWorker(watched(early, 'joiner', sent));
      }
    });
    const result = await t.run();
    expect(killedAt).toBeGreaterThan(0);
    expect(joinedWith).toBeGreaterThanOrEqual(killedAt);
    // the killed member's early group was planned again by its round, to someone else
    const again = sent.filter((s) => s.round === killedAt && s.worker !== 'doomed');
    const lost = sent.find((s) => s.worker === 'doomed' && s.round === killedAt) as Sent;
    expect(again.some((s) => !s.early && s.indices.join() === lost.indices.join())).toBe(true);
    expect(rounds.reduce((a, r) => a + r.replanned, 0)).toBeGreaterThanOrEqual(1);
    expect(sent.some((s) => s.worker === 'joiner')).toBe(true);
    expectEveryEpochOnce(rounds, epochs);
    expect(result.position.iteration).toBe(epochs * 15);
    expect(rounds.at(-1)?.loss).toBeLessThan(rounds[0].loss);
    expect(result.testAccuracy).toBeGreaterThan(0.7);
  });

  it('an early group counts from where it ended, or, not caught up, with half the step it missed: with outer SGD at lr 1 each round lands on the mean of those ends', async () => {
    // independent of the trainer's arithmetic: every group's start (the weights of the version it
    // was sent: version = the iteration its weights were made at), pseudo-gradient and caughtUp as
    // the workers saw them, and the weights after each round. An early group started from weights
    // one outer step old; caught up, it counts from its end; not caught up (the slow member keeps
    // each round open 250 ms, so most end first), from its end plus half the step it missed.
    // Counted as sent, or from its end whatever happened, its round would land elsewhere.
    const t = new Trainer(overlapJob(2), { backends: ['wasm'] });
    open.push(t);
    const early = earlyRounds(t);
    const weightsAt = new Map<number, Float32Array>();
    t.on('iteration', (e) => weightsAt.set(e.iteration, t.getWeights()));
    const groups: {
      round: number;
      version: number;
      early: boolean;
      caughtUp: boolean;
      delta: Float32Array;
      count: number;
    }[] = [];
    const member = (delayMs: number): WorkerHandle => {
      const w = spawnThreadWorker();
      const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
      return {
        ...w,
        trainLocal: async (req) => {
          // the first weights, as sent (the trainer makes them when the run starts)
          if (req.version === 0 && req.weights && !weightsAt.has(0)) weightsAt.set(0, req.weights.slice());
          const ahead = early(req.round);
          const r = await train(req);
          groups.push({
            round: req.round,
            version: req.version,
            early: ahead,
            caughtUp: r.caughtUp === true,
            delta: (r.delta as Float32Array).slice(),
            count: r.count,
          });
          if (delayMs > 0) await new Promise((ok) => setTimeout(ok, delayMs));
          return r;
        },
      };
    };
    t.addWorker(member(0));
    t.addWorker(member(0));
    t.addWorker(member(250));
    const events = record(t);
    await t.run();
    const rounds = [...new Set(groups.map((g) => g.round))].sort((a, b) => a - b);
    let checkedEarly = 0;
    let notCaughtUp = 0;
    for (let k = 0; k < rounds.length; k++) {
      const mine = groups.filter((g) => g.round === rounds[k]);
      const after = weightsAt.get(k + 1 < rounds.length ? rounds[k + 1] : 30) as Float32Array;
      // the weights this round was opened with: what an early group's start missed
      const opened = weightsAt.get(rounds[k]) as Float32Array;
      const n = after.length;
      const mean = new Float64Array(n);
      const total = mine.reduce((a, g) => a + g.count, 0);
      for (const g of mine) {
        const start = weightsAt.get(g.version) as Float32Array;
        const left = g.early && !g.caughtUp ? 0.5 : 0;
        if (left) notCaughtUp++;
        for (let i = 0; i < n; i++)
          mean[i] += ((start[i] - g.delta[i] + left * (opened[i] - start[i])) * g.count) / total;
      }
      expect(relativeDifference(after, Float32Array.from(mean))).toBeLessThan(1e-5);
      if (mine.some((g) => g.early)) checkedEarly++;
    }
    expect(notCaughtUp).toBeGreaterThanOrEqual(1);
    expect(rounds.length).toBe(events.length);
    expect(checkedEarly).toBeGreaterThanOrEqual(2);
  });

  it('an early group still running when its round closes takes the missed outer step between two inner steps', async () => {
    // a member that keeps each round open until the two others' groups are back (fixtures'
    // holdingRoundOpen); groups of 4 inner steps on about 1.1M weights outlast the 20 ms after, so
    // the round closes, and its outer step is taken, while their early groups train. Mini-batches
    // of 10, 30 an epoch: the second round is a full one (an epoch's last, shorter round gives
    // early groups a step each, too short to take anything between two)
    const job: JobConfig = {
      ...overlapJob(2),
      batchSize: 10,
      model: { kind: 'mlp', inputShape: [20], hidden: [1024, 1024], classes: 4 },
      mode: { kind: 'local', steps: 4, warmup: 0, outer: { kind: 'sgd', lr: 1 }, overlap: true },
    };
    const t = new Trainer(job, { backends: ['wasm'] });
    open.push(t);
    let back = 0;
    const counted = (w: WorkerHandle): WorkerHandle => {
      const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
      return {
        ...w,
        trainLocal: async (req) => {
          const r = await train(req);
          back++;
          return r;
        },
      };
    };
    t.addWorker(counted(spawnThreadWorker()));
    t.addWorker(counted(spawnThreadWorker()));
    t.addWorker(holdingRoundOpen(spawnThreadWorker(), () => back, 2));
    const rounds = record(t);
    await t.run();
    const ahead = rounds.reduce((a, r) => a + r.early, 0);
    const caught = rounds.reduce((a, r) => a + r.caughtUp, 0);
    expect(ahead).toBeGreaterThanOrEqual(2);
    // not all: on a loaded machine a group can end before its catch-up arrives
    expect(caught).toBeGreaterThanOrEqual(1);
    expect(caught).toBeLessThanOrEqual(ahead);
    expectEveryEpochOnce(rounds, 2);
  });

  it('refuses a non-boolean overlap with a clear error', () => {
    const job = overlapJob(1);
    const mode = { ...(job.mode as object), overlap: 'yes' } as unknown as JobConfig['mode'];
    expect(() => new Trainer({ ...job, mode })).toThrow(/overlap must be true or false, got "yes"/);
  });
});
