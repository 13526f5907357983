#!/usr/bin/env node
// The zoo's CNN on every backend: cnn-small's 2-D convolutions need Conv2DBackpropFilter, which the
// wasm backend lacks, so a worker asked for wasm falls back to cpu; cnn-portable is the same
// function and weights as depth-1 Conv3D and trains on wasm. Milliseconds for one shard's gradient
// (64 Fashion-MNIST images), one process, one backend at a time; the baseline is what a wasm worker
// ran before: cnn-small on its cpu fallback. (Measured here: the Conv3D form is also ~10x faster
// than Conv2D on the cpu backend itself, whose Conv2D gradients are slow.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZOO } from '../packages/core/dist/index.js';
import { ShardWorker } from '../packages/worker/dist/index.js';
import { report, timeMs } from './lib.mjs';

const file = new Uint8Array(
  readFileSync(join(import.meta.dirname, '..', 'packages', 'worker', 'dist', 'fashion-mnist.bin')),
);
const BATCH = 64;
const indices = Uint32Array.from({ length: BATCH }, (_, i) => (i * 97) % 12000);

async function msPerShard(name, backends) {
  const w = new ShardWorker(async () => file);
  const info = await w.init({
    task: { model: ZOO[name], dataset: { kind: 'fashion-mnist', split: 'train' }, layout: [], paramCount: 0 },
    backends,
  });
  await w.setWeights(
    0,
    Float32Array.from({ length: info.paramCount }, (_, i) => Math.sin(i) * 0.05),
  );
  const ms = await timeMs(() => w.compute({ iteration: 0, version: 0, shardId: 0, indices }), {
    reps: name.startsWith('cnn') ? 3 : 9,
    warmup: 1,
  });
  await w.dispose();
  return { ms, backend: info.backend };
}

const fallback = await msPerShard('cnn-small', ['wasm', 'cpu']);
const portableWasm = await msPerShard('cnn-portable', ['wasm']);
const portableCpu = await msPerShard('cnn-portable', ['cpu']);
const smallCpu = await msPerShard('cnn-small', ['cpu']);
const mlpWasm = await msPerShard('mlp-small', ['wasm']);
if (fallback.backend !== 'cpu' || portableWasm.backend !== 'wasm') {
  throw new Error(
    `unexpected backends: cnn-small asked for wasm ran on ${fallback.backend}, cnn-portable on ${portableWasm.backend}`,
  );
}
report(
  'cnn-backends',
  [
    { name: 'cnn-small asked for wasm (falls back to cpu), ms/shard of 64', value: fallback.ms, unit: 'ms' },
    {
      name: 'cnn-portable on wasm vs cnn-small fallback',
      value: portableWasm.ms,
      baseline: fallback.ms,
      unit: 'ms',
      ratio: portableWasm.ms / fallback.ms,
      target: '<= 0.8',
    },
    {
      name: 'cnn-portable on cpu vs cnn-small on cpu (Conv3D costs)',
      value: portableCpu.ms,
      baseline: smallCpu.ms,
      unit: 'ms',
      ratio: portableCpu.ms / smallCpu.ms,
    },
    { name: 'mlp-small on wasm, for scale', value: mlpWasm.ms, unit: 'ms' },
  ],
  { batch: BATCH, data: 'fashion-mnist' },
);
