/**
 * The host page's coordinator, in a dedicated module Web Worker: the trainer, the room host, the
 * peer links and the aggregation all run here, so the page's charts and the training loop never
 * share a thread. The page reaches it through comlink (CoordinatorApi) and hears its events on a
 * MessagePort; WebRTC endpoints stay on the page (peer-bridge.ts), bytes cross as transferables.
 */
import {
  decodeCheckpoint,
  IndexedDbCheckpointStore,
  type JobConfig,
  spawnWebWorker,
  Trainer,
  type TrainerOptions,
} from '@gradroom/coordinator/browser';
import { allShardExamples } from '@gradroom/worker/data';
import * as Comlink from 'comlink';
import { type CreatedRoom, createRoom, HostedRoom } from '../host/room.js';
import { ClassRoom } from './class-room.js';
import { bridgedSimplePeer } from './peer-bridge.js';
import type { PredictorApi } from './predictor.js';
import type { CoordinatorApi, HostEvent, LocalWorker, RunOptions, RunTruth, SavedRun } from './protocol.js';

let events: MessagePort | undefined;
let peerPort: MessagePort | undefined;
let pageHref = '';
let room: HostedRoom | undefined;
let trainer: Trainer | undefined;
let locals: ReturnType<typeof spawnWebWorker>[] = [];
let classRoom: ClassRoom | undefined;

function post(e: HostEvent): void {
  events?.postMessage(e);
}

/**
 * Saves a checkpoint every few seconds of training, each epoch and on stop, so a reloaded host page
 * continues by itself and redoes under CHECKPOINT_MS of work.
 */
const saved = new IndexedDbCheckpointStore({ key: 'host-run' });
const CHECKPOINT_MS = 5000;
/** Until the iteration time is measured: a slow room's first iterations take about a second each. */
const FIRST_EVERY = 5;

/**
 * Iterations between checkpoints for iterations of `msPerIteration`: CHECKPOINT_MS of training
 * (at least 1). The trainer reads `checkpoint.everyIterations` after each iteration, so the
 * interval follows the measured pace as the room grows or shrinks.
 */
export function checkpointEvery(msPerIteration: number): number {
  if (!(msPerIteration > 0)) return FIRST_EVERY;
  return Math.max(1, Math.floor(CHECKPOINT_MS / msPerIteration));
}

// the pool's view changes with each join, leave and shard; the page hears it at most 4 times a second
let workersTimer: ReturnType<typeof setTimeout> | undefined;
function sendWorkers(): void {
  if (workersTimer) return;
  workersTimer = setTimeout(() => {
    workersTimer = undefined;
    if (trainer) post({ type: 'workers', list: trainer.pool.status() });
  }, 250);
}

function trainerOptions(o: RunOptions): TrainerOptions {
  return {
    waitForWorkers: true,
    backends: o.backends,
    planning: o.planning,
    wasmPaths: new URL('wasm/', pageHref).href,
    checkpoint: { store: saved, everyIterations: FIRST_EVERY },
    evalEvery: o.target !== undefined && o.evalEvery && o.evalEvery >= 1 ? Math.trunc(o.evalEvery) : undefined,
  };
}

/**
 * Exact mode over a chunked data set: this worker holds every training example (MNIST's 8 chunks,
 * 6.3 MB, fetched once from this page's server), and each volunteer's shard carries its examples,
 * so a student's tab fetches no data for its shards. Held for the last run that asked (one data set
 * at a time); a data set it cannot hold this way leaves the volunteers fetching their data.
 */
let held: { url: string; examples: NonNullable<TrainerOptions['shardExamples']> } | undefined;
async function shardExamples(job: JobConfig): Promise<Pick<TrainerOptions, 'shardExamples'>> {
  const d = job.dataset;
  if (d.kind !== 'chunked' || (job.mode?.kind ?? 'exact') !== 'exact') return {};
  if (held?.url !== d.url) {
    held = undefined;
    try {
      held = { url: d.url, examples: await allShardExamples(d) };
    } catch (e) {
      post({ type: 'log', line: `volunteers fetch their data: ${(e as Error).message}` });
      return {};
    }
  }
  return { shardExamples: held.examples };
}

/**
 * The predictor (its own Web Worker, tfjs on cpu) for the "what the model learned" panel, set up for
 * each run on an image classification data set; it never holds up the run, and its failures are
 * only logged.
 */
let predictor: { api: Comlink.Remote<PredictorApi>; worker: Worker; ready: Promise<unknown> } | undefined;
const PANEL = 24;

