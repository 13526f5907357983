/**
 * One prepared run that measures what issue 13 asks of gradroom's worker on a real GPU, for the MLP
 * (784-128-10), the wide MLP (784-1024-1024-10) and the CNN (cnn-small) at batch 64, 512 and 2048,
 * on webgpu, wasm and cpu:
 * - ms per shard of the worker's path (ShardComputer: new weights in, sums out, as in exact mode),
 *   and a plain tfjs loop on the same backend (variableGrads + Adam on the device), as a ratio;
 * - the share of a shard spent on the weights upload, on compute and on the read-back (each timed
 *   on its own), and the ms of putting the shard's features on the device (inside compute);
 * - on webgpu: uploads, read-backs and compiled programs per shard, the compiles a shard size not
 *   seen before costs, the adapter's description and which backend the worker picks on its own;
 * - how far each backend's gradient is from the first backend's.
 * Runs on a GPU machine through the ../shared/gpu kit (Node + Dawn + the NVIDIA Vulkan driver):
 *
 *   ../shared/gpu/prepare.sh && node bench/gpu-bundle.mjs     # here: makes .gpu/ and .gpu/shard.mjs
 *   bash .gpu/run.sh .gpu/shard.mjs                            # there (device run, carry [".gpu"])
 *
 * Here, without a GPU: `BACKENDS=wasm,cpu node .gpu/shard.mjs` checks the script itself; webgpu
 * runs here too on Mesa's lavapipe (mesa-vulkan-drivers 25 from bookworm-backports unpacked with
 * dpkg -x, VK_ICD_FILENAMES at its lvp_icd.json, dawn.node unpacked from .gpu/dawn.node.xz), slowly.
 * Writes $OUT/gpu-shard.json (bench/out's format: copy it to bench/out/ and `node bench/run.mjs none`
 * merges it into bench/results.json), rewritten after every case so a run cut short keeps what it
 * measured. Env: BACKENDS, MODELS (mlp,wide,cnn), BATCHES, BUDGET_S (whole run, default 240),
 * CASE_S (timing of one case, default 3), REPS (at most, default 10).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../packages/core/src/index.js';
import {
  type BackendName,
  buildModel,
  classifyAdapter,
  type GpuAdapterLike,
  type GpuWork,
  gather,
  makeSynthetic,
  ShardComputer,
  selectBackend,
  watchGpuWork,
} from '../packages/worker/src/index.js';

const env = (k: string, d: string) => process.env[k] ?? d;
const backends = env('BACKENDS', 'webgpu,wasm,cpu').split(',') as BackendName[];
const models = env('MODELS', 'mlp,wide,cnn').split(',');
const batches = env('BATCHES', '64,512,2048').split(',').map(Number);
const budgetMs = Number(env('BUDGET_S', '240')) * 1000;
const caseMs = Number(env('CASE_S', '3')) * 1000;
const maxReps = Number(env('REPS', '10'));
// a first shard slower than this is measured once, and the larger batches of that model skipped
const slowMs = 8000;
const t0 = performance.now();
const left = () => budgetMs - (performance.now() - t0);

let gpuSetup: string | undefined;
if (backends.includes('webgpu')) {
  // Dawn's WebGPU must be on navigator before tfjs's webgpu backend is imported (PLATFORM.md);
  // selectBackend imports that backend only when it probes webgpu
  try {
    const { create, globals } = (await import('webgpu' as string)) as {
      create: (o: string[]) => unknown;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  } catch (e) {
    gpuSetup = `no Dawn WebGPU here: ${(e as Error).message}`;
  }
}

const MODELS: Record<string, ModelSpec> = {
  mlp: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  wide: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [1024, 1024], classes: 10 },
  cnn: { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 64, classes: 10 },
};

interface Row {
  model: string;
  batch: number;
  backend: string;
  error?: string;
  /** ms of one shard through the worker's path: setWeights of a new version + compute with read-back. */
  gradroomMs?: number;
  /** Whether the worker computed this shard padded to its size bucket (shardRows). */
  padRows?: boolean;
  /** ms to put the shard's features on the device (part of computeMs below, shown apart). */
  dataUploadMs?: number;
  /** ms of one step of the plain tfjs loop (variableGrads + Adam on the device, loss read back). */
  plainMs?: number;
  /** plainMs / gradroomMs: 1 is as fast as plain tfjs; the floor is 0.9. */
  ratio?: number;
  firstShardMs?: number;
  uploadMs?: number;
  readMs?: number;
  computeMs?: number;
  shares?: { upload: number; compute: number; read: number };
  /** webgpu: what one warm shard did (a new weights version, then the shard). */
  counts?: GpuWork;
  /** webgpu: shard sizes not seen before: programs compiled and ms of the first and second shard of each. */
  newSizes?: { size: number; programs: number; firstMs: number; againMs: number }[];
  relGradDiffVsFirst?: number | null;
  reps?: number;
}

