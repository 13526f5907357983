/**
 * The soak run of issue 10 (`npm run soak`; scripts/soak.mjs bundles this file and runs it with
 * --expose-gc): 10,000 iterations of the exactness tests' synthetic job on Node worker threads,
 * planning 'all' so every worker, faulty ones included, really gets shards, with
 *   - churn: every 200 iterations a volunteer thread is terminated while it computes its shard of
 *     the next iteration, and a new one joins;
 *   - a hostile peer: a real thread presented as kind 'peer' whose result is scaled by 1e30 at every
 *     500th iteration (the GradientBound must refuse it);
 *   - a NaN result every 300th iteration from a wrapped local thread (refused, counted as a strike).
 * Every 500 iterations the run is paused and host RSS, heap (after gc) and each worker's tfjs tensor
 * count are sampled. Every iteration's examples are counted from the workers' own totals and
 * compared with the mini-batch the serial loop takes; the weights at iteration 1,000 and at the end
 * are compared with the serial oracle (test/reference/serial.ts), and the final ones with those of
 * the same run without faults when bench/out/soak/clean-weights.json holds them (SOAK_FAULTS=0
 * writes it). Writes the raw figures as JSON to the path in argv[2].
 *
 * SOAK_ITERATIONS shortens the run (development only: the figures need the full 10,000);
 * SOAK_FAULTS=0 runs the same workers with no churn, poison or NaN (the drift of a clean run).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnThreadWorker, Trainer, type WorkerHandle } from '../packages/coordinator/dist/index.js';
import { exactJob, exactReference } from '../packages/coordinator/test/fixtures.js';
import { relativeDifference } from '../packages/coordinator/test/reference/serial.js';

const ITERATIONS = Number(process.env.SOAK_ITERATIONS ?? 10_000);
const FAULTS = process.env.SOAK_FAULTS !== '0';
const CHURN_EVERY = 200;
const HOSTILE_EVERY = 500;
const NAN_EVERY = 300;
const SAMPLE_EVERY = 500;
/** The sample the last one is compared with (the first ones include warm-up). */
const BASE_SAMPLE = Math.min(1_000, ITERATIONS);
const VOLUNTEERS = 2;
/** exactJob: 300 examples in mini-batches of 64: 4 of 64 and a remainder of 44 per epoch. */
const EXAMPLES = 300;
const BATCH = 64;
const PER_EPOCH = Math.ceil(EXAMPLES / BATCH);

export interface MemorySample {
  iteration: number;
  rssMiB: number;
  heapMiB: number;
  /** tfjs tensors held by each live worker, by id. */
  tensors: Record<string, number>;
  workers: number;
}

export interface SoakFigures {
  /** Churn, poison and NaN on (SOAK_FAULTS=0: off, the fault-free twin). */
  faults: boolean;
  iterations: number;
  seconds: number;
  samples: MemorySample[];
  /** Examples the workers' totals show beyond / short of each iteration's mini-batch, summed. */
  countedTwice: number;
  lost: number;
  iterationsMiscounted: number;
  /** Against the serial oracle at the base sample and at the end. */
  relativeDifferenceBase: number;
  relativeDifference: number;
  /** Against the same run without faults (NaN when its weights were not saved). */
  relativeDifferenceClean: number;
  finite: boolean;
  /** Volunteers that left while computing a shard, or (given no shard for 2 iterations) between
   * iterations; that joined; that the run saw leave. */
  churn: { killedMidShard: number; closedIdle: number; joined: number; left: number };
  hostile: { sent: number; refused: number; iterations: number[] };
  /** Honest shards (from the peer) that the GradientBound refused too: recomputed, never lost. */
  honestRefused: number;
  /** The refusals' reasons, as logged (the first 40). */
  refusals: string[];
  nan: { sent: number; refused: number };
  replanned: number;
  dropped: string[];
  /** Long-lived workers' tensors at the base sample and at the end. */
  steadyTensors: { id: string; base: number; last: number }[];
}

const mib = (bytes: number) => bytes / 2 ** 20;

/** The mini-batch size of 0-based iteration `it`, as the serial loop takes it. */
function batchOf(it: number): number {
  const b = it % PER_EPOCH;
  return Math.min(BATCH, EXAMPLES - b * BATCH);
}

