/**
 * Test page for gpu.browser.test.ts: the worker's ShardComputer on tfjs's webgpu backend in a
 * Chromium page (SwiftShader here), with the backend's uploads, read-backs and shader compiles
 * counted by watchGpuWork. Bundled at test time with esbuild; driven through `window.gradroomGpu`.
 */
import type { ModelSpec } from '@gradroom/core';
import {
  type BackendReport,
  buildModel,
  type GpuAdapterLike,
  type GpuWork,
  gather,
  makeSynthetic,
  ShardComputer,
  selectBackend,
  watchGpuWork,
} from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';

export interface GpuSetup {
  model: ModelSpec;
  /** Synthetic data: seed, examples, features (= the model's inputs), classes. */
  data: { seed: number; examples: number; features: number; classes: number };
}

export interface CountRun extends GpuSetup {
  /** Weights versions to run; each is set once, then `shardsPerVersion` shards computed on it. */
  versions: number;
  shardsPerVersion: number;
  /** Shard sizes, used in turn. */
  sizes: number[];
  /** The warm-up computes one shard of each of these sizes first; default `sizes`. */
  warmSizes?: number[];
  /** false: compute every shard at its own size, as before the shard-size buckets (shardRows). */
  pad?: boolean;
}

export interface CountResult {
  backend: string;
  paramCount: number;
  /** What the first setWeights and one shard of each size did (shader compiles land here). */
  warmup: GpuWork;
  /** Each setWeights after warm-up. */
  setWeights: GpuWork[];
  /** Each shard after warm-up. */
  shards: GpuWork[];
  /** Bytes of the shard inputs (x float32, y int32) per shard, for telling data uploads from weight uploads. */
  inputBytes: number[];
  /** Whether every weight variable had its GPU buffer after each setWeights (then a shard cannot upload it). */
  weightsOnGpu: boolean[];
}

export interface LeakRun extends GpuSetup {
  shards: number;
  batch: number;
}

const log = (line: string) => {
  const el = document.getElementById('log');
  if (el) el.textContent += `${line}\n`;
};

/** The raw adapter, as the worker's backend choice sees it (GPUAdapterInfo's fields are getters). */
async function adapter(): Promise<GpuAdapterLike | null> {
  const a = await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter();
  if (!a) return null;
  const ad = a as { isFallbackAdapter?: boolean; info?: Record<string, unknown> };
  const i = ad.info ?? {};
  const s = (k: string) => (typeof i[k] === 'string' ? (i[k] as string) : undefined);
  return {
    isFallbackAdapter: ad.isFallbackAdapter,
    info: {
      vendor: s('vendor'),
      architecture: s('architecture'),
      device: s('device'),
      description: s('description'),
      isFallbackAdapter: typeof i.isFallbackAdapter === 'boolean' ? i.isFallbackAdapter : undefined,
    },
  };
}

async function select(prefer?: ('webgpu' | 'webgl' | 'wasm' | 'cpu')[]): Promise<BackendReport> {
  return selectBackend({ prefer, wasmPaths: new URL('/wasm/', location.href).href });
}

async function computer(s: GpuSetup): Promise<{ c: ShardComputer; data: ReturnType<typeof makeSynthetic> }> {
  const report = await selectBackend({ prefer: ['webgpu'] });
  if (report.backend !== 'webgpu') throw new Error(`no webgpu here: ${JSON.stringify(report)}`);
  const model = await buildModel(s.model);
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const c = new ShardComputer(model, inputShape, s.data.classes);
  return { c, data: makeSynthetic({ ...s.data, split: 'train' }) };
}

const weightsOf = (n: number, version: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + version) * 0.1);
const indicesOf = (size: number, start: number, total: number) =>
  Uint32Array.from({ length: size }, (_, i) => (start + i * 7) % total);

// tfjs-backend-webgpu keeps a tensor's GPU buffer as `resource` in its tensorMap (4.22 internals)
const onGpu = (ts: tf.Tensor[]) =>
  ts.every(
    (t) =>
      (tf.backend() as unknown as { tensorMap: { get(id: object): { resource?: unknown } } }).tensorMap.get(t.dataId)
        ?.resource != null,
  );

async function counts(r: CountRun): Promise<CountResult> {
  const { c, data } = await computer(r);
  if (r.pad === false) (c as { padRows: boolean }).padRows = false;
  const n = c.layout.size;
  try {
    let w = watchGpuWork();
    c.setWeights(weightsOf(n, 0));
    for (const size of r.warmSizes ?? r.sizes) await c.compute(gather(data, indicesOf(size, 0, data.size)));
    const warmup = w.read();
    w.stop();
    const setWeights: GpuWork[] = [];
    const shards: GpuWork[] = [];
    const inputBytes: number[] = [];
    const weightsOnGpu: boolean[] = [];
    let k = 0;
    for (let v = 1; v <= r.versions; v++) {
      w = watchGpuWork();
      c.setWeights(weightsOf(n, v));
      setWeights.push(w.read());
      w.stop();
      weightsOnGpu.push(onGpu(c.model.trainableWeights.map((t) => t.read())));
      for (let s = 0; s < r.shardsPerVersion; s++, k++) {
        const size = r.sizes[k % r.sizes.length];
        const ex = gather(data, indicesOf(size, k * 13, data.size));
        w = watchGpuWork();
        await c.compute(ex);
        shards.push(w.read());
        w.stop();
        inputBytes.push(ex.x.byteLength + ex.y.length * 4);
      }
    }
    return { backend: tf.getBackend(), paramCount: n, warmup, setWeights, shards, inputBytes, weightsOnGpu };
  } finally {
    c.model.dispose();
  }
}

/** The gradient sum of one shard on webgpu, for the test to hold against cpu in Node. */
async function gradient(
  s: GpuSetup & { weights: number[]; indices: number[] },
): Promise<{ gradSum: number[]; lossSum: number; correct: number; count: number; padRows: boolean }> {
  const { c, data } = await computer(s);
  try {
    c.setWeights(Float32Array.from(s.weights));
    const r = await c.compute(gather(data, s.indices));
    return {
      gradSum: Array.from(r.gradSum),
      lossSum: r.lossSum,
      correct: r.correct,
      count: r.count,
      padRows: c.padRows,
    };
  } finally {
    c.model.dispose();
  }
}

/** Tensors and bytes tfjs holds after 5 shards and after `shards` more, with an evaluation and a new version between. */
async function leak(r: LeakRun): Promise<{ after5: tf.MemoryInfo; afterAll: tf.MemoryInfo; ms: number }> {
  const { c, data } = await computer(r);
  const t0 = performance.now();
  let k = 0;
  const round = async (shards: number) => {
    for (let s = 0; s < shards; s++, k++) {
      if (s % 50 === 0) c.setWeights(weightsOf(c.layout.size, k));
      await c.compute(gather(data, indicesOf(r.batch, k, data.size)));
    }
    await c.evaluate(gather(data, indicesOf(r.batch, 1, data.size)));
    await c.getWeights();
  };
  try {
    await round(5);
    const after5 = tf.memory();
    await round(r.shards);
    return { after5, afterAll: tf.memory(), ms: performance.now() - t0 };
  } finally {
    c.model.dispose();
  }
}

declare global {
  interface Window {
    gradroomGpu: {
      adapter: typeof adapter;
      select: typeof select;
      counts: typeof counts;
      gradient: typeof gradient;
      leak: typeof leak;
    };
  }
}

window.gradroomGpu = { adapter, select, counts, gradient, leak };
log('gpu page ready');