const out: {
  bench: string;
  at: string;
  node: string;
  gpuSetup?: string;
  adapter?: GpuAdapterLike | null;
  verdict?: ReturnType<typeof classifyAdapter>;
  auto?: unknown;
  rows: Row[];
  entries: Record<string, unknown>[];
  ms?: number;
} = { bench: 'gpu-shard', at: new Date().toISOString(), node: process.version, gpuSetup, rows: [], entries: [] };

function save(): void {
  out.ms = Math.round(performance.now() - t0);
  out.entries = entries();
  writeFileSync(`${process.env.OUT ?? '.'}/gpu-shard.json`, JSON.stringify(out, null, 1));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timed(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await f(i);
    ts.push(performance.now() - s);
  }
  return ts;
}
/** Waits until `t` is computed: a dependent 1-element slice read back (4 bytes). */
async function sync(t: tf.Tensor): Promise<void> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  await one.data();
  one.dispose();
}

// the adapter and the backend the worker takes on its own (issue 13: a real GPU over wasm)
const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator;
if (nav?.gpu) {
  const a = (await nav.gpu.requestAdapter().catch(() => null)) as {
    isFallbackAdapter?: boolean;
    info?: Record<string, unknown>;
  } | null;
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  out.adapter = a && {
    isFallbackAdapter: a.isFallbackAdapter,
    info: {
      vendor: s(a.info?.vendor),
      architecture: s(a.info?.architecture),
      device: s(a.info?.device),
      description: s(a.info?.description),
      isFallbackAdapter: typeof a.info?.isFallbackAdapter === 'boolean' ? a.info.isFallbackAdapter : undefined,
    },
  };
  if (out.adapter) out.verdict = classifyAdapter(out.adapter);
}
out.auto = await selectBackend().catch((e) => ({ error: (e as Error).message }));
console.log(JSON.stringify({ adapter: out.adapter, verdict: out.verdict, auto: out.auto, gpuSetup }));

const data = makeSynthetic({ seed: 1, examples: Math.max(...batches, 64), features: 784, classes: 10, split: 'train' });
const firstGrad = new Map<string, Float32Array>();

for (const backend of backends) {
  const report = await selectBackend({ prefer: [backend] }).catch((e) => ({ backend: 'none', error: e as Error }));
  if (report.backend !== backend) {
    out.rows.push({ model: '*', batch: 0, backend, error: `not available: ${JSON.stringify(report)}` });
    console.log(JSON.stringify(out.rows.at(-1)));
    continue;
  }
  for (const name of models) {
    let tooSlow = false;
    let msPerExample = 0;
    for (const batch of batches) {
      // a case the previous batch predicts to take over slowMs a shard is not started
      if (msPerExample * batch > slowMs) tooSlow = true;
      const row: Row = { model: name, batch, backend };
      out.rows.push(row);
      if (tooSlow || left() < 0) {
        row.error = tooSlow
          ? `skipped: a shard would take over ${slowMs} ms, judging by the smaller batch`
          : 'skipped: out of time';
        console.log(JSON.stringify(row));
        continue;
      }
      try {
        tooSlow = await measure(row, MODELS[name], backend);
        if (row.gradroomMs) msPerExample = row.gradroomMs / batch;
      } catch (e) {
        row.error = (e as Error).message;
      }
      console.log(JSON.stringify(row));
      save();
    }
  }
}
save();
console.log(
  `done in ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote ${process.env.OUT ?? '.'}/gpu-shard.json`,
);
process.exit(0);

