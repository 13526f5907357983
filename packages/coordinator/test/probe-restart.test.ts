/**
 * A volunteer standing by is judged on its latest probe, not on figures from another time: in a
 * testbed room a volunteer's first timed shard, taken while every member fetched its first weights
 * over the shared link, kept it out of a 200-iteration run, though each later probe measured it
 * far cheaper. Simulated room: a volunteer on the LAN and one with a slower link whose first timed
 * shard took 70 ms extra.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Trainer } from '../src/trainer.js';
import { Cpu, simulatedJob, simulatedWorker } from './simulated.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('a worker standing by', () => {
  it('takes shards again once a probe finds it pays, whatever its first timed shard cost', async () => {
    const job = { ...simulatedJob(130), batchSize: 64, epochs: 2 };
    const t = new Trainer(job, { waitForWorkers: true });
    open.push(t);
    // a volunteer on the room's LAN (a peer: the own-worker check, which could bring the other back by
    // its own trial, is not in play)
    t.addWorker(simulatedWorker({ id: 'near', kind: 'peer', job, cpu: new Cpu(), fixedMs: 0, msPerExample: 1 }));
    t.addWorker(
      simulatedWorker({
        id: 'peer',
        kind: 'peer',
        job,
        cpu: new Cpu(),
        fixedMs: 40,
        msPerExample: 0.1,
        // shard 0 is its warm-up (not timed); shard 1, its first timed one, waits 70 ms more on a
        // busy link: 110 ms, under 3x its 40 (so the moments do not start over by themselves)
        extraMs: (k) => (k === 1 ? 70 : 0),
      }),
    );
    const shares: number[] = [];
    const standby: (string | undefined)[] = [];
    t.on('iteration', (e) => {
      const w = e.workers.find((x) => x.id === 'peer');
      shares.push(w?.share ?? 0);
      standby.push(w?.standby);
    });
    await t.run();
    expect(shares).toHaveLength(130);
    // it stood by after the slow shard...
    expect(standby.some((s) => s?.startsWith('standing by'))).toBe(true);
    // ...and its first probe (about 35 rounds later: the probe budget) brought it back for good;
    // the moments' average would have priced it at 89, 74 and 64 ms after three probes (the other
    // alone takes 64), each waiting longer
    const back = shares.findIndex((s, i) => i > 2 && s > 0);
    expect(back).toBeGreaterThan(2);
    expect(back).toBeLessThan(70);
    expect(shares.slice(back).every((s) => s > 0)).toBe(true);
  }, 60_000);
});
