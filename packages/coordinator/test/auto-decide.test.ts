/**
 * Mode auto's first decision waits for every member's figures (issue 18 §3). In a classroom room the
 * peers join while the host measures, and their first shard waits for the data set to travel: the
 * MNIST room of 6 volunteers decided at iteration 4 on the host's linkless worker alone, priced the
 * peers as that, chose exact mode and held it for the epoch (the peers were measured 7-11 s later).
 * The pool here is a stand-in: this is the decision's logic, which the thread tests run for real.
 */
import { describe, expect, it } from 'vitest';
import type { Dispatcher } from '../src/dispatch.js';
import { DEFAULT_JOB, type JobConfig } from '../src/job.js';
import { AutoPhases, MEASURE_ITERATIONS } from '../src/modes/auto.js';
import type { ShardPlanner } from '../src/planning.js';
import type { WorkerPool } from '../src/pool.js';
import type { WorkerSession } from '../src/session.js';

interface Fake {
  id: string;
  kind: 'thread' | 'peer';
  cost?: { fixedMs: number; msPerExample: number };
}

function phases(members: Fake[], joins = { joining: 0 }) {
  const sessions = () =>
    members.map((m) => ({
      id: m.id,
      measured: m.cost !== undefined,
      // mode auto decides on the compute each member reports, over its last shards (steadyCost)
      steadyCost: () => m.cost,
      handle: { kind: m.kind, trainLocal: async () => undefined },
    })) as unknown as WorkerSession[];
  const pool = {
    ready: sessions,
    get joining() {
      return joins.joining;
    },
  } as unknown as WorkerPool;
  // the default MNIST job, as the testbed's room ran it
  const job = { ...DEFAULT_JOB, mode: { kind: 'auto' } } as JobConfig & { mode: { kind: 'auto' } };
  return new AutoPhases(job, pool, {} as Dispatcher, {} as ShardPlanner, {}, () => ({
    parameters: 101_770,
    trainSize: 8_000,
  }));
}

const at = (iteration: number, epoch = 0) => ({ epoch, batch: iteration % 125, iteration });
// the testbed's classroom figures: the host's thread (no link), and peers behind the shared link
const host = { fixedMs: 2.4, msPerExample: 1.5 };
const peer = { fixedMs: 690, msPerExample: 0.75 };

describe('mode auto: the first decision', () => {
  it('waits while a present member is not measured, then decides on every member', () => {
    const members: Fake[] = [
      { id: 'thread-1', kind: 'thread', cost: host },
      ...Array.from({ length: 6 }, (_, k): Fake => ({ id: `v${k}`, kind: 'peer' })),
    ];
    const auto = phases(members);
    for (let i = 0; i <= 60; i++) expect(auto.decide(at(i))).toBeUndefined();
    expect(auto.decision.mode).toBe('exact');
    for (const m of members) m.cost ??= peer;
    const said = auto.decide(at(61));
    expect(said).toMatch(
      /^iteration 62: mode auto, switching to mode local, H = \d+( \(\d+ steps a round: the epoch is short\))?: /,
    );
    expect(said).toMatch(/measured \(median of 7\)/);
    expect(said).not.toMatch(/not measured yet/);
    expect(auto.decision.mode).toBe('local');
    // decided: not again in this epoch while the members stay
    expect(auto.decide(at(62))).toBeUndefined();
  });

  it('waits while members are still joining (a peer fetching its data set), then decides with them', () => {
    const members: Fake[] = [{ id: 'thread-1', kind: 'thread', cost: host }];
    const joins = { joining: 6 };
    const auto = phases(members, joins);
    for (let i = 0; i <= 40; i++) expect(auto.decide(at(i))).toBeUndefined();
    // set up, then measured
    joins.joining = 0;
    for (let k = 0; k < 6; k++) members.push({ id: `v${k}`, kind: 'peer' });
    expect(auto.decide(at(41))).toBeUndefined();
    for (const m of members) m.cost ??= peer;
    expect(auto.decide(at(42))).toMatch(/^iteration 43: mode auto, switching to mode local, .*median of 7/);
  });

  it('decides on the figures it has at the first epoch end, and says how many it lacked', () => {
    const members: Fake[] = [
      { id: 'thread-1', kind: 'thread', cost: host },
      { id: 'v0', kind: 'peer', cost: peer },
      { id: 'v1', kind: 'peer' },
    ];
    const auto = phases(members);
    for (let i = 0; i < 125; i++) expect(auto.decide(at(i))).toBeUndefined();
    const said = auto.decide(at(125, 1));
    expect(said).toMatch(/^iteration 126: mode auto, /);
    expect(said).toMatch(/measured \(median of 2\).*\(1 not measured yet, counted as that\)/);
  });

  it('at the first epoch end, leaves out a member still joining and says so', () => {
    const auto = phases([{ id: 'thread-1', kind: 'thread', cost: host }], { joining: 1 });
    for (let i = 0; i < 125; i++) expect(auto.decide(at(i))).toBeUndefined();
    expect(auto.decide(at(125, 1))).toMatch(/median of 1\).*\(1 still joining, left out\)/);
  });

  it('with every member measured, decides after the measuring iterations as before', () => {
    const auto = phases([
      { id: 'thread-1', kind: 'thread', cost: host },
      { id: 'thread-2', kind: 'thread', cost: host },
    ]);
    for (let i = 0; i < MEASURE_ITERATIONS; i++) expect(auto.decide(at(i))).toBeUndefined();
    expect(auto.decide(at(MEASURE_ITERATIONS))).toMatch(
      new RegExp(`^iteration ${MEASURE_ITERATIONS + 1}: mode auto, staying in mode exact: `),
    );
  });
});
