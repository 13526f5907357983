/**
 * Planning 'all' (every worker computes a share sized to its speed): a worker measured far slower
 * than the others still gets a shard, so it is measured again. A CI run's testbed test once saw a
 * Node volunteer get nothing from its third iteration to its sixtieth beside a Chromium tab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { everyOneAShard } from '../src/planning.js';
import { Trainer } from '../src/trainer.js';
import { Cpu, simulatedJob, simulatedWorker } from './simulated.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe("planning 'all'", () => {
  it('gives a worker rounded to nothing the smallest shard, from the largest', () => {
    expect(everyOneAShard([64, 0], 1)).toEqual([63, 1]);
    expect(everyOneAShard([60, 4, 0, 0], 2)).toEqual([56, 4, 2, 2]);
    expect(everyOneAShard([30, 34], 1)).toEqual([30, 34]);
    // the largest cannot spare it: left as it is
    expect(everyOneAShard([1, 0], 1)).toEqual([1, 0]);
    expect(everyOneAShard([3, 0], 2)).toEqual([3, 0]);
  });

  // without everyOneAShard it got nothing from its third iteration on (shares 0.5, 0.5, 0, 0, ...)
  it('a worker whose first measured shard took 6 s (its first is a warm-up, not timed): it takes part in every iteration after it', async () => {
    const job = { ...simulatedJob(20), batchSize: 64 };
    const t = new Trainer(job, { planning: 'all' });
    open.push(t);
    t.addWorker(simulatedWorker({ id: 'fast', kind: 'thread', job, cpu: new Cpu(), fixedMs: 0, msPerExample: 0.5 }));
    t.addWorker(
      simulatedWorker({
        id: 'slow',
        kind: 'thread',
        job,
        cpu: new Cpu(),
        fixedMs: 0,
        msPerExample: 0.5,
        extraMs: (k) => (k === 1 ? 6000 : 0),
      }),
    );
    const shares: number[] = [];
    t.on('iteration', (e) => shares.push(e.workers.find((w) => w.id === 'slow')?.share ?? 0));
    await t.run();
    expect(shares).toHaveLength(20);
    expect(shares.every((s) => s > 0)).toBe(true);
  }, 60_000);
});
