/**
 * ms per shard of the real worker (ShardWorker: gradient sums with read-back) on real WebGPU vs
 * wasm and cpu, for the zoo models, and how far each backend's gradient is from the first one's.
 * Runs on a GPU machine through the ../shared/gpu kit (Node + Dawn + the NVIDIA Vulkan driver):
 *
 *   ../shared/gpu/prepare.sh && node bench/gpu-bundle.mjs     # here: makes .gpu/ and .gpu/shard.mjs
 *   bash .gpu/run.sh .gpu/shard.mjs                            # there (device run, carry [".gpu"])
 *
 * Here, without a GPU: `BACKENDS=wasm,cpu node .gpu/shard.mjs` checks the script itself.
 * Writes $OUT/gpu-shard.json when OUT is set.
 */
import { writeFileSync } from 'node:fs';
import type { ModelSpec } from '../packages/core/src/index.js';
import { type BackendName, ShardWorker, ZOO } from '../packages/worker/src/index.js';

const backends = (process.env.BACKENDS ?? 'webgpu,wasm,cpu').split(',') as BackendName[];
const reps = Number(process.env.REPS ?? 20);
if (backends.includes('webgpu')) {
  // Dawn's WebGPU must be on navigator before tfjs's webgpu backend is imported (PLATFORM.md)
  const { create, globals } = (await import('webgpu' as string)) as {
    create: (o: string[]) => unknown;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  (globalThis as { navigator?: unknown }).navigator = { gpu: create([]) };
}

const cases: [string, ModelSpec, number][] = [
  ['mlp-small', ZOO['mlp-small'], 64],
  ['mlp 784-1024-1024-10', { kind: 'mlp', inputShape: [28, 28, 1], hidden: [1024, 1024], classes: 10 }, 512],
  ['cnn-small', ZOO['cnn-small'], 128],
];
const rows: Record<string, unknown>[] = [];
for (const [name, model, batch] of cases) {
  let first: Float32Array | undefined;
  for (const backend of backends) {
    const w = new ShardWorker(async () => new Uint8Array(0));
    const dataset = { kind: 'synthetic', seed: 1, examples: 2048, features: 784, classes: 10, split: 'train' } as const;
    let info: Awaited<ReturnType<ShardWorker['init']>>;
    try {
      info = await w.init({ task: { model, dataset, layout: [], paramCount: 0 }, backends: [backend] });
    } catch (e) {
      rows.push({ model: name, batch, backend, error: (e as Error).message });
      console.log(JSON.stringify(rows.at(-1)));
      continue;
    }
    if (info.backend !== backend) {
      rows.push({
        model: name,
        batch,
        backend,
        error: `fell back to ${info.backend}: ${JSON.stringify(info.skipped)}`,
      });
      console.log(JSON.stringify(rows.at(-1)));
      await w.dispose();
      continue;
    }
    const weights = Float32Array.from({ length: info.paramCount }, (_, i) => Math.sin(i) * 0.05);
    await w.setWeights(0, weights);
    const indices = Uint32Array.from({ length: batch }, (_, i) => i);
    const t0 = performance.now();
    const r0 = await w.compute({ iteration: 0, version: 0, shardId: 0, indices });
    const firstMs = performance.now() - t0;
    const n = backend === 'cpu' && batch > 64 ? 2 : reps;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) await w.compute({ iteration: i, version: 0, shardId: i, indices });
    const ms = (performance.now() - t1) / n;
    let rel: number | null = null;
    if (first) {
      let d = 0;
      let s = 0;
      for (let i = 0; i < first.length; i++) {
        d += (first[i] - r0.gradSum[i]) ** 2;
        s += first[i] ** 2;
      }
      rel = Math.sqrt(d / s);
    } else first = r0.gradSum;
    rows.push({
      model: name,
      batch,
      backend,
      device: info.device,
      msPerShard: +ms.toFixed(2),
      firstShardMs: Math.round(firstMs),
      relGradDiffVsFirst: rel,
      tensors: (await w.memory()).numTensors,
    });
    console.log(JSON.stringify(rows.at(-1)));
    await w.dispose();
  }
}
if (process.env.OUT) writeFileSync(`${process.env.OUT}/gpu-shard.json`, JSON.stringify(rows, null, 1));
process.exit(0);