/** Measures one (model, batch, backend); true when it is too slow to go on to larger batches. */
async function measure(row: Row, spec: ModelSpec, backend: BackendName): Promise<boolean> {
  const model = await buildModel(spec);
  const c = new ShardComputer(model, model.inputs[0].shape.slice(1) as number[], 10);
  const n = c.layout.size;
  const w = [0, 1].map((v) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + v) * 0.05));
  const ex = gather(
    data,
    Uint32Array.from({ length: row.batch }, (_, i) => i),
  );
  const plain = await plainLoop(spec, ex);
  try {
    // first shard: shader compiles on a GPU
    let s = performance.now();
    c.setWeights(w[0]);
    const r0 = await c.compute(ex);
    row.firstShardMs = +(performance.now() - s).toFixed(1);
    if (row.batch === batches[0]) {
      const key = `${row.model}`;
      const ref = firstGrad.get(key);
      if (ref) {
        let d = 0;
        let m = 0;
        for (let i = 0; i < ref.length; i++) {
          d += (ref[i] - r0.gradSum[i]) ** 2;
          m += ref[i] ** 2;
        }
        row.relGradDiffVsFirst = Math.sqrt(d / m);
      } else {
        firstGrad.set(key, r0.gradSum.slice());
        row.relGradDiffVsFirst = null;
      }
    }
    s = performance.now();
    c.setWeights(w[1]);
    await c.compute(ex);
    const second = performance.now() - s;
    if (second > slowMs) {
      row.gradroomMs = +second.toFixed(1);
      row.reps = 1;
      return true;
    }
    // each measure below runs `reps` times; four measures share the case's budget
    const reps = Math.max(2, Math.min(maxReps, Math.floor(caseMs / 4 / Math.max(second, 0.1))));
    row.reps = reps;
    await plain.step();
    const plainMs = median(await timed(reps, () => plain.step()));
    const shardMs = median(
      await timed(reps, async (i) => {
        c.setWeights(w[i % 2]);
        await c.compute(ex);
      }),
    );
    // phases, each timed on its own: the upload waits for its slices (and a 4-byte read-back,
    // whose cost is taken off); the read-back is of a result already computed
    const lastVar = () => model.trainableWeights.at(-1)?.read() as tf.Tensor;
    const syncMs = median(await timed(reps, () => sync(lastVar())));
    const upMs = Math.max(
      0,
      median(
        await timed(reps, async (i) => {
          c.setWeights(w[i % 2]);
          await sync(lastVar());
        }),
      ) - syncMs,
    );
    const dataUp = await timed(reps, async () => {
      const x = tf.tensor(ex.x, [row.batch, 28, 28, 1]);
      await sync(x);
      x.dispose();
    });
    const dataUpMs = Math.max(0, median(dataUp) - syncMs);
    const reads: number[] = [];
    for (let i = 0; i < reps; i++) {
      const packed = c.packedSums(ex);
      await sync(packed);
      const t = performance.now();
      await packed.data();
      reads.push(performance.now() - t);
      packed.dispose();
    }
    const readMs = median(reads);
    row.gradroomMs = +shardMs.toFixed(2);
    row.plainMs = +plainMs.toFixed(2);
    row.ratio = +(plainMs / shardMs).toFixed(3);
    row.uploadMs = +upMs.toFixed(3);
    row.readMs = +readMs.toFixed(3);
    row.dataUploadMs = +dataUpMs.toFixed(3);
    row.padRows = c.padRows;
    row.computeMs = +Math.max(0, shardMs - upMs - readMs).toFixed(3);
    row.shares = {
      upload: +(upMs / shardMs).toFixed(3),
      compute: +(Math.max(0, shardMs - upMs - readMs) / shardMs).toFixed(3),
      read: +(readMs / shardMs).toFixed(3),
    };
    if (backend === 'webgpu') {
      const watch = watchGpuWork();
      c.setWeights(w[0]);
      await c.compute(ex);
      row.counts = watch.read();
      watch.stop();
      // shard sizes the planner may hand out that this worker has not computed yet
      row.newSizes = [];
      for (const size of [row.batch - 1, row.batch - 3, Math.floor(row.batch * 0.7)]) {
        const e2 = gather(
          data,
          Uint32Array.from({ length: size }, (_, i) => i),
        );
        const wn = watchGpuWork();
        let t = performance.now();
        await c.compute(e2);
        const firstMs = performance.now() - t;
        const programs = wn.read().programs;
        wn.stop();
        t = performance.now();
        await c.compute(e2);
        row.newSizes.push({
          size,
          programs,
          firstMs: +firstMs.toFixed(1),
          againMs: +(performance.now() - t).toFixed(1),
        });
      }
    }
    return false;
  } finally {
    model.dispose();
    plain.dispose();
  }
}

