/**
 * Partitioned data in mode local (issue 18 §2) on Node worker threads over the chunked MNIST that
 * the build makes (8 chunks of 1,000 training examples), served by a real HTTP server on loopback
 * that counts every chunk it sends: each member fetches only its partition's chunks, every example
 * is trained once per epoch, a member killed mid-round loses nothing, and a resumed run misses and
 * repeats nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DatasetSpec } from '@gradroom/core';
import { shardExamplesFrom } from '@gradroom/worker/local-data';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../src/checkpoint.js';
import type { JobConfig } from '../src/job.js';
import { probeIndices, WARM_START_STANDBY } from '../src/modes/exact.js';
import { Trainer } from '../src/trainer.js';
import { spawnThreadWorker } from '../src/transports/thread.js';
import type { WorkerHandle } from '../src/worker-handle.js';
import { earlyRounds } from './fixtures.js';
import { asPeer } from './peer-fakes.js';
import { relativeDifference } from './reference/serial.js';

const dir = join(import.meta.dirname, '..', '..', 'worker', 'dist', 'chunks', 'mnist');
const files = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
const hits = new Map<string, number>();
let server: Server;
let spec: Extract<DatasetSpec, { kind: 'chunked' }>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = (req.url ?? '').replace(/^\/chunks\/mnist\//, '');
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const body = files.get(name);
    if (!body || name === 'spec.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const built = JSON.parse(String(files.get('spec.json')));
  spec = { ...built, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/chunks/mnist/manifest.json` };
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** Chunk files the server sent since `hits` was cleared. */
const chunkFetches = () => [...hits].filter(([f]) => f.startsWith('train-')).reduce((a, [, n]) => a + n, 0);

const job = (over: Partial<JobConfig> = {}): JobConfig => ({
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [16], classes: 10 },
  dataset: spec,
  optimizer: { kind: 'sgd', lr: 0.1 },
  schedule: { kind: 'constant', lr: 0.1 },
  batchSize: 64,
  epochs: 2,
  seed: 7,
  evaluate: false,
  mode: { kind: 'local', steps: 4, outer: { kind: 'sgd', lr: 1 } },
  ...over,
});
const PER_EPOCH = Math.ceil(7996 / 64); // mini-batches in an epoch

/** A thread worker whose trained mini-batches (those it answered) are recorded, by epoch. */
function recorded(log: { worker: string; epoch: number; indices: number[] }[], killAt?: number): WorkerHandle {
  const w = spawnThreadWorker();
  const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  let calls = 0;
  return {
    ...w,
    trainLocal: async (req) => {
      const p = train(req);
      if (++calls === killAt) void w.close('killed by the test mid-round');
      const r = await p;
      const epoch = Math.floor(req.round / PER_EPOCH);
      for (const b of req.batches) log.push({ worker: w.id, epoch, indices: Array.from(b) });
      return r;
    },
  };
}

function expectEveryExampleOnce(log: { epoch: number; indices: number[] }[], epoch: number) {
  const seen = log.filter((l) => l.epoch === epoch).flatMap((l) => l.indices);
  expect(seen.length).toBe(7996);
  expect(new Set(seen).size).toBe(7996);
}

describe('measuring shards over a chunked data set', () => {
  it('take one chunk per member (a warm start in exact mode probes volunteers without fetching everything)', () => {
    const d = { train: 60_000, chunkExamples: 1000 };
    const chunks = new Set<number>();
    for (const m of ['v0', 'v1', 'v2', 'thread-3']) {
      const a = probeIndices(m, 64, d);
      expect(a.length).toBe(64);
      expect(new Set(Array.from(a, (i) => Math.floor(i / 1000))).size).toBe(1);
      expect(Array.from(probeIndices(m, 32, d))).toEqual(Array.from(a.slice(0, 32))); // the same chunk every time
      chunks.add(Math.floor(a[0] / 1000));
    }
    expect(chunks.size).toBeGreaterThan(1); // spread over the chunks, not all on one
    expect(Array.from(probeIndices('v0', 5, { train: 3, chunkExamples: 2 }))).toSatisfy((a: number[]) =>
      a.every((i) => i < 3),
    );
  });
});

