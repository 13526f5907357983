/**
 * Mode local's steps by speed (job.ts `balance`, core's stepsForSpeed) with real Node worker threads:
 * a member whose compute is clearly slower than the round's median runs fewer inner steps in a full
 * round, so the round does not wait for its H; every mini-batch of every epoch is still counted
 * once, with and without overlap. A round of the run's own workers only keeps H for everyone unless
 * the job asks for balance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type JobConfig, validateJob } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { exactJob } from './fixtures.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

interface Group {
  worker: string;
  round: number;
  steps: number;
}

/**
 * A thread worker whose local groups are logged; `perStepMs` makes it a slower machine: each inner
 * step takes that much longer, and its reported compute time says so (as a slow laptop's would).
 */
function member(name: string, groups: Group[], perStepMs = 0): WorkerHandle {
  const w = spawnThreadWorker();
  const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  return {
    ...w,
    name,
    trainLocal: async (req) => {
      groups.push({ worker: name, round: req.round, steps: req.batches.length });
      const r = await train(req);
      const extra = perStepMs * req.batches.length;
      if (extra === 0) return r;
      await new Promise((ok) => setTimeout(ok, extra));
      return { ...r, computeMs: r.computeMs + extra };
    },
  };
}

/** 300 examples in mini-batches of 10: 30 an epoch, two full rounds of 3 members x H = 4 and a short one. */
const H = 4;
const job = (mode: Partial<Extract<JobConfig['mode'], { kind: 'local' }>> = {}): JobConfig => ({
  ...exactJob,
  batchSize: 10,
  epochs: 3,
  maxIterations: undefined,
  mode: { kind: 'local', steps: H, warmup: 0, outer: { kind: 'sgd', lr: 1 }, ...mode },
});

async function room(config: JobConfig, slowMs: number) {
  const t = new Trainer(config, { backends: ['wasm'] });
  open.push(t);
  const groups: Group[] = [];
  const rounds: { examples: number; epoch: number; loss: number; speeds: Record<string, number> }[] = [];
  t.on('iteration', (e) =>
    rounds.push({
      examples: e.examples,
      epoch: e.epoch,
      loss: e.loss,
      speeds: Object.fromEntries(e.workers.map((w) => [w.name ?? w.id, w.computeSpeed ?? 0])),
    }),
  );
  t.addWorker(member('fast-1', groups));
  t.addWorker(member('fast-2', groups));
  t.addWorker(member('slow', groups, slowMs));
  const result = await t.run();
  return { result, groups, rounds };
}

function expectEveryEpochOnce(rounds: { examples: number; epoch: number }[]): void {
  for (let e = 0; e < 3; e++) expect(rounds.filter((r) => r.epoch === e).reduce((a, r) => a + r.examples, 0)).toBe(300);
}

describe('mode local, steps by speed', () => {
  for (const overlap of [false, true])
    it(`balance on${overlap ? ', with overlap' : ''}: the slow member runs fewer steps once measured, and every mini-batch of every epoch is counted once`, async () => {
      const { result, groups, rounds } = await room(job({ balance: true, ...(overlap ? { overlap } : {}) }), 60);
      expect(result.position.epoch).toBe(3);
      expectEveryEpochOnce(rounds);
      const slow = groups.filter((g) => g.worker === 'slow').map((g) => g.steps);
      const fast = groups.filter((g) => g.worker !== 'slow').map((g) => g.steps);
      // its first two groups are H (the first call is its warm-up, not a speed; nothing measured
      // before); from then on it is measured at a small fraction of the median speed: 1 step
      expect(slow.slice(0, 2).every((n) => n <= H)).toBe(true);
      expect(slow.slice(2).length).toBeGreaterThan(2);
      expect(slow.slice(2).every((n) => n <= 2)).toBe(true);
      expect(Math.max(...fast)).toBe(H);
      // the fast members ran more steps in all than the slow one
      expect(fast.reduce((a, b) => a + b, 0)).toBeGreaterThan(3 * slow.reduce((a, b) => a + b, 0));
      expect(rounds.at(-1)?.loss).toBeLessThan(rounds[0].loss);
      // the iteration event says the speeds it went by: the slow member's a small share of the others'
      const last = rounds.at(-1)?.speeds ?? {};
      const names = Object.keys(last);
      expect(names).toHaveLength(3);
      const fastest = Math.max(...names.filter((n) => n !== 'slow').map((n) => last[n]));
      expect(last.slow).toBeGreaterThan(0);
      expect(last.slow).toBeLessThan(0.5 * fastest);
    });

  it("a round of the run's own workers keeps H for everyone by default, as with balance off", async () => {
    for (const balance of [undefined, false]) {
      const { groups, rounds } = await room(job(balance === undefined ? {} : { balance }), 30);
      expectEveryEpochOnce(rounds);
      // each epoch: two full rounds (12 mini-batches from its iterations 0 and 12) give every member
      // H, the slow one too; the last 6 are spread, 2 each
      expect(groups).toHaveLength(27);
      for (const g of groups) expect([g.round % 30, g.steps]).toEqual([g.round % 30, g.round % 30 < 24 ? H : 2]);
      expect(groups.filter((g) => g.worker === 'slow')).toHaveLength(9);
    }
  });

  it('refuses a balance that is not true or false', () => {
    expect(() => validateJob(job({ balance: 'yes' as unknown as boolean }))).toThrow(/balance must be true or false/);
  });
});
