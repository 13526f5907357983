/**
 * Runs that fail clearly and lose nothing (issue 10): results do not stay reachable after their
 * call, a diverged run ends with a clear error instead of a loop, a worker that keeps failing is
 * dropped, error codes cross the comlink seam, the coordinator knows the data set's sizes itself,
 * and a poisoned but finite gradient never reaches the optimizer.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { GradroomError } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, MemoryCheckpointStore } from '../src/checkpoint.js';
import { Trainer, type TrainerOptions } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import { closeGuard } from '../src/worker-handle.js';
import { exactJob, exactReference } from './fixtures.js';
import { asPeer } from './peer-fakes.js';
import { relativeDifference } from './reference/serial.js';

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

const open: Trainer[] = [];
let reference: Float32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = await exactReference();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

function trainer(extra: TrainerOptions = {}, job = exactJob): Trainer {
  const t = new Trainer(job, { backends: ['wasm'], ...extra });
  open.push(t);
  return t;
}

describe('no result stays reachable after its call', () => {
  it('closeGuard: 200 settled calls of 400 KB each are collectable while the worker lives', async () => {
    const guard = closeGuard('w', new Promise<string>(() => {})); // a worker that never closes
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 200; i++) {
      const result = { gradSum: new Float32Array(100_000) };
      refs.push(new WeakRef(result));
      await guard(Promise.resolve(result));
    }
    await new Promise((r) => setTimeout(r, 10));
    gc();
    // racing each call against the pending `closed` promise kept all 200 (80 MB) alive
    expect(refs.filter((r) => r.deref() !== undefined).length).toBeLessThanOrEqual(2);
  });

  it('closeGuard still rejects pending calls at once when the worker closes', async () => {
    let close = (_: string) => {};
    const guard = closeGuard('w', new Promise<string>((r) => (close = r)));
    const pending = guard(new Promise(() => {}));
    close('thread exited with code 1');
    await expect(pending).rejects.toThrow(/worker w is gone: thread exited with code 1/);
    await expect(guard(Promise.resolve(1))).rejects.toThrow(/is gone/);
  });
});

describe('a diverged run ends with a clear error, never a loop', () => {
  it('sgd at lr 1e20: DIVERGED names the iteration and the fix; the last good checkpoint is kept', async () => {
    const store = new MemoryCheckpointStore();
    const t = trainer(
      { checkpoint: { store, everyIterations: 1 } },
      { ...exactJob, optimizer: { kind: 'sgd', lr: 1e20 }, schedule: undefined, maxIterations: 200 },
    );
    t.addWorker(spawnThreadWorker());
    t.addWorker(spawnThreadWorker());
    const states: string[] = [];
    let logs = 0;
    t.on('state', (e) => states.push(e.state));
    t.on('log', () => logs++);
    const err = await t.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GradroomError);
    expect((err as GradroomError).code).toBe('DIVERGED');
    expect((err as Error).message).toMatch(/the loss became NaN at iteration \d+ .*: lower the learning rate/);
    expect(states.at(-1)).toBe('failed');
    expect(logs).toBeLessThan(10); // not 70-150 "planned again" lines a second
    const saved = await store.load();
    if (saved) {
      const c = decodeCheckpoint(saved);
      expect(c.weights.every(Number.isFinite)).toBe(true);
    }
  });

  it('a checkpoint holding a NaN weight is refused', async () => {
    const t = trainer({}, { ...exactJob, maxIterations: 2 });
    t.addWorker(spawnThreadWorker());
    await t.run();
    const c = decodeCheckpoint(t.snapshot());
    c.weights[3] = Number.NaN;
    const bad = encodeCheckpoint(c);
    const resume = async () => {
      const r = Trainer.fromCheckpoint(bad, { backends: ['wasm'] });
      open.push(r);
      r.addWorker(spawnThreadWorker());
      await r.run();
    };
    await expect(resume()).rejects.toThrow(/NaN/);
  });

  it('a local worker that always sends NaN is dropped after its strikes; the run loses nothing', async () => {
    const t = trainer({ planning: 'all' });
    t.addWorker(spawnThreadWorker());
    const bad = spawnThreadWorker();
    t.addWorker({
      ...bad,
      compute: async (req) => {
        const r = await bad.compute(req);
        return { ...r, gradSum: r.gradSum.map(() => Number.NaN) };
      },
    });
    const left: string[] = [];
    t.on('worker', (e) => e.type === 'left' && left.push(e.reason ?? ''));
    const result = await t.run();
    expect(left.some((r) => /dropped after 3 strikes, last: .*NaN/.test(r))).toBe(true);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
  });
});

describe('error codes cross the comlink seam', () => {
  it("a thread's BAD_STATE arrives as a GradroomError with its code", async () => {
    const h = spawnThreadWorker();
    try {
      const err = await h.compute({ iteration: 0, version: 0, shardId: 0, indices: new Uint32Array([0]) }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GradroomError);
      expect((err as GradroomError).code).toBe('BAD_STATE');
      expect((err as Error).message).toMatch(/no task yet/);
    } finally {
      await h.close('test done');
    }
  });
});

describe("the coordinator trusts itself, not one peer's word", () => {
  it("a peer claiming another data set size is refused; the run's sizes come from the spec", async () => {
    const t = trainer();
    t.addWorker(spawnThreadWorker());
    const rejected: string[] = [];
    t.on('worker', (e) => e.type === 'rejected' && rejected.push(e.reason ?? ''));
    const liar = t.addWorker(
      asPeer(spawnThreadWorker(), { info: (i) => ({ ...i, trainSize: 2 ** 53 - 1, testSize: 1 }) }),
    );
    await expect(liar).rejects.toThrow(/different data set/);
    const result = await t.run();
    expect(rejected.some((r) => /9007199254740991\/1 examples, the run's 300\/300/.test(r))).toBe(true);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('a peer whose finite gradient is 1e30 times too large is refused and its shard recomputed', async () => {
    const t = trainer({ planning: 'all' });
    t.addWorker(spawnThreadWorker());
    t.addWorker(asPeer(spawnThreadWorker(), { result: (call, g) => (call === 6 ? g.map((x) => x * 1e30) : g) }));
    const logs: string[] = [];
    t.on('log', (e) => logs.push(e.message));
    const result = await t.run();
    expect(logs.some((m) => /gradient norm per example .* is over 50x the median of recent shards/.test(m))).toBe(true);
    expect(result.weights.every(Number.isFinite)).toBe(true);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
  });
});
