/**
 * The run's own worker is checked by measurement (issue 18 §4; core's OwnWorkerCheck), in a
 * simulated room: the host's CPU runs both its own worker's compute and the coordinator's work for
 * each volunteer's shard (its sends), one piece at a time, as a laptop held to a fraction of a core
 * does. The own worker's compute then delays every volunteer, and the room is faster without it;
 * on a host whose own worker has a CPU of its own, it keeps computing. (A unit test of planning
 * logic: the workers are simulated, their results zero gradients of the right length; the
 * classroom testbed measures the real thing, README "Round fourteen".)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Trainer } from '../src/trainer.js';
import { Cpu, simulatedJob, simulatedWorker } from './simulated.js';

const job = simulatedJob(80);

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/**
 * A room of the own worker and 3 volunteers; `shared`: the own worker computes on the host's CPU.
 * Returns the own worker's share and the median ms of the last 20 iterations, and the log.
 */
async function room(shared: boolean): Promise<{ ownShare: number; ms: number; logs: string[] }> {
  const host = new Cpu();
  const t = new Trainer(job);
  open.push(t);
  // the own worker: 2 ms an example, on the host's CPU or its own; each volunteer: 6 ms of the
  // host's CPU a shard (its weights sent), then 1 ms an example on its own
  t.addWorker(
    simulatedWorker({ id: 'own', kind: 'thread', job, cpu: shared ? host : new Cpu(), fixedMs: 0, msPerExample: 2 }),
  );
  for (let i = 0; i < 3; i++)
    t.addWorker(
      simulatedWorker({
        id: `v${i}`,
        kind: 'peer',
        job,
        cpu: new Cpu(),
        fixedMs: 0,
        msPerExample: 1,
        before: { cpu: host, ms: 6 },
      }),
    );
  const own: number[] = [];
  const times: number[] = [];
  const logs: string[] = [];
  t.on('log', (e) => logs.push(e.message));
  t.on('iteration', (e) => {
    own.push(e.workers.find((w) => w.kind === 'thread')?.share ?? 0);
    times.push(e.timing.totalMs);
  });
  await t.run();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { ownShare: own.slice(-20).reduce((a, b) => a + b, 0) / 20, ms: median(times.slice(-20)), logs };
}

describe("the run's own worker, checked by measurement", () => {
  it('sharing the host CPU with the sends: the room leaves it out, is faster for it, and says why', async () => {
    const r = await room(true);
    expect(r.logs.some((m) => /the room was faster without this machine's own worker/.test(m))).toBe(true);
    expect(r.ownShare).toBeLessThan(0.1);
  });

  it('on a CPU of its own: it keeps computing', async () => {
    const r = await room(false);
    expect(r.logs.some((m) => /the room was faster without this machine's own worker/.test(m))).toBe(false);
    expect(r.ownShare).toBeGreaterThan(0.1);
  });
});
