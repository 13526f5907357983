/**
 * Mode `local` (DiLoCo) in Node worker threads: the exactness anchor (1 worker, H = 1, inner SGD,
 * outer SGD at lr 1 equals exact mode), churn (a worker killed mid-round and one joining: every
 * mini-batch of every round counted once), resume from a checkpoint, and compressed pseudo-gradients.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../src/checkpoint.js';
import type { JobConfig } from '../src/job.js';
import { Trainer, type TrainerOptions } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { exactJob, sgdJob } from './fixtures.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function run(job: JobConfig, workers: WorkerHandle[], opts: TrainerOptions = {}) {
  const t = new Trainer(job, { backends: ['wasm'], ...opts });
  open.push(t);
  for (const w of workers) t.addWorker(w);
  const rounds: { iteration: number; examples: number; epoch: number; bytesIn: number; bytesOut: number }[] = [];
  t.on('iteration', (e) =>
    rounds.push({
      iteration: e.iteration,
      examples: e.examples,
      epoch: e.epoch,
      bytesIn: e.bytes.in,
      bytesOut: e.bytes.out,
    }),
  );
  const result = await t.run();
  return { t, result, rounds };
}

/**
 * A run of `job` on one thread stopped at its first iteration event at or past `stopAt`, then
 * resumed from its checkpoint on a fresh thread: where it stopped, the resumed run's iteration
 * events, and its result.
 */
async function stopAndResume(job: JobConfig, stopAt: number) {
  const store = new MemoryCheckpointStore();
  const first = new Trainer(job, { backends: ['wasm'], checkpoint: { store } });
  open.push(first);
  first.addWorker(spawnThreadWorker());
  first.on('iteration', (e) => {
    if (e.iteration >= stopAt) first.stop();
  });
  const stopped = (await first.run()).position.iteration;
  const second = Trainer.fromCheckpoint((await store.load()) as Uint8Array, { backends: ['wasm'] });
  open.push(second);
  second.addWorker(spawnThreadWorker());
  const rounds: number[] = [];
  second.on('iteration', (e) => rounds.push(e.iteration));
  return { stopped, rounds, resumed: await second.run() };
}