/** The plain tfjs loop a developer would write on this backend: one gradient step with Adam, loss read back. */
async function plainLoop(spec: ModelSpec, ex: { x: Float32Array; y: Int32Array | Float32Array }) {
  const m = await buildModel(spec);
  const vars = m.trainableWeights.map((v) => v.read() as tf.Variable);
  const opt = tf.train.adam(0.001);
  const n = ex.y.length;
  return {
    async step(): Promise<void> {
      const loss = tf.tidy(() => {
        const x = tf.tensor(ex.x, [n, 28, 28, 1]);
        const y = tf.oneHot(tf.tensor1d(ex.y as Int32Array, 'int32'), 10);
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          vars,
        );
        opt.applyGradients(Object.keys(grads).map((name) => ({ name, tensor: grads[name] })));
        return value;
      });
      await loss.data();
      loss.dispose();
    },
    dispose(): void {
      m.dispose();
      opt.dispose();
    },
  };
}

/** bench/out entries: the ratio against plain tfjs per webgpu case, and webgpu against wasm and cpu. */
function entries(): Record<string, unknown>[] {
  const es: Record<string, unknown>[] = [];
  const find = (model: string, batch: number, backend: string) =>
    out.rows.find((r) => r.model === model && r.batch === batch && r.backend === backend && r.gradroomMs);
  for (const r of out.rows) {
    if (!r.gradroomMs || r.plainMs === undefined || r.ratio === undefined) continue;
    es.push({
      name: `${r.backend} ${r.model} batch ${r.batch}: gradroom shard vs plain tfjs step (plain/gradroom)`,
      value: r.gradroomMs,
      baseline: r.plainMs,
      unit: 'ms',
      ratio: r.ratio,
      target: r.backend === 'webgpu' ? '>= 0.9' : undefined,
      pass: r.backend === 'webgpu' ? r.ratio >= 0.9 : undefined,
      note: r.shares
        ? `upload ${r.uploadMs} ms, compute ${r.computeMs} ms, read-back ${r.readMs} ms; first shard ${r.firstShardMs} ms`
        : undefined,
    });
  }
  for (const r of out.rows) {
    if (r.backend !== 'webgpu' || !r.gradroomMs) continue;
    for (const other of ['wasm', 'cpu']) {
      const o = find(r.model, r.batch, other);
      if (!o?.gradroomMs) continue;
      es.push({
        name: `${r.model} batch ${r.batch}: ms per shard, webgpu vs ${other} (${other}/webgpu)`,
        value: r.gradroomMs,
        baseline: o.gradroomMs,
        unit: 'ms',
        ratio: +(o.gradroomMs / r.gradroomMs).toFixed(2),
      });
    }
  }
  return es;
}
