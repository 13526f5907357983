/**
 * Mode auto (issue 18 §3) in Node worker threads with the real Trainer: fast members whose time goes
 * on compute stay in exact mode; members with a high fixed cost per shard (a thin link) switch to
 * mode local with H > 1; every example is counted once per epoch across the switch; a checkpoint of
 * an auto run resumes with a fresh decision.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../src/checkpoint.js';
import type { JobConfig } from '../src/job.js';
import { MEASURE_ITERATIONS } from '../src/modes/auto.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { exactJob } from './fixtures.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A slower device: `msPerExample` more compute, reported as compute (its time grows with the shard). */
function slowerDevice(inner: WorkerHandle, msPerExample: number): WorkerHandle {
  return {
    ...inner,
    closed: inner.closed,
    compute: async (req) => {
      const r = await inner.compute(req);
      const extra = msPerExample * req.indices.length;
      await wait(extra);
      return { ...r, computeMs: r.computeMs + extra };
    },
  };
}

/** A thin link: every call waits `ms` more whatever its size (weights in, result out). */
function thinLink(inner: WorkerHandle, ms: number): WorkerHandle {
  const local = inner.trainLocal;
  return {
    ...inner,
    closed: inner.closed,
    compute: async (req) => {
      const r = await inner.compute(req);
      await wait(ms);
      return r;
    },
    ...(local
      ? {
          trainLocal: async (req: Parameters<typeof local>[0]) => {
            const r = await local(req);
            await wait(ms);
            return r;
          },
        }
      : {}),
  };
}

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

// 300 examples in mini-batches of 64: 5 an epoch (the last holds 44)
const autoJob: JobConfig = {
  ...exactJob,
  maxIterations: undefined,
  epochs: 3,
  mode: { kind: 'auto', outer: { kind: 'sgd', lr: 1 } },
};

type Seen = { iteration: number; epoch: number; examples: number; mode?: string; steps?: number; reason?: string };

async function run(t: Trainer, workers: WorkerHandle[]) {
  open.push(t);
  for (const w of workers) t.addWorker(w);
  const seen: Seen[] = [];
  const logs: string[] = [];
  t.on('iteration', (e) =>
    seen.push({
      iteration: e.iteration,
      epoch: e.epoch,
      examples: e.examples,
      mode: e.auto?.mode,
      steps: e.auto?.steps,
      reason: e.auto?.reason,
    }),
  );
  t.on('log', (e) => logs.push(e.message));
  const result = await t.run();
  return { result, seen, logs };
}

function examplesPerEpoch(seen: Seen[]): number[] {
  const out: number[] = [];
  for (const s of seen) out[s.epoch] = (out[s.epoch] ?? 0) + s.examples;
  return out;
}