function startPredictor(t: Trainer): void {
  predictor?.api[Comlink.releaseProxy]();
  predictor?.worker.terminate();
  predictor = undefined;
  const kind = t.job.dataset.kind;
  if (kind !== 'mnist' && kind !== 'fashion-mnist' && kind !== 'fashion-mnist-small' && kind !== 'chunked') return;
  const worker = new Worker(new URL('predictor.js', pageHref), { type: 'module', name: 'predictor' });
  const api = Comlink.wrap<PredictorApi>(worker);
  const ready = api.init(t.job.model, t.job.dataset, new URL('data/', pageHref).href);
  ready.catch((e) => post({ type: 'log', line: `the predictions panel is off: ${(e as Error).message}` }));
  predictor = { api, worker, ready };
}

async function withWeights<T>(t: Trainer, fn: (p: Comlink.Remote<PredictorApi>) => Promise<T>): Promise<T | undefined> {
  const p = predictor;
  if (!p) return undefined;
  await p.ready;
  const w = t.getWeights().slice();
  await p.api.setWeights(Comlink.transfer(w, [w.buffer]));
  return fn(p.api);
}

/** What this run's trainer emitted (a resumed run counts from its resume point). */
let truth: RunTruth = { iterations: 0, examples: 0, epochs: [], times: [] };

function begin(
  t: Trainer,
  opts: TrainerOptions,
  o: RunOptions,
  resumedFrom?: { epoch: number; iteration: number },
): void {
  trainer = t;
  let saves = 0;
  truth = { iterations: t.position.iteration, examples: 0, epochs: [], times: [] };
  t.on('iteration', (e) => {
    truth.iterations = e.iteration;
    truth.examples += e.examples;
    truth.last = e;
    truth.times.push(performance.now());
    const n = truth.times.length;
    // the mean over the last 10 iterations (the first ones set up workers and are slower); the
    // first checkpoint comes at FIRST_EVERY whatever the pace, so an early reload has one to go on from
    if (opts.checkpoint && saves > 0 && n >= 3) {
      const k = Math.min(10, n - 1);
      opts.checkpoint.everyIterations = checkpointEvery((truth.times[n - 1] - truth.times[n - 1 - k]) / k);
    }
    post({ type: 'iteration', e });
  });
  // the target reached: no more scoring mid-epoch (the trainer reads evalEvery after each iteration)
  const reached = (accuracy: number) => {
    if (o.target !== undefined && accuracy >= o.target) opts.evalEvery = undefined;
  };
  t.on('evaluation', (e) => {
    reached(e.testAccuracy);
    post({ type: 'evaluation', e });
  });
  t.on('epoch', (e) => {
    reached(e.testAccuracy);
    truth.epochs.push(e);
    post({ type: 'epoch', e });
    withWeights(t, (p) => p.panel(PANEL))
      .then((panel) => panel && post({ type: 'predictions', epoch: e.epoch + 1, panel }))
      .catch(() => {}); // already logged by startPredictor, or the run moved on
  });
  t.on('worker', (e) => {
    post({ type: 'worker', e });
    sendWorkers();
  });
  t.on('state', (e) => post({ type: 'state', e }));
  t.on('checkpoint', (e) => {
    saves++;
    post({ type: 'checkpoint', iteration: e.iteration });
  });
  t.on('log', (e) => post({ type: 'log', line: e.message }));
  t.pool.on('change', () => sendWorkers());
  classRoom?.follow(t, resumedFrom !== undefined);
  room?.attach(t);
  const local: LocalWorker[] = [];
  const n = Math.max(0, Math.min(8, Math.trunc(o.local) || 0));
  const dataPath = new URL('data/', pageHref).pathname;
  for (let i = 0; i < n; i++) {
    const h = spawnWebWorker(new URL(`worker.js?data=${dataPath}`, pageHref), { name: `this tab #${i + 1}` });
    local.push({ id: h.id, name: `This tab, Web Worker ${i + 1}` });
    locals.push(h);
    t.addWorker(h).catch((e) =>
      post({ type: 'log', line: `Web Worker ${i + 1} could not be set up: ${(e as Error).message}` }),
    );
  }
  post({ type: 'run', job: t.job, local, resumedFrom });
  startPredictor(t);
  t.run()
    .then(
      async (r) => {
        // a finished run is not offered again; a stopped one is, at once
        if (!r.stopped) await saved.clear().catch(() => {});
        post({ type: 'ended', stopped: r.stopped, testAccuracy: r.testAccuracy, iterations: r.position.iteration });
        // Stop is how a lesson ends: the matrix (and, after a stop, the digits) come then too
        withWeights(t, async (p) => {
          if (r.stopped) {
            const panel = await p.panel(PANEL);
            post({ type: 'predictions', epoch: r.position.epoch + 1, panel, stoppedAt: r.position.iteration });
          }
          return p.confusion();
        })
          .then((matrix) => matrix && post({ type: 'confusion', matrix }))
          .catch(() => {});
      },
      (e: unknown) =>
        post({
          type: 'ended',
          stopped: false,
          testAccuracy: Number.NaN,
          iterations: t.position.iteration,
          error: (e as Error).message,
        }),
    )
    .finally(() => {
      if (trainer === t) running = false;
      room?.detach();
      for (const h of locals) void h.close('the run ended').catch(() => {});
      locals = [];
      if (trainer === t) post({ type: 'workers', list: t.pool.status() });
    });
}