describe('exact mode over a chunked data set: shards carry their examples (shardExamples)', () => {
  it('peers fetch no chunk, and the run is the one in which they fetch their chunks (equal weights)', async () => {
    const port = (server.address() as AddressInfo).port;
    // the coordinator's copy, read from the folder the server serves (as a room's host reads it)
    const shardExamples = await shardExamplesFrom(spec, {
      url: `http://127.0.0.1:${port}/`,
      dir: join(dir, '..', '..'),
    });
    const run = async (carry: boolean) => {
      const t = new Trainer(job({ mode: { kind: 'exact' }, maxIterations: 12, epochs: 1 }), {
        backends: ['wasm'],
        planning: 'all', // both peers compute in every iteration, whatever their links cost
        ...(carry ? { shardExamples } : {}),
      });
      open.push(t);
      await Promise.all([t.addWorker(asPeer(spawnThreadWorker())), t.addWorker(asPeer(spawnThreadWorker()))]);
      hits.clear();
      const shares: number[] = [];
      t.on('iteration', (e) => shares.push(e.workers.filter((w) => w.share > 0).length));
      expect((await t.run()).position.iteration).toBe(12);
      return { weights: t.getWeights(), chunks: chunkFetches(), shares };
    };
    const carried = await run(true);
    const fetched = await run(false);
    expect(carried.shares.every((n) => n === 2)).toBe(true);
    expect(carried.chunks).toBe(0);
    // 12 mini-batches of 64 random examples from 8 chunks: each peer needs nearly every chunk
    expect(fetched.chunks).toBeGreaterThanOrEqual(8);
    expect(relativeDifference(carried.weights, fetched.weights)).toBeLessThan(1e-5);
  });
});