describe('mode local', () => {
  it('anchor: 1 worker, H = 1, inner SGD and outer SGD at lr 1 equals exact mode', async () => {
    const exact = await run(sgdJob, [spawnThreadWorker()]);
    const local = await run({ ...sgdJob, mode: { kind: 'local', steps: 1, outer: { kind: 'sgd', lr: 1 } } }, [
      spawnThreadWorker(),
    ]);
    expect(local.result.position.iteration).toBe(20);
    expect(relativeDifference(local.result.weights, exact.result.weights)).toBeLessThanOrEqual(1e-5);
    // and it really trained
    expect(
      relativeDifference(
        local.result.weights,
        (await run({ ...sgdJob, maxIterations: 1 }, [spawnThreadWorker()])).result.weights,
      ),
    ).toBeGreaterThan(1e-3);
  });

  it('anchor with momentum restarts: outer classic momentum at lr 1 restarted every step (v = the mean change) equals exact mode', async () => {
    const exact = await run(sgdJob, [spawnThreadWorker()]);
    const outer = { kind: 'momentum', form: 'classic', momentum: 0.9, lr: 1, restartEvery: 1 } as const;
    const local = await run({ ...sgdJob, mode: { kind: 'local', steps: 1, warmup: 0, outer } }, [spawnThreadWorker()]);
    expect(relativeDifference(local.result.weights, exact.result.weights)).toBeLessThanOrEqual(1e-5);
    // without the restarts the same momentum is not exact mode: the restarts are what makes it so
    const carried = await run(
      { ...sgdJob, mode: { kind: 'local', steps: 1, warmup: 0, outer: { ...outer, restartEvery: undefined } } },
      [spawnThreadWorker()],
    );
    expect(relativeDifference(carried.result.weights, exact.result.weights)).toBeGreaterThan(1e-3);
  });

  it("innerScale 'sqrt-workers': 2 workers train as with the inner rate times sqrt(2), and that is not the unscaled run", async () => {
    // batch 50: 6 mini-batches an epoch, so every round of 2 workers x 3 steps has both groups
    const base: JobConfig = { ...exactJob, batchSize: 50, maxIterations: 18, schedule: undefined };
    const sgd = (lr: number) => ({ kind: 'sgd', lr }) as const;
    const local = (innerScale: 'none' | 'sqrt-workers') =>
      ({ kind: 'local', steps: 3, warmup: 0, outer: sgd(1), innerScale }) as const;
    const scaled = await run({ ...base, optimizer: sgd(0.05), mode: local('sqrt-workers') }, [
      spawnThreadWorker(),
      spawnThreadWorker(),
    ]);
    const byHand = await run({ ...base, optimizer: sgd(0.05 * Math.SQRT2), mode: local('none') }, [
      spawnThreadWorker(),
      spawnThreadWorker(),
    ]);
    const plain = await run({ ...base, optimizer: sgd(0.05), mode: local('none') }, [
      spawnThreadWorker(),
      spawnThreadWorker(),
    ]);
    expect(scaled.result.position.iteration).toBe(18);
    expect(relativeDifference(scaled.result.weights, byHand.result.weights)).toBeLessThanOrEqual(1e-6);
    expect(relativeDifference(scaled.result.weights, plain.result.weights)).toBeGreaterThan(1e-3);
    expect(() => new Trainer({ ...base, mode: { ...local('none'), innerScale: 'linear' as 'none' } })).toThrow(
      /innerScale must be one of none, sqrt-workers/,
    );
  });

  it("an epoch's last round, shorter than a full one, is spread over every member (not H to a few while the rest stand by)", async () => {
    // 300 examples, batch 64: 5 mini-batches an epoch, less than 3 workers x H = 4; handed out H at a
    // time that was 2 groups (4 and 1 steps) with a worker standing by
    const job: JobConfig = { ...sgdJob, maxIterations: 15, mode: { kind: 'local', steps: 4, warmup: 0 } };
    const t = new Trainer(job, { backends: ['wasm'] });
    open.push(t);
    for (let i = 0; i < 3; i++) t.addWorker(spawnThreadWorker());
    const seen: { epoch: number; examples: number; round?: { steps: number; groups: number } }[] = [];
    t.on('iteration', (e) => seen.push({ epoch: e.epoch, examples: e.examples, round: e.round }));
    await t.run();
    for (let e = 0; e < 3; e++) expect(seen.filter((x) => x.epoch === e).reduce((a, x) => a + x.examples, 0)).toBe(300);
    // once all three are ready (the first round may start before), each epoch is one round of 2, 2 and 1 steps
    const later = seen.filter((x) => x.epoch >= 1);
    expect(later.length).toBe(2);
    for (const x of later) expect(x.round).toEqual({ steps: 2, groups: 3 });
  });

  it('churn: a worker killed mid-round and one joining lose nothing and count nothing twice; the run converges', async () => {
    const job: JobConfig = {
      ...exactJob,
      epochs: 6,
      maxIterations: undefined,
      evaluate: true,
      mode: { kind: 'local', steps: 2 },
    };
    const t = new Trainer(job, { backends: ['wasm'] });
    open.push(t);
    t.addWorker(spawnThreadWorker());
    t.addWorker(spawnThreadWorker());
    const doomed = spawnThreadWorker();
    let calls = 0;
    t.addWorker({
      ...doomed,
      trainLocal: (req) => {
        const p = (doomed.trainLocal as NonNullable<WorkerHandle['trainLocal']>)(req);
        if (++calls === 3) void doomed.close('killed by the test mid-round');
        return p;
      },
    });
    const rounds: { examples: number; epoch: number; loss: number }[] = [];
    let replanned = 0;
    let joined = false;
    t.on('iteration', (e) => {
      rounds.push({ examples: e.examples, epoch: e.epoch, loss: e.loss });
      replanned += e.replanned;
      if (rounds.length === 4 && !joined) {
        joined = true;
        t.addWorker(spawnThreadWorker());
      }
    });
    const epochs: number[] = [];
    t.on('epoch', (e) => epochs.push(e.testAccuracy));
    const result = await t.run();
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(replanned).toBeGreaterThanOrEqual(1);
    // every epoch's rounds account for its 300 examples exactly: nothing lost, nothing twice
    for (let e = 0; e < 6; e++) {
      expect(rounds.filter((r) => r.epoch === e).reduce((a, r) => a + r.examples, 0)).toBe(300);
    }
    expect(result.position.iteration).toBe(6 * 5);
    expect(rounds.at(-1)?.loss).toBeLessThan(rounds[0].loss);
    expect(result.testAccuracy).toBeGreaterThan(0.8);
  });

  it('resume from a checkpoint continues exactly as the uninterrupted run', async () => {
    const job: JobConfig = { ...sgdJob, maxIterations: 12, mode: { kind: 'local', steps: 2 } };
    const whole = await run(job, [spawnThreadWorker()]);
    const store = new MemoryCheckpointStore();
    const first = new Trainer(job, { backends: ['wasm'], checkpoint: { store } });
    open.push(first);
    first.addWorker(spawnThreadWorker());
    first.on('iteration', (e) => {
      if (e.iteration >= 6) first.stop();
    });
    const stopped = await first.run();
    expect(stopped.stopped).toBe(true);
    const bytes = await store.load();
    expect(bytes).not.toBeNull();
    const second = Trainer.fromCheckpoint(bytes as Uint8Array, { backends: ['wasm'] });
    open.push(second);
    second.addWorker(spawnThreadWorker());
    const resumed = await second.run();
    expect(resumed.position.iteration).toBe(12);
    expect(relativeDifference(resumed.weights, whole.result.weights)).toBeLessThanOrEqual(1e-6);
  });

  it('warm start: the first iterations are exact mode; with the anchor settings the whole run still equals exact mode', async () => {
    const exact = await run(sgdJob, [spawnThreadWorker()]);
    const warm = await run({ ...sgdJob, mode: { kind: 'local', steps: 1, outer: { kind: 'sgd', lr: 1 }, warmup: 7 } }, [
      spawnThreadWorker(),
    ]);
    expect(relativeDifference(warm.result.weights, exact.result.weights)).toBeLessThanOrEqual(1e-5);
    // one iteration a round before the switch (exact), and round events after it (local)
    expect(warm.rounds.slice(0, 7).map((r) => r.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('warm start with Adam: resume from a checkpoint before the switch equals the uninterrupted run across it', async () => {
    const job: JobConfig = {
      ...exactJob,
      maxIterations: 16,
      mode: { kind: 'local', steps: 2, outer: { kind: 'momentum', lr: 0.7, momentum: 0.9, nesterov: true }, warmup: 6 },
    };
    const whole = await run(job, [spawnThreadWorker()]);
    for (const stopAt of [4, 6, 10]) {
      const { resumed } = await stopAndResume(job, stopAt);
      expect(resumed.position.iteration).toBe(16);
      // past the switch the workers' inner Adam state is not in a checkpoint: exact only up to it
      if (stopAt <= 6) expect(relativeDifference(resumed.weights, whole.result.weights)).toBeLessThanOrEqual(1e-6);
      else expect(resumed.weights.every(Number.isFinite)).toBe(true);
    }
  });

  it('compressed pseudo-gradients (fp16, int8; topk back with int8 weights out) cost 1/2, about 1/4 and under 1/16 of the bytes and train as well', async () => {
    // a layer wide enough that the weights, not the indices, are the bytes
    const base: JobConfig = {
      ...exactJob,
      model: { kind: 'mlp', inputShape: [20], hidden: [256], classes: 4 },
      epochs: 5,
      maxIterations: undefined,
      evaluate: true,
    };
    const results: Record<string, { acc: number; bytesIn: number; bytesOut: number }> = {};
    for (const compress of ['none', 'fp16', 'int8', 'topk'] as const) {
      const r = await run({ ...base, mode: { kind: 'local', steps: 2, compress } }, [
        spawnThreadWorker(),
        spawnThreadWorker(),
      ]);
      // rounds after the first of their epoch: the first one of a run sends every worker the full
      // weights, and the evaluation between epochs hands them the weights outside the rounds' counts
      const later = r.rounds.filter((x, i) => i > 0 && r.rounds[i - 1].epoch === x.epoch);
      results[compress] = {
        acc: r.result.testAccuracy,
        bytesIn: later.reduce((a, x) => a + x.bytesIn, 0),
        bytesOut: later.reduce((a, x) => a + x.bytesOut, 0),
      };
    }
    expect(results.fp16.bytesIn / results.none.bytesIn).toBeLessThanOrEqual(0.55);
    expect(results.int8.bytesIn / results.none.bytesIn).toBeLessThanOrEqual(0.3);
    expect(results.fp16.bytesOut / results.none.bytesOut).toBeLessThanOrEqual(0.55);
    expect(results.int8.bytesOut / results.none.bytesOut).toBeLessThanOrEqual(0.3);
    expect(Math.abs(results.fp16.acc - results.none.acc)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(results.int8.acc - results.none.acc)).toBeLessThanOrEqual(0.02);
    // topk: the pseudo-gradients at 17x fewer bytes (its places and int8 values), the weights as int8
    expect(results.topk.bytesIn / results.none.bytesIn).toBeLessThanOrEqual(1 / 16);
    expect(results.topk.bytesOut / results.none.bytesOut).toBeLessThanOrEqual(0.3);
    expect(Math.abs(results.topk.acc - results.none.acc)).toBeLessThanOrEqual(0.02);
  });

  it('refuses a bad mode with a clear error', () => {
    expect(() => new Trainer({ ...exactJob, mode: { kind: 'local', steps: 0 } })).toThrow(
      /local steps must be 'auto' or an integer/,
    );
    expect(() => new Trainer({ ...exactJob, mode: { kind: 'local', steps: 2, compress: 'int4' as 'int8' } })).toThrow(
      /compress must be one of none, fp16, int8, topk, got int4/,
    );
    expect(() => new Trainer({ ...exactJob, mode: { kind: 'local', steps: 2, warmup: 4, warmupSteps: 0 } })).toThrow(
      /warmupSteps must be a positive integer/,
    );
    expect(() => new Trainer({ ...exactJob, mode: { kind: 'local', steps: 2, warmupSteps: 1 } })).toThrow(
      /warmupSteps needs a warm start/,
    );
  });

  it('a warm start in short local rounds (warmupSteps): rounds of that many steps until warmup, then H; the anchor still equals exact mode, and a resume across the switch equals the uninterrupted run', async () => {
    const job: JobConfig = {
      ...sgdJob,
      maxIterations: 16,
      mode: { kind: 'local', steps: 3, outer: { kind: 'sgd', lr: 1 }, warmup: 6, warmupSteps: 2 },
    };
    const whole = await run(job, [spawnThreadWorker()]);
    // 5 mini-batches an epoch: rounds of 2 until the warm start's 6 iterations are done, then of 3,
    // each epoch's last one shorter, and the run's last cut at 16
    const ends = [2, 4, 5, 7, 10, 13, 15, 16];
    expect(whole.rounds.map((r) => r.iteration)).toEqual(ends);
    // 1 worker, inner SGD, outer SGD at lr 1: every mini-batch once, in order, whatever the rounds
    const exact = await run({ ...sgdJob, maxIterations: 16 }, [spawnThreadWorker()]);
    expect(relativeDifference(whole.result.weights, exact.result.weights)).toBeLessThanOrEqual(1e-5);
    for (const stopAt of [4, 6]) {
      const { stopped, rounds, resumed } = await stopAndResume(job, stopAt);
      expect(resumed.position.iteration).toBe(16);
      // the resumed run goes on in the same rounds: short ones before the switch, H after
      expect(rounds).toEqual(ends.filter((i) => i > stopped));
      expect(relativeDifference(resumed.weights, whole.result.weights)).toBeLessThanOrEqual(1e-6);
    }
  });
});