/** A real thread that poisons its result at chosen iterations (once each: the retry is honest). */
function poisoning(
  inner: WorkerHandle,
  kind: 'peer' | 'thread',
  at: (iteration: number) => boolean,
  poison: (g: Float32Array) => Float32Array,
  counter: { sent: number; iterations: number[] },
): WorkerHandle {
  const done = new Set<number>();
  return {
    ...inner,
    kind,
    closed: inner.closed,
    compute: async (req) => {
      const r = await inner.compute(req);
      if (!at(req.iteration) || done.has(req.iteration)) return r;
      done.add(req.iteration);
      counter.sent++;
      counter.iterations.push(req.iteration + 1);
      return { ...r, gradSum: poison(r.gradSum) };
    },
  };
}

/** A volunteer thread the soak can make leave while it computes the shard of a given iteration. */
interface Volunteer {
  handle: WorkerHandle;
  killAt?: number;
  joined: Promise<unknown>;
  ready: boolean;
  gone: boolean;
}

function volunteer(onKill: () => void): Volunteer {
  const inner = spawnThreadWorker();
  const v: Volunteer = { handle: inner, gone: false, ready: false, joined: Promise.resolve() };
  void inner.closed.then(() => {
    v.gone = true;
  });
  v.handle = {
    ...inner,
    closed: inner.closed,
    compute: (req) => {
      const p = inner.compute(req);
      if (v.killAt !== undefined && req.iteration >= v.killAt && !v.gone) {
        onKill();
        void inner.close('left mid-shard (soak churn)');
      }
      return p;
    },
  };
  return v;
}