describe('mode local over a chunked data set', () => {
  it('refuses a partition option that is not true or false', () => {
    const bad = job({ mode: { kind: 'local', steps: 4, partition: 'yes' as unknown as boolean } });
    expect(() => new Trainer(bad)).toThrow(/partition must be true or false, got "yes"/);
  });

  it('each member fetches only its partition, every example once an epoch, and a member killed mid-round loses nothing', async () => {
    hits.clear();
    const log: { worker: string; epoch: number; indices: number[] }[] = [];
    const t = new Trainer(job(), { backends: ['wasm'] });
    open.push(t);
    const a = recorded(log);
    const b = recorded(log);
    const doomed = recorded(log, 5);
    for (const w of [a, b, doomed]) t.addWorker(w);
    let replanned = 0;
    const credit = new Map<string, number>();
    t.on('iteration', (e) => {
      replanned += e.replanned;
    });
    t.on('worker', (e) => {
      if ('examples' in e && typeof e.examples === 'number') credit.set(e.id, e.examples);
    });
    const result = await t.run();
    expect(result.position).toMatchObject({ epoch: 2, batch: 0, iteration: 2 * PER_EPOCH });
    expect(replanned).toBeGreaterThanOrEqual(1);
    expectEveryExampleOnce(log, 0);
    expectEveryExampleOnce(log, 1);
    // what each member trained lies in few chunks: its partition (the dead member's went to the others)
    const chunksOf = (w: string) =>
      new Set(log.filter((l) => l.worker === w).flatMap((l) => l.indices.map((i) => Math.floor(i / 1000))));
    const [ca, cb] = [chunksOf(a.id), chunksOf(b.id)];
    console.log(
      `chunks trained: ${ca.size}, ${cb.size}, dead member ${chunksOf(doomed.id).size}; fetched ${chunkFetches()}`,
    );
    // two members left with 8 chunks: about 4 each, plus the takeovers of two epochs' ends
    expect(ca.size).toBeLessThanOrEqual(7);
    expect(cb.size).toBeLessThanOrEqual(7);
    // the server sent each chunk once, plus: the dead member's chunks again (its failed group and
    // its partition went to the others) and, at each of the 2 epochs' ends, a takeover by each of
    // the 2 members left (the last mini-batches need a chunk of the other's). Without partitions
    // every member fetches every chunk in its first round (the next test).
    expect(chunkFetches()).toBeGreaterThanOrEqual(8);
    expect(chunkFetches()).toBeLessThanOrEqual(8 + chunksOf(doomed.id).size + 2 * 2);
    expect(hits.get('test.bin') ?? 0).toBeLessThanOrEqual(3); // the test split is one file, once per worker
  });

  it("from a member's second group on, each task names chunks the member then trains from (prefetch)", async () => {
    const asked: { worker: string; round: number; chunks: number[]; hint?: number[] }[] = [];
    const hinting = (): WorkerHandle => {
      const w = spawnThreadWorker();
      const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
      return {
        ...w,
        trainLocal: (req) => {
          const chunks = [...new Set(req.batches.flatMap((b) => Array.from(b, (i) => Math.floor(i / 1000))))];
          const hint = req.prefetch ? Array.from(req.prefetch, (i) => Math.floor(i / 1000)) : undefined;
          asked.push({ worker: w.id, round: req.round, chunks, ...(hint ? { hint } : {}) });
          return train(req);
        },
      };
    };
    const t = new Trainer(job({ epochs: 1, maxIterations: 64 }), { backends: ['wasm'] });
    open.push(t);
    const [a, b] = [hinting(), hinting()];
    t.addWorker(a);
    t.addWorker(b);
    await t.run();
    for (const w of [a.id, b.id]) {
      const mine = asked.filter((x) => x.worker === w);
      expect(mine.length).toBeGreaterThanOrEqual(3);
      expect(mine[0].hint).toBeUndefined(); // its first group: it fetches its window anyway
      for (let k = 1; k < mine.length; k++) {
        expect(mine[k].hint?.length).toBeGreaterThan(0);
        // what the next group trains from was named before (by this group's hint)
        if (k + 1 < mine.length) for (const c of mine[k + 1].chunks) expect(mine[k].hint).toContain(c);
      }
    }
  });

  it('without partitions (partition: false) the members fetch chunks of every part of the plan', async () => {
    const fetchedBy = async (partition: boolean) => {
      hits.clear();
      const t = new Trainer(job({ maxIterations: 24, mode: { kind: 'local', steps: 4, partition } }), {
        backends: ['wasm'],
      });
      open.push(t);
      for (let i = 0; i < 3; i++) t.addWorker(spawnThreadWorker());
      await t.run();
      return chunkFetches();
    };
    const whole = await fetchedBy(false);
    const parts = await fetchedBy(true);
    // two rounds of 3 x 4 mini-batches: 1,536 random examples touch every chunk for every member
    expect(whole).toBe(3 * 8);
    expect(parts).toBeLessThanOrEqual(8);
  });

  /** A thread the run takes for a volunteer peer (untrusted), recording what it computed (and its prefetch hints). */
  function watchedPeer(exact: number[][], local: number[][], hints: number[][] = []): WorkerHandle {
    const inner = spawnThreadWorker();
    return {
      ...inner,
      kind: 'peer',
      prefetch: (examples) => {
        // before any local group: the warm start's hint
        hints.push([local.length, ...examples]);
      },
      compute: async (req) => {
        exact.push(Array.from(req.indices));
        return inner.compute(req);
      },
      trainLocal: async (req) => {
        const r = await (inner.trainLocal as NonNullable<WorkerHandle['trainLocal']>)(req);
        local.push(...req.batches.map((b) => Array.from(b)));
        return r;
      },
    };
  }
  /** A room's trainer (warm start of 40) recording its log lines, and each iteration's size or 'local round'. */
  function watchedRoom(waitForWorkers = true) {
    const t = new Trainer(warmJob(40), { backends: ['wasm'], ...(waitForWorkers ? { waitForWorkers } : {}) });
    open.push(t);
    const exact: number[][] = [];
    const local: number[][] = [];
    const hints: number[][] = [];
    const logs: string[] = [];
    const sizes: (number | 'local round')[] = [];
    t.on('log', (e) => logs.push(e.message));
    t.on('iteration', (e) => sizes.push(e.round ? 'local round' : e.examples));
    return { t, exact, local, hints, logs, sizes };
  }
  const warmJob = (warmup: number, over: Partial<JobConfig> = {}) =>
    job({
      epochs: 1,
      maxIterations: 60,
      mode: { kind: 'local', steps: 4, outer: { kind: 'sgd', lr: 1 }, warmup },
      ...over,
    });

  it('a warm start over partitions runs its whole length on the run’s own workers while a volunteer waits; the volunteer then trains its partition', async () => {
    const { t, exact, local, hints, logs, sizes } = watchedRoom(false);
    t.addWorker(spawnThreadWorker());
    // the volunteer arrives after the run's fourth iteration, well inside the warm start
    t.on('iteration', (e) => {
      if (e.iteration === 4 && exact.length === 0 && local.length === 0) {
        t.pause();
        void t.addWorker(watchedPeer(exact, local, hints)).finally(() => t.resume());
      }
    });
    // it is told why it waits (its page says so), and is no longer standing by once rounds start
    const standby = new Map<number, (string | undefined)[]>();
    t.on('iteration', (e) => {
      if (e.iteration === 30 || e.iteration === 60)
        standby.set(
          e.iteration,
          t.pool
            .status()
            .filter((w) => w.kind === 'peer')
            .map((w) => w.standby),
        );
    });
    const result = await t.run();
    expect(result.position.iteration).toBe(60);
    expect(logs.filter((l) => /warm start over after/.test(l))).toEqual([]);
    expect(logs.filter((l) => /^iteration 41: warm start over, mode local from here/.test(l))).toHaveLength(1);
    // exact iterations (one mini-batch each) for the whole warm start, local rounds after (whose
    // sizes follow steps by speed: an epoch's last round may be one mini-batch)
    expect(sizes.slice(0, 40)).toEqual(Array.from({ length: 40 }, () => 64));
    expect(sizes.slice(40).every((n) => n === 'local round')).toBe(true);
    expect(t.job.mode).toMatchObject({ kind: 'local', warmup: 40 });
    expect(standby.get(30)).toEqual([WARM_START_STANDBY]);
    expect(standby.get(60)).toEqual([undefined]);
    // while it waited it was told, once, the chunks it would train first: its first group's are among them
    expect(hints).toHaveLength(1);
    const [before, ...hinted] = hints[0];
    expect(before).toBe(0);
    const chunk = (i: number) => Math.floor(i / 1000);
    const told = new Set(hinted.map(chunk));
    expect(told.size).toBe(hinted.length);
    const firstGroup = local.slice(0, 4).flat().map(chunk);
    for (const c of firstGroup) expect(told.has(c), `chunk ${c} of its first group`).toBe(true);
    // the peer trained its partition: half of the 8 chunks at most, plus a takeover
    expect(local.length).toBeGreaterThan(0);
    expect(new Set(local.flat().map((i) => Math.floor(i / 1000))).size).toBeLessThanOrEqual(5);
  });

  it('the run’s own worker fetches every chunk as soon as it is set up when the run starts with a warm start, before its first iteration', async () => {
    const t = new Trainer(warmJob(20), { backends: ['wasm'] });
    open.push(t);
    hits.clear();
    await t.addWorker(spawnThreadWorker());
    // no task yet: only the hint at set-up can fetch them (bounded wait, the fetches are on loopback)
    const end = Date.now() + 20_000;
    while (chunkFetches() < 8 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(chunkFetches()).toBe(8);
    expect((await t.run()).position.iteration).toBe(60);
    // each fetched once: the warm start's random mini-batches and the rounds after found them there
    expect([...hits].filter(([f]) => f.startsWith('train-')).every(([, n]) => n === 1)).toBe(true);
  });

  it('a host’s thread given the folder its server serves (localData) reads the chunks from disk: the server sees no request, the run is the same', async () => {
    const port = (server.address() as AddressInfo).port;
    const run = async (localData?: { url: string; dir: string }) => {
      const t = new Trainer(warmJob(20, { maxIterations: 30 }), { backends: ['wasm'] });
      open.push(t);
      hits.clear();
      await t.addWorker(spawnThreadWorker(localData ? { localData } : {}));
      expect((await t.run()).position.iteration).toBe(30);
      return { weights: t.getWeights(), requests: [...hits.values()].reduce((a, n) => a + n, 0) };
    };
    // the server serves dist/chunks/mnist under /chunks/mnist/: the folder above chunks/ under /
    const local = await run({ url: `http://127.0.0.1:${port}/`, dir: join(dir, '..', '..') });
    expect(local.requests).toBe(0); // the manifest and every chunk came from disk
    const served = await run();
    expect(served.requests).toBeGreaterThanOrEqual(9); // the manifest and the 8 chunks over HTTP
    expect(local.weights).toEqual(served.weights);
  });

  it('without a warm start the run’s own worker fetches nothing at set-up (mode local needs only its partition)', async () => {
    const t = new Trainer(warmJob(0), { backends: ['wasm'] });
    open.push(t);
    hits.clear();
    await t.addWorker(spawnThreadWorker());
    await new Promise((r) => setTimeout(r, 500));
    expect(chunkFetches()).toBe(0);
  });

  it('a volunteer set up before the run’s own worker does not end the warm start: its shards wait for that worker', async () => {
    // testbed classroom, round 13: the host's worker (a fifth of a CPU) was set up after a volunteer,
    // and the warm start ended at iteration 0 in one run of four
    const { t, exact, local, logs, sizes } = watchedRoom();
    await t.addWorker(watchedPeer(exact, local));
    const own = spawnThreadWorker();
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    // the own worker's set-up ends only once the run has started without it
    void t.addWorker({
      ...own,
      init: async (task) => {
        await held;
        return own.init(task);
      },
    });
    const started = new Promise<void>((r) =>
      t.on('state', (e) => {
        if (e.state === 'running') r();
      }),
    );
    const run = t.run();
    // the run starts a second after the volunteer is set up (its start grace), the own worker still
    // setting up; nothing is trained meanwhile: the volunteer stands by
    await started;
    await new Promise((r) => setTimeout(r, 300));
    expect(sizes).toEqual([]);
    release();
    expect((await run).position.iteration).toBe(60);
    expect(logs.filter((l) => /warm start over after/.test(l))).toEqual([]);
    expect(sizes.slice(0, 40)).toEqual(Array.from({ length: 40 }, () => 64));
    expect(sizes.slice(40).every((n) => n === 'local round')).toBe(true);
    // the volunteer computed no shard of the warm start's mini-batches, only its measuring shards
    // (each from one chunk, probeIndices)
    for (const shard of exact) expect(new Set(shard.map((i) => Math.floor(i / 1000))).size).toBe(1);
    expect(t.job.mode).toMatchObject({ kind: 'local', warmup: 40 });
  });

  it('a run with no worker of its own ends its warm start over partitions as soon as a volunteer can train', async () => {
    const { t, exact, local, logs, sizes } = watchedRoom();
    t.addWorker(watchedPeer(exact, local));
    expect((await t.run()).position.iteration).toBe(60);
    const ended = logs.filter((l) => /warm start over after/.test(l));
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatch(/^iteration 1: warm start over after 0 of its 40 iterations: this machine has no worker/);
    expect(sizes.every((n) => n === 'local round')).toBe(true);
    // the job now says where the warm start ended: a checkpoint (which holds it) resumes in mode local
    expect(t.job.mode).toMatchObject({ kind: 'local', warmup: 0 });
    expect(local.flat().length).toBe(60 * 64);
  });

  it('a run whose warm start ended early, stopped in mode local and resumed, goes on in mode local', async () => {
    const store = new MemoryCheckpointStore();
    const first = new Trainer(warmJob(40, { maxIterations: 100 }), {
      backends: ['wasm'],
      checkpoint: { store },
      waitForWorkers: true,
    });
    open.push(first);
    // volunteers only: the warm start ends at once (a run with workers of its own runs it whole)
    first.addWorker(asPeer(spawnThreadWorker()));
    first.addWorker(asPeer(spawnThreadWorker()));
    const firstSizes: (number | 'local round')[] = [];
    first.on('iteration', (e) => {
      firstSizes.push(e.round ? 'local round' : e.examples);
      if (e.iteration >= 40) first.stop();
    });
    expect((await first.run()).stopped).toBe(true);
    const warmup = (first.job.mode as { warmup: number }).warmup;
    expect(warmup).toBeLessThan(40);
    expect(firstSizes.at(-1)).toBe('local round');
    const second = Trainer.fromCheckpoint((await store.load()) as Uint8Array, { backends: ['wasm'] });
    open.push(second);
    expect(second.job.mode).toMatchObject({ kind: 'local', warmup });
    // resumed with a worker of its own, it does not go back to the warm start
    second.addWorker(spawnThreadWorker());
    second.addWorker(asPeer(spawnThreadWorker()));
    const sizes: (number | 'local round')[] = [];
    second.on('iteration', (e) => sizes.push(e.round ? 'local round' : e.examples));
    expect((await second.run()).position.iteration).toBe(100);
    expect(sizes.length).toBeGreaterThan(0);
    expect(sizes.every((n) => n === 'local round')).toBe(true);
  });

  it('a round abandoned while it waits for a member (its only one died) is not counted: the resumed run trains its examples', async () => {
    const log: { worker: string; epoch: number; indices: number[] }[] = [];
    const store = new MemoryCheckpointStore();
    const first = new Trainer(job({ epochs: 1 }), { backends: ['wasm'], checkpoint: { store }, waitForWorkers: true });
    open.push(first);
    first.addWorker(recorded(log, 6)); // dies in its 6th round; the room then waits for a member
    // stopped from the listener itself (this used to leave the run waiting for a change already past)
    first.on('state', (e) => {
      if (e.state === 'waiting') first.stop();
    });
    expect((await first.run()).stopped).toBe(true);
    const second = Trainer.fromCheckpoint((await store.load()) as Uint8Array, { backends: ['wasm'] });
    open.push(second);
    second.addWorker(recorded(log));
    expect((await second.run()).position.epoch).toBe(1);
    expectEveryExampleOnce(log, 0);
  });

  it('a run stopped mid-epoch and resumed from its checkpoint misses and repeats no example', async () => {
    const log: { worker: string; epoch: number; indices: number[] }[] = [];
    const store = new MemoryCheckpointStore();
    const j = job({ epochs: 1 });
    const first = new Trainer(j, { backends: ['wasm'], checkpoint: { store } });
    open.push(first);
    first.addWorker(recorded(log));
    first.addWorker(recorded(log));
    first.on('iteration', (e) => {
      if (e.iteration >= 40) first.stop();
    });
    expect((await first.run()).stopped).toBe(true);
    const second = Trainer.fromCheckpoint((await store.load()) as Uint8Array, { backends: ['wasm'] });
    open.push(second);
    for (let i = 0; i < 3; i++) second.addWorker(recorded(log)); // a different room
    const done = await second.run();
    expect(done.position.epoch).toBe(1);
    expectEveryExampleOnce(log, 0);
  });
});

describe('a peer that reports wrong counts for its partition', () => {
  it('one more example than its group holds: every such result refused, the peer dropped, every example trained once', async () => {
    const log: { worker: string; epoch: number; indices: number[] }[] = [];
    const t = new Trainer(job({ epochs: 1 }), { backends: ['wasm'] });
    open.push(t);
    const logs: string[] = [];
    t.on('log', (e) => logs.push(e.message));
    const left: string[] = [];
    t.on('worker', (e) => {
      if (e.type === 'left') left.push(e.reason ?? '');
    });
    const liarLog: typeof log = [];
    t.addWorker(recorded(log));
    t.addWorker(recorded(log));
    t.addWorker(asPeer(recorded(liarLog), { local: (_c, r) => ({ ...r, count: r.count + 1 }) }));
    const result = await t.run();
    expect(result.position).toMatchObject({ epoch: 1, batch: 0, iteration: PER_EPOCH });
    expect(logs.filter((m) => /counted \d+ examples, it holds \d+/.test(m)).length).toBeGreaterThanOrEqual(1);
    expect(left.some((r) => /dropped after 3 strikes|counted \d+ examples/.test(r))).toBe(true);
    // the honest members trained every example once (the liar's groups were planned again to them)
    expectEveryExampleOnce(log, 0);
  }, 120_000);
});

describe('mode local with overlap over a chunked data set', () => {
  /** Every local request as sent (early ones included), with its round, whatever became of it. */
  type Sent = { worker: string; round: number; early: boolean; indices: number[] };
  function sending(early: (round: number) => boolean, log: Sent[], delayMs = 0): WorkerHandle {
    const w = spawnThreadWorker();
    const train = w.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
    return {
      ...w,
      trainLocal: async (req) => {
        log.push({
          worker: w.id,
          round: req.round,
          early: early(req.round),
          indices: req.batches.flatMap((b) => Array.from(b)),
        });
        const r = await train(req);
        if (delayMs > 0) await new Promise((ok) => setTimeout(ok, delayMs));
        return r;
      },
    };
  }

  it('early groups come from partitions; a run stopped with early groups in flight discards them, and the resumed run trains each example once', async () => {
    const log: Sent[] = [];
    const store = new MemoryCheckpointStore();
    const j = job({ epochs: 1, mode: { kind: 'local', steps: 4, outer: { kind: 'sgd', lr: 1 }, overlap: true } });
    const first = new Trainer(j, { backends: ['wasm'], checkpoint: { store } });
    open.push(first);
    const early = earlyRounds(first);
    first.addWorker(sending(early, log));
    first.addWorker(sending(early, log));
    first.addWorker(sending(early, log, 300)); // the slow member keeps each round open
    // stop once the round just closed has left early groups of the next one in flight
    first.on('iteration', (e) => {
      if (e.iteration >= 24 && log.some((s) => s.early && s.round === e.iteration)) first.stop();
    });
    const stopped = await first.run();
    expect(stopped.stopped).toBe(true);
    const at = stopped.position.iteration;
    expect(log.some((s) => s.early && s.round === at)).toBe(true);
    // the first run counted the rounds before its position; the groups of the round at it were discarded
    const counted = log.filter((s) => s.round < at);
    expect(counted.some((s) => s.early)).toBe(true);
    const second = Trainer.fromCheckpoint((await store.load()) as Uint8Array, { backends: ['wasm'] });
    open.push(second);
    const resumed: Sent[] = [];
    const resumedEarly = earlyRounds(second);
    second.addWorker(sending(resumedEarly, resumed));
    second.addWorker(sending(resumedEarly, resumed));
    expect((await second.run()).position.epoch).toBe(1);
    const seen = [...counted, ...resumed].flatMap((s) => s.indices);
    expect(seen.length).toBe(7996);
    expect(new Set(seen).size).toBe(7996);
  });
});
