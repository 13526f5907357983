/**
 * Issue 20's peer attacks, each reproduced with real Node threads presented as untrusted peers: a
 * 1e30 gradient at a run's very first shard (no worker of the run's own to set the bound's scale),
 * absurd pseudo-gradients in mode local (float 1e30, int8 scale 1e28, fp16 65504 everywhere, an int8
 * scale whose values overflow float32), and robust aggregation with a hostile peer that joins first.
 */
import type { Compression, EncodedUpdate } from '@gradroom/core';
import type { LocalResultData } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer, type TrainerOptions } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { exactJob, exactReference } from './fixtures.js';
import { asPeer, type PeerEdits } from './peer-fakes.js';
import { relativeDifference } from './reference/serial.js';

const open: Trainer[] = [];
let reference: Float32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  reference = await exactReference();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

function trainer(job: JobConfig, extra: TrainerOptions = {}): { t: Trainer; logs: string[] } {
  const t = new Trainer(job, { backends: ['wasm'], ...extra });
  open.push(t);
  const logs: string[] = [];
  t.on('log', (e) => logs.push(e.message));
  return { t, logs };
}

describe('the gradient bound from the first shard', () => {
  it('a 1e30 gradient at the first shard of a room with no worker of its own is refused; the run equals the serial loop', async () => {
    const { t, logs } = trainer(exactJob, { planning: 'all' });
    t.addWorker(asPeer(spawnThreadWorker()));
    t.addWorker(asPeer(spawnThreadWorker(), { result: (call, g) => (call === 1 ? g.map((x) => x * 1e30 + 1e30) : g) }));
    const result = await t.run();
    expect(logs.some((m) => /over the start bound/.test(m))).toBe(true);
    expect(result.weights.every(Number.isFinite)).toBe(true);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
  });

  it('a job whose honest gradients are larger raises the start bound: nothing honest is refused', async () => {
    // gradientBoundStart at 1e-3 refuses every honest first shard of a room; the default refuses none
    const strict = trainer(exactJob, { planning: 'all', gradientBoundStart: 1e-3, maxStrikes: 100 });
    strict.t.addWorker(asPeer(spawnThreadWorker()));
    await expect(strict.t.run()).rejects.toThrow(/failed .* times|every worker/);
    expect(strict.logs.some((m) => /over the start bound 1\.00e-3/.test(m))).toBe(true);
    const plain = trainer(exactJob, { planning: 'all' });
    plain.t.addWorker(asPeer(spawnThreadWorker()));
    await plain.t.run();
    expect(plain.logs.some((m) => /start bound/.test(m))).toBe(false);
  });
});

describe('a fast peer just over the bound', () => {
  it('100x from its 5th shard on (over 50x the median, under 2,500x): its shards are computed by the others, the run equals the serial loop', async () => {
    const { t, logs } = trainer(exactJob, { planning: 'all' });
    // the honest peers answer 150 ms late: the hostile one is idle first, every time
    const late = (w: WorkerHandle): WorkerHandle => ({
      ...w,
      compute: async (req) => {
        const r = await w.compute(req);
        await new Promise((ok) => setTimeout(ok, 150));
        return r;
      },
    });
    t.addWorker(asPeer(late(spawnThreadWorker())));
    t.addWorker(asPeer(late(spawnThreadWorker())));
    t.addWorker(asPeer(spawnThreadWorker(), { result: (call, g) => (call > 4 ? g.map((x) => x * 100) : g) }));
    // (given back to it, a refused shard came back refused until the iteration gave up: the run failed)
    const result = await t.run();
    expect(logs.filter((m) => /over 50x the median/.test(m)).length).toBeGreaterThanOrEqual(1);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);
  });
});