/** A run is going (from start until its run() settles). */
let running = false;
const live = () => running;

const api: CoordinatorApi = {
  init(ev, peers, href) {
    events = ev;
    peerPort = peers;
    pageHref = href;
    classRoom = new ClassRoom(post, new URL(href).searchParams.get('wiretap') === '1');
  },

  async openRoom(key, again) {
    if (room) return room.room;
    if (!peerPort) throw new Error('the coordinator worker is not initialised');
    const created: CreatedRoom = again ?? (await createRoom(pageHref, key));
    const r = new HostedRoom(
      created,
      bridgedSimplePeer(peerPort),
      (e) => post({ type: 'peer', e }),
      (line) => console.log(`[room] ${line}`),
      classRoom,
    );
    await r.open();
    room = r;
    if (trainer && running) room.attach(trainer);
    return created;
  },

  async start(job: JobConfig, o) {
    if (live()) throw new Error('A run is already going: stop it first.');
    const opts = { ...trainerOptions(o), ...(await shardExamples(job)) };
    const t = new Trainer(job, opts);
    running = true;
    begin(t, opts, o);
  },

  async continueSaved(o) {
    if (live()) throw new Error('A run is already going: stop it first.');
    const bytes = await saved.load();
    if (!bytes) throw new Error('There is no saved run in this browser.');
    const opts = { ...trainerOptions(o), ...(await shardExamples(decodeCheckpoint(bytes).job)) };
    const t = Trainer.fromCheckpoint(bytes, opts);
    const from = { epoch: t.position.epoch, iteration: t.position.iteration };
    running = true;
    begin(t, opts, o, from);
    return { ...from, epochs: t.job.epochs };
  },

  async savedRun(): Promise<SavedRun | null> {
    const bytes = await saved.load().catch(() => null);
    if (!bytes) return null;
    const c = decodeCheckpoint(bytes);
    return { epoch: c.position.epoch, epochs: c.job.epochs, iteration: c.position.iteration };
  },

  pause: () => trainer?.pause(),
  resume: () => trainer?.resume(),
  stop: () => trainer?.stop(),

  setLearningRate(lr) {
    if (!trainer) throw new Error('No run is going.');
    trainer.setLearningRate(lr);
    return trainer.position.iteration + 1;
  },

  async classify(pixels) {
    const t = trainer;
    if (!t) throw new Error('Start a run first: the drawing is classified with the run’s current weights.');
    const probs = await withWeights(t, (p) => p.classify(pixels));
    if (!probs) throw new Error('This data set has no digits to draw.');
    return probs;
  },

  async exportModel() {
    const t = trainer;
    if (!t) throw new Error('Start a run first: the model is exported with the run’s current weights.');
    // tfjs lives in the predictor's worker, not in this one; a short-lived one when there is none
    const own = predictor?.api;
    const worker = own ? undefined : new Worker(new URL('predictor.js', pageHref), { type: 'module', name: 'export' });
    const api = own ?? Comlink.wrap<PredictorApi>(worker as Worker);
    try {
      const w = t.getWeights();
      return await api.exportModel(t.job.model, t.getLayout(), Comlink.transfer(w, [w.buffer]));
    } finally {
      if (!own) {
        api[Comlink.releaseProxy]();
        worker?.terminate();
      }
    }
  },

  wiretap: () => classRoom?.heard ?? [],

  async evaluateClass() {
    if (trainer && classRoom) await classRoom.evaluate(trainer, true);
  },

  truth: (since = 0) => ({ ...truth, times: truth.times.slice(since) }),

  async measureBridge(megabytes) {
    // the page echoes 'echo' messages; this is what a peer's bytes cost on their way through the page
    const port = peerPort;
    if (!port) throw new Error('not initialised');
    const { port1, port2 } = new MessageChannel();
    port.postMessage({ t: 'echo-port', id: 0, port: port2 }, [port2]);
    const chunk = 256 * 1024;
    const n = Math.max(1, Math.round((megabytes * 1024 * 1024) / chunk));
    const src = new Uint8Array(chunk);
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let back = 0;
      port1.onmessage = () => {
        if (++back === n) resolve();
      };
      for (let i = 0; i < n; i++) {
        const buf = src.slice().buffer; // a fresh copy per send, as BridgedPeer.send makes
        port1.postMessage(buf, [buf]);
      }
    });
    const ms = performance.now() - t0;
    port1.close();
    return { mbPerSec: (n * chunk) / 1024 / 1024 / (ms / 1000), msPerChunk: ms / n };
  },
};

Comlink.expose(api);