describe('mode auto', () => {
  it('members whose time goes on compute (5 ms an example, no link): stays in exact mode', async () => {
    const t = new Trainer({ ...autoJob, epochs: 2 }, { backends: ['wasm'] });
    const { seen, logs } = await run(t, [slowerDevice(spawnThreadWorker(), 5), slowerDevice(spawnThreadWorker(), 5)]);
    expect(seen).toHaveLength(10); // one event per mini-batch: never a local round
    expect(seen.every((s) => s.mode === 'exact' && s.steps === 1)).toBe(true);
    const decided = logs.filter((l) => l.includes('mode auto'));
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatch(
      new RegExp(
        `^iteration ${MEASURE_ITERATIONS + 1}: mode auto, staying in mode exact: .*predicted .* s to the target`,
      ),
    );
    expect(seen[MEASURE_ITERATIONS].reason).toMatch(/^mode exact: /);
    expect(examplesPerEpoch(seen)).toEqual([300, 300]);
  });

  it('members with +200 ms a shard (a thin link): switches to mode local with H > 1, every example once an epoch', async () => {
    const t = new Trainer(autoJob, { backends: ['wasm'] });
    const { result, seen, logs } = await run(t, [
      thinLink(spawnThreadWorker(), 200),
      thinLink(spawnThreadWorker(), 200),
    ]);
    // measured in exact mode first, one mini-batch an event
    expect(seen.slice(0, MEASURE_ITERATIONS).map((s) => [s.mode, s.examples])).toEqual(
      Array.from({ length: MEASURE_ITERATIONS }, () => ['exact', 64]),
    );
    const after = seen.slice(MEASURE_ITERATIONS);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.mode === 'local' && (s.steps ?? 0) > 1)).toBe(true);
    expect(after[0].reason).toMatch(
      /^mode local, H = \d+( \(\d+ steps a round: the epoch is short\))?: .*predicted .* s to the target against .* s in exact mode; measured \(median of 2\): \d+\.\d ms a shard whatever its size/,
    );
    // the measured fixed cost holds the link's 200 ms (and, on a loaded machine, more: 365.5 once in CI)
    const fixedMs = Number(/: (\d+\.\d) ms a shard whatever its size/.exec(after[0].reason ?? '')?.[1]);
    expect(fixedMs).toBeGreaterThanOrEqual(200);
    expect(fixedMs).toBeLessThan(1000);
    expect(logs.filter((l) => l.includes('mode auto, switching to mode local'))).toHaveLength(1);
    // nothing lost or counted twice across the switch: 300 examples in each of the 3 epochs
    expect(examplesPerEpoch(seen)).toEqual([300, 300, 300]);
    expect(result.position).toEqual({ epoch: 3, batch: 0, iteration: 15 });
  });

  it('a checkpoint saved in mode local resumes with a fresh decision: exact while measuring, then local again', async () => {
    const store = new MemoryCheckpointStore();
    const first = new Trainer(autoJob, { backends: ['wasm'], checkpoint: { store } });
    first.on('iteration', (e) => {
      if (e.iteration >= 7) first.stop();
    });
    const a = await run(first, [thinLink(spawnThreadWorker(), 200), thinLink(spawnThreadWorker(), 200)]);
    expect(a.result.stopped).toBe(true);
    expect(a.seen.at(-1)?.mode).toBe('local');
    const bytes = (await store.load()) as Uint8Array;
    const second = Trainer.fromCheckpoint(bytes, { backends: ['wasm'] });
    expect(second.position.iteration).toBe(a.result.position.iteration);
    const b = await run(second, [thinLink(spawnThreadWorker(), 200), thinLink(spawnThreadWorker(), 200)]);
    expect(b.seen[0].mode).toBe('exact');
    expect(b.seen.at(-1)?.mode).toBe('local');
    // the whole run, both halves: every example once an epoch
    expect(examplesPerEpoch([...a.seen, ...b.seen])).toEqual([300, 300, 300]);
  });

  it('decides again when a member joins, at the next epoch, and not again while the members stay', async () => {
    const t = new Trainer({ ...autoJob, epochs: 4 }, { backends: ['wasm'] });
    let joined = false;
    t.on('iteration', (e) => {
      if (e.iteration === 4 && !joined) {
        joined = true;
        // paused until it is set up, so it joins within epoch 0 however slow the machine is
        t.pause();
        void t.addWorker(slowerDevice(spawnThreadWorker(), 5)).finally(() => t.resume());
      }
    });
    const { seen, logs } = await run(t, [slowerDevice(spawnThreadWorker(), 5)]);
    expect(joined).toBe(true);
    const decided = logs.filter((l) => l.includes('mode auto'));
    expect(decided).toHaveLength(2);
    const at = decided.map((l) => Number(/^iteration (\d+):/.exec(l)?.[1]));
    expect(at[0]).toBe(MEASURE_ITERATIONS + 1);
    // the join came in epoch 0 (iterations 1-5), after the first decision: the next is epoch 1's first
    expect(at[1]).toBe(6);
    // between two decisions one mode runs: the one the decision named (on this compute-bound job,
    // exact; a fresh CI run on a loaded machine once measured overhead enough to choose local at
    // the join, which is not what this test is about)
    for (const [from, to] of [
      [at[0], at[1]],
      [at[1], Number.POSITIVE_INFINITY],
    ])
      expect(new Set(seen.filter((s) => s.iteration >= from && s.iteration < to).map((s) => s.mode)).size).toBe(1);
    expect(examplesPerEpoch(seen)).toEqual([300, 300, 300, 300]);
  });

  it('refuses a bad auto job with a typed error', () => {
    expect(() => new Trainer({ ...autoJob, mode: { kind: 'auto', examplesExact: -1 } })).toThrow(/examplesExact/);
    expect(() => new Trainer({ ...autoJob, mode: { kind: 'auto', compress: 'zip' as 'int8' } })).toThrow(/compress/);
  });
});