describe('mode local bounds what a peer sends', () => {
  const localJob = (compress: Compression): JobConfig => ({
    ...exactJob,
    epochs: 4,
    maxIterations: undefined,
    mode: { kind: 'local', steps: 2, outer: { kind: 'sgd', lr: 1 }, compress },
  });

  /** Mean training loss over the last epoch of a run: one honest peer, and one sending `edit`. */
  async function lastLoss(
    compress: Compression,
    edit?: PeerEdits['local'],
  ): Promise<{ loss: number; logs: string[]; left: string[] }> {
    const { t, logs } = trainer(localJob(compress));
    const left: string[] = [];
    t.on('worker', (e) => {
      if (e.type === 'left') left.push(e.reason ?? '');
    });
    t.addWorker(asPeer(spawnThreadWorker()));
    t.addWorker(asPeer(spawnThreadWorker(), { local: edit }));
    const losses: number[] = [];
    t.on('epoch', (e) => losses.push(e.trainLoss));
    const r = await t.run();
    expect(r.weights.every(Number.isFinite)).toBe(true);
    return { loss: losses[losses.length - 1], logs, left };
  }

  const scaled = (e: EncodedUpdate | undefined, scale: number): EncodedUpdate => {
    if (e?.kind !== 'int8') throw new Error('expected an int8 update');
    return { ...e, scales: new Float32Array(e.scales.length).fill(scale) };
  };

  const topk = (e: EncodedUpdate | undefined): Extract<EncodedUpdate, { kind: 'topk' }> => {
    if (e?.kind !== 'topk') throw new Error('expected a topk update');
    return e;
  };

  type Attack = [string, Compression, (r: LocalResultData) => LocalResultData];
  const attacks: Attack[] = [
    [
      'a float32 pseudo-gradient of 1e30',
      'none',
      (r) => ({ ...r, delta: new Float32Array(r.delta?.length ?? 0).fill(1e30) }),
    ],
    ['int8 with scale 1e28', 'int8', (r) => ({ ...r, encoded: scaled(r.encoded, 1e28) })],
    [
      'fp16 at 65504 everywhere',
      'fp16',
      (r) => {
        const n = r.encoded?.length ?? 0;
        return { ...r, encoded: { kind: 'fp16', length: n, data: new Uint16Array(n).fill(0x7bff) } };
      },
    ],
    [
      'int8 with scale 3e38 (127 x scale overflows float32)',
      'int8',
      (r) => ({ ...r, encoded: scaled(r.encoded, 3e38) }),
    ],
    [
      'topk naming one place of every block 28 times (its value counted 28 times)',
      'topk',
      (r) => {
        const e = topk(r.encoded);
        return { ...r, encoded: { ...e, index: new Uint8Array(e.index.length).fill(3) } };
      },
    ],
    [
      'topk with scale 1e28',
      'topk',
      (r) => {
        const e = topk(r.encoded);
        return { ...r, encoded: { ...e, scales: new Float32Array(e.scales.length).fill(1e28) } };
      },
    ],
  ];

  it.each(attacks)(
    '%s: refused with a strike each, the peer dropped, the run learns',
    async (_name, compress, edit) => {
      const clean = await lastLoss(compress);
      const hostile = await lastLoss(compress, (_call, r) => edit(r));
      expect(hostile.logs.filter((m) => /its work is planned again/.test(m)).length).toBeGreaterThanOrEqual(3);
      expect(hostile.left.some((r) => /dropped after 3 strikes/.test(r))).toBe(true);
      expect(hostile.loss).toBeLessThanOrEqual(clean.loss * 1.25 + 0.05);
    },
  );
});

describe('robust aggregation needs three workers in every iteration', () => {
  const robustJob = (seed: number): JobConfig => ({
    ...exactJob,
    seed,
    epochs: 6,
    maxIterations: undefined,
    evaluate: true,
  });

  /** Test accuracy of a room whose first member is `first`, then two honest peers join one at a time. */
  async function room(seed: number, aggregation: 'median' | 'trimmed-mean', hostile: boolean): Promise<number> {
    const { t } = trainer(robustJob(seed), { aggregation, waitForWorkers: true });
    const flip: PeerEdits = hostile ? { result: (_c, g) => g.map((x) => -3 * x) } : {};
    t.addWorker(asPeer(spawnThreadWorker(), flip));
    const waits: string[] = [];
    t.on('state', (e) => {
      if (e.state !== 'waiting' || !e.reason) return;
      waits.push(e.reason);
      // the next member joins only when the room says it waits for one
      if (waits.length <= 2) t.addWorker(asPeer(spawnThreadWorker()));
    });
    const r = await t.run();
    expect(waits.some((w) => /robust aggregation needs 3 workers in every iteration; the run has 1/.test(w))).toBe(
      true,
    );
    return r.testAccuracy;
  }

  it.each(['median', 'trimmed-mean'] as const)(
    '%s: a x-3 peer joining first, then two honest peers: 3 of 3 runs within 2 points of the honest room',
    async (aggregation) => {
      for (const seed of [11, 12, 13]) {
        const honest = await room(seed, aggregation, false);
        const attacked = await room(seed, aggregation, true);
        expect(Math.abs(honest - attacked)).toBeLessThanOrEqual(0.02);
      }
    },
  );

  it('with fewer than 3 workers of its own and no room to wait in, the run fails at once with a clear error', async () => {
    const { t } = trainer(exactJob, { aggregation: 'median' });
    t.addWorker(spawnThreadWorker());
    t.addWorker(spawnThreadWorker());
    await expect(t.run()).rejects.toThrow(/robust aggregation needs 3 workers in every iteration; the run has 2/);
  });
});
