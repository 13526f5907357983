/**
 * Test page for engine.browser.test.ts: runs the Trainer in the page with real module Web Workers
 * (the demo's dist/worker.js) and hands the weights back to the test. Bundled at test time with
 * esbuild; the test drives it through `window.gradroom.run(...)`.
 */
import type { BackendName } from '@gradroom/worker';
import {
  IndexedDbCheckpointStore,
  type JobConfig,
  spawnWebWorker,
  Trainer,
  type TrainerOptions,
  type WorkerHandle,
} from '../../../src/browser.js';
import { killedAt, slowed } from '../../helpers.js';

export interface EngineRun {
  job: JobConfig;
  workers: number;
  backends: BackendName[];
  /** Terminate worker number `worker` (0-based) while it computes its `call`-th shard (1-based). */
  kill?: { worker: number; call: number };
  /** Make worker number `worker` (0-based) this many ms slower per example, like a slower device. */
  slow?: { worker: number; msPerExample: number };
  /** Stop the run after this iteration (a checkpoint is saved to IndexedDB when `checkpointKey` is set). */
  stopAt?: number;
  /** IndexedDB record for checkpoints; with `resume`, the run continues from it. */
  checkpointKey?: string;
  resume?: boolean;
}

export interface EngineResult {
  weights: number[];
  iteration: number;
  stopped: boolean;
  /** The backend each worker reported at init. */
  backends: string[];
  replanned: number;
  /** Each worker's share of every mini-batch, iteration by iteration. */
  shares: number[][];
  killed: boolean;
  membersLeft: number;
  testAccuracy: number;
  checkpointBytes: number;
  ms: number;
}

const log = (line: string) => {
  const el = document.getElementById('log');
  if (el) el.textContent += `${line}\n`;
};

async function run(r: EngineRun): Promise<EngineResult> {
  const t0 = performance.now();
  // every worker takes part: these runs test exactness under kills and slow workers, not the planner
  const opts: TrainerOptions = {
    backends: r.backends,
    wasmPaths: new URL('/wasm/', location.href).href,
    planning: 'all',
  };
  const store = r.checkpointKey
    ? new IndexedDbCheckpointStore({ database: 'gradroom-test', key: r.checkpointKey })
    : undefined;
  if (store) opts.checkpoint = { store };
  let trainer: Trainer;
  if (r.resume) {
    const bytes = await store?.load();
    if (!bytes) throw new Error(`no checkpoint in IndexedDB under ${r.checkpointKey}`);
    trainer = Trainer.fromCheckpoint(bytes, opts);
    log(`resumed from a ${bytes.byteLength}-byte checkpoint at iteration ${trainer.position.iteration}`);
  } else {
    await store?.clear();
    trainer = new Trainer(r.job, opts);
  }
  let killed = false;
  const joins = [];
  for (let i = 0; i < r.workers; i++) {
    let h: WorkerHandle = spawnWebWorker(new URL('/worker.js?data=/data/', location.href));
    if (r.kill?.worker === i) h = killedAt(h, r.kill.call, () => (killed = true));
    if (r.slow?.worker === i) h = slowed(h, r.slow.msPerExample);
    joins.push(trainer.addWorker(h));
  }
  let replanned = 0;
  const shares: number[][] = [];
  trainer.on('iteration', (e) => {
    replanned += e.replanned;
    shares.push(e.workers.map((w) => w.share));
    log(
      `iteration ${e.iteration}: loss ${e.loss.toFixed(4)}, shares ${e.workers.map((w) => `${w.id}=${w.share.toFixed(2)}`).join(' ')}`,
    );
    if (r.stopAt !== undefined && e.iteration === r.stopAt) trainer.stop();
  });
  trainer.on('log', (e) => log(`${e.level}: ${e.message}`));
  try {
    const members = await Promise.all(joins);
    const backends = members.map((m) => m.info?.backend ?? 'none');
    log(`workers: ${backends.join(', ')}`);
    const result = await trainer.run();
    const checkpointBytes = (await store?.load())?.byteLength ?? 0;
    log(`done at iteration ${result.position.iteration}${result.stopped ? ' (stopped)' : ''}`);
    return {
      weights: Array.from(result.weights),
      iteration: result.position.iteration,
      stopped: result.stopped,
      backends,
      replanned,
      shares,
      killed,
      membersLeft: trainer.pool.members.size,
      testAccuracy: result.testAccuracy,
      checkpointBytes,
      ms: performance.now() - t0,
    };
  } finally {
    await trainer.close();
    store?.close();
  }
}

/** A worker whose script cannot load: its handle must close and its calls reject, not hang. */
async function broken(url: string): Promise<{ closed: string; error: string }> {
  const h = spawnWebWorker(new URL(url, location.href));
  const call = h.memory().then(
    () => 'resolved',
    (e: Error) => `${e.name}: ${e.message}`,
  );
  const closed = await h.closed;
  return { closed, error: await call };
}

declare global {
  interface Window {
    gradroom: { run: (r: EngineRun) => Promise<EngineResult>; broken: typeof broken };
  }
}

window.gradroom = { run, broken };
log('engine page ready');