export async function soak(): Promise<SoakFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run node with --expose-gc (npm run soak does)');
  const job = { ...exactJob, epochs: Math.ceil(ITERATIONS / PER_EPOCH) + 1, maxIterations: ITERATIONS };
  const trainer = new Trainer(job, { backends: ['wasm'], planning: 'all' });
  const hostile = { sent: 0, iterations: [] as number[] };
  const nan = { sent: 0, iterations: [] as number[] };
  const churn = { killedMidShard: 0, closedIdle: 0, joined: 0, left: 0 };
  const steadyIds: string[] = [];
  const peer = poisoning(
    spawnThreadWorker(),
    'peer',
    (it) => FAULTS && (it + 1) % HOSTILE_EVERY === 0,
    (g) => g.map((x) => x * 1e30),
    hostile,
  );
  const nanThread = poisoning(
    spawnThreadWorker(),
    'thread',
    (it) => FAULTS && (it + 1) % NAN_EVERY === 0,
    (g) => g.map(() => Number.NaN),
    nan,
  );
  steadyIds.push(peer.id, nanThread.id);
  const volunteers: Volunteer[] = [];
  const joinVolunteer = () => {
    const v = volunteer(() => churn.killedMidShard++);
    volunteers.push(v);
    v.joined = trainer.addWorker(v.handle).then(
      () => {
        v.ready = true;
        churn.joined++;
      },
      (e: unknown) => {
        if (running) console.error(`a volunteer failed to join: ${(e as Error).message}`);
      },
    );
  };
  let running = true;
  for (const h of [peer, nanThread]) trainer.addWorker(h);
  for (let i = 0; i < VOLUNTEERS; i++) joinVolunteer();

  const refused = { hostile: 0, honest: 0, nan: 0 };
  const refusals: string[] = [];
  const dropped: string[] = [];
  trainer.on('log', (e) => {
    // the bound's refusals: over the median ('gradient norm per example (||sum|| / sqrt n) X is
    // over') or, before it has samples, over the start bound ('norm X is over the start bound')
    const bound = /norm(?: per example \([^)]*\))? (\S+) is over/.exec(e.message);
    // a poisoned result's norm is ~1e30 times an honest one's; anything else refused is honest
    if (bound) Number(bound[1]) > 1e20 ? refused.hostile++ : refused.honest++;
    else if (/holds NaN/.test(e.message)) refused.nan++;
    else return;
    if (refusals.length < 40) refusals.push(e.message);
  });
  trainer.on('worker', (e) => {
    if (e.type !== 'left' || !running) return;
    churn.left++;
    if (!/soak churn/.test(e.reason ?? '')) dropped.push(`${e.id}: ${e.reason}`);
  });

  // every iteration's examples, from the workers' own totals (workers that left keep their last)
  const totals = new Map<string, number>();
  let counted = 0;
  let countedTwice = 0;
  let lost = 0;
  let miscounted = 0;
  let replanned = 0;
  const samples: MemorySample[] = [];
  const started = performance.now();

  const sample = async (iteration: number) => {
    // the same membership at every sample: volunteers that joined have finished setting up
    await Promise.all(volunteers.map((v) => v.joined));
    // let settled calls' closures go before measuring
    await new Promise((r) => setTimeout(r, 20));
    gc();
    gc();
    const m = process.memoryUsage();
    const tensors: Record<string, number> = {};
    const live = trainer.pool.ready();
    await Promise.all(
      live.map(async (s) => {
        tensors[s.id] = (await s.handle.memory()).numTensors;
      }),
    );
    samples.push({ iteration, rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed), tensors, workers: live.length });
    const t = Object.values(tensors);
    console.error(
      `iteration ${iteration}: rss ${mib(m.rss).toFixed(1)} MiB, heap ${mib(m.heapUsed).toFixed(1)} MiB, ` +
        `tensors ${Math.min(...t)}-${Math.max(...t)} on ${live.length} workers, ` +
        `${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  };

  let sampling: Promise<void> = Promise.resolve();
  let baseWeights: Float32Array | undefined;
  trainer.on('iteration', (e) => {
    const it = e.iteration - 1; // 0-based, as requests carry it
    for (const w of e.workers) totals.set(w.id, w.examples);
    let sum = 0;
    for (const n of totals.values()) sum += n;
    const delta = sum - counted;
    counted = sum;
    const expected = batchOf(it);
    if (e.examples !== expected || delta !== expected) miscounted++;
    if (delta > expected) countedTwice += delta - expected;
    if (delta < expected) lost += expected - delta;
    replanned += e.replanned;

    // a volunteer told to leave that got no shard since is closed between iterations instead
    for (const v of volunteers)
      if (v.killAt !== undefined && !v.gone && e.iteration >= v.killAt + 2) {
        churn.closedIdle++;
        void v.handle.close('left between iterations (soak churn)');
      }
    // forget volunteers that are gone: the harness must not hold what the run let go
    for (let i = volunteers.length - 1; i >= 0; i--) if (volunteers[i].gone) volunteers.splice(i, 1);
    if (e.iteration === BASE_SAMPLE) baseWeights = trainer.getWeights();
    const due = e.iteration % SAMPLE_EVERY === 0 || e.iteration === ITERATIONS;
    if (due) {
      trainer.pause();
      sampling = sample(e.iteration).finally(() => trainer.resume());
    }
    // churn after the sample, so samples at multiples of 1,000 see the same membership
    if (FAULTS && e.iteration % CHURN_EVERY === 0 && e.iteration < ITERATIONS) {
      // one leaves, one joins: the same membership at every sample (none leaves while the last
      // newcomer is still setting up, so none joins either)
      const victim = volunteers.find((v) => v.ready && !v.gone && v.killAt === undefined);
      if (victim) {
        victim.killAt = e.iteration; // the next iteration's request carries this index
        joinVolunteer();
      }
    }
  });

  const result = await trainer.run();
  await sampling;
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await trainer.close();

  console.error('computing the serial oracle...');
  const reference = await exactReference(ITERATIONS);
  const referenceBase = await exactReference(BASE_SAMPLE);
  // the same run without faults: its weights are saved by SOAK_FAULTS=0, compared by the soak
  const cleanFile = join(import.meta.dirname, 'clean-weights.json'); // next to the bundle
  let clean = Number.NaN;
  if (!FAULTS)
    writeFileSync(cleanFile, JSON.stringify({ iterations: ITERATIONS, weights: Array.from(result.weights) }));
  else if (existsSync(cleanFile)) {
    const c = JSON.parse(readFileSync(cleanFile, 'utf8')) as { iterations: number; weights: number[] };
    if (c.iterations === ITERATIONS) clean = relativeDifference(result.weights, Float32Array.from(c.weights));
  }
  const base = samples.find((s) => s.iteration === BASE_SAMPLE) ?? samples[0];
  const end = samples[samples.length - 1];
  return {
    faults: FAULTS,
    iterations: result.position.iteration,
    seconds,
    samples,
    countedTwice,
    lost,
    iterationsMiscounted: miscounted,
    relativeDifferenceBase: baseWeights ? relativeDifference(baseWeights, referenceBase) : Number.NaN,
    relativeDifference: relativeDifference(result.weights, reference),
    relativeDifferenceClean: clean,
    finite: result.weights.every(Number.isFinite),
    churn,
    hostile: { sent: hostile.sent, refused: refused.hostile, iterations: hostile.iterations },
    refusals,
    honestRefused: refused.honest,
    nan: { sent: nan.sent, refused: refused.nan },
    replanned,
    dropped,
    steadyTensors: steadyIds.map((id) => ({ id, base: base.tensors[id] ?? -1, last: end.tensors[id] ?? -1 })),
  };
}

const out = process.argv[2];
const figures = await soak();
if (out) writeFileSync(out, JSON.stringify(figures, null, 2));
else console.log(JSON.stringify(figures, null, 2));
// the worker threads are closed; tfjs's timers in this thread must not keep the process alive
process.exit(0);
