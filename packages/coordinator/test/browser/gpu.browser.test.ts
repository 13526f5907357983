/**
 * The worker's gradient path on tfjs's webgpu backend in Chromium (SwiftShader here, a software
 * GPU): one weights upload per version, one read-back per shard, no shader compiles once warm, no
 * tensor growth over 500 shards, gradients equal to cpu's computed in Node; and the backend choice
 * recognises SwiftShader as software from the real adapter and keeps wasm ahead of it.
 *
 * Needs Chromium (`node scripts/bootstrap.mjs --browser`) and the demo's dist (its wasm files);
 * GRADROOM_SKIP_BROWSER=1 skips these tests on a machine without them.
 */
import { join } from 'node:path';
import type { ModelSpec } from '@gradroom/core';
import { buildModel, classifyAdapter, gather, makeSynthetic, ShardComputer, shardRows } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { relativeDifference } from '../reference/serial.js';
import {
  bundlePage,
  DEMO_DIST,
  hasChromium,
  hasDemoBuild,
  launchChromium,
  openPage,
  removeBundle,
  type Served,
  serve,
} from './chromium.js';
import type { GpuSetup } from './pages/gpu-page.js';

const skip = process.env.GRADROOM_SKIP_BROWSER === '1';

// 64-128-10: 9,610 parameters, above tfjs-webgpu's 1,000-element CPU hand-off, so the weights
// really go to the GPU; shards of 7-33 examples carry far fewer bytes than the weights
const mlp: GpuSetup = {
  model: { kind: 'mlp', inputShape: [64], hidden: [128], classes: 10 },
  data: { seed: 4, examples: 300, features: 64, classes: 10 },
};
const cnn: GpuSetup = {
  model: { kind: 'cnn', inputShape: [10, 10, 1], filters: [4, 8], dense: 16, classes: 5 },
  data: { seed: 5, examples: 100, features: 100, classes: 5 },
};

describe.skipIf(skip)('webgpu (SwiftShader) in Chromium: what a shard costs the GPU', () => {
  let bundle: string;
  let server: Served;
  let browser: Browser;
  let page: Page;
  let logs: string[] = [];

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error('Chromium is missing: run node scripts/bootstrap.mjs --browser (or set GRADROOM_CHROMIUM)');
    if (!hasDemoBuild()) throw new Error('apps/demo/dist is not built: run npm run build');
    await tf.setBackend('cpu');
    [bundle, browser] = await Promise.all([
      bundlePage(join(import.meta.dirname, 'pages', 'gpu-page.ts')),
      launchChromium(),
    ]);
    server = await serve([bundle, DEMO_DIST]);
    ({ page, logs } = await openPage(browser, server.url('/gpu-page.html')));
    await page.waitForFunction(() => 'gradroomGpu' in window);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (bundle) await removeBundle(bundle);
  });

  const showLogs = () => onTestFailed(() => console.error(`page log:\n${logs.join('\n')}`));

  it('recognises the real SwiftShader adapter as software: wasm is chosen, and webgpu only by name', async () => {
    showLogs();
    const adapter = await page.evaluate(() => window.gradroomGpu.adapter());
    expect(adapter).not.toBeNull();
    const verdict = classifyAdapter(adapter ?? {});
    expect(verdict.software).toBe(true);
    expect(verdict.device).toMatch(/swiftshader/i);
    const auto = await page.evaluate(() => window.gradroomGpu.select());
    expect(auto.backend).toBe('wasm');
    expect(auto.skipped.find((s) => s.backend === 'webgpu')?.reason).toMatch(/software GPU .*swiftshader/i);
    const named = await page.evaluate(() => window.gradroomGpu.select(['webgpu']));
    expect(named.backend).toBe('webgpu');
    expect(named.device).toMatch(/^software: .*swiftshader/i);
    expect(named.reason).toMatch(/asked for by name/);
  });

  it('one weights upload per version, one read-back per shard, no shader compile once warm', async () => {
    showLogs();
    const sizes = [16, 33, 7];
    const r = await page.evaluate(
      (a) => window.gradroomGpu.counts({ ...a, versions: 3, shardsPerVersion: 4, sizes: a.sizes }),
      { ...mlp, sizes },
    );
    expect(r.backend).toBe('webgpu');
    const weightBytes = r.paramCount * 4;
    expect(r.paramCount).toBe(64 * 128 + 128 + 128 * 10 + 10);
    // the warm-up compiled the programs (the counter works) and read back once per shard
    expect(r.warmup.programs).toBeGreaterThan(10);
    expect(r.warmup.readbacks).toBe(sizes.length);
    expect(r.setWeights).toHaveLength(3);
    for (const s of r.setWeights) {
      expect(s).toMatchObject({ uploads: 1, uploadBytes: weightBytes, readbacks: 0, programs: 0 });
    }
    // every variable holds a GPU buffer after setWeights, so no shard can upload a weight again
    expect(r.weightsOnGpu).toEqual([true, true, true]);
    expect(r.shards).toHaveLength(12);
    r.shards.forEach((s, k) => {
      const n = sizes[k % sizes.length];
      // gradient, loss and correct count in one buffer
      expect(s.readbacks).toBe(1);
      expect(s.readbackBytes).toBe(weightBytes + 8);
      expect(s.programs).toBe(0);
      // the shard's own data: x (padded to its bucket), labels, and the one-hot labels tfjs makes on
      // the CPU for small inputs
      expect(s.uploads).toBeGreaterThanOrEqual(2);
      expect(s.uploads).toBeLessThanOrEqual(3);
      expect(s.uploadBytes).toBeGreaterThanOrEqual(r.inputBytes[k]);
      expect(s.uploadBytes).toBeLessThanOrEqual(shardRows(n) * 64 * 4 + n * 4 + n * 10 * 4);
    });
  });

  it('shard sizes not seen before compile nothing once their bucket is warm', async () => {
    // a page of its own: tfjs's program cache lives as long as the page's webgpu backend
    const own = await openPage(browser, server.url('/gpu-page.html'));
    onTestFailed(() => console.error(`page log:\n${own.logs.join('\n')}`));
    await own.page.waitForFunction(() => 'gradroomGpu' in window);
    const page = own.page;
    // buckets 64 and 128 warm, once with a size that is a multiple of 4 and once not (the loss
    // runs on the real rows, and tfjs compiles its element-wise programs in a vec4 variant and a
    // plain one); then the uneven sizes a planner hands out (without the buckets, SwiftShader
    // compiled 2-3 programs for most new sizes)
    const sizes = [33, 50, 63, 100, 127, 65, 47, 90];
    expect(new Set(sizes.map(shardRows))).toEqual(new Set([64, 128]));
    const r = await page.evaluate(
      (a) => window.gradroomGpu.counts({ ...a, versions: 1, shardsPerVersion: a.sizes.length, warmSizes: [64, 127] }),
      { ...mlp, sizes },
    );
    expect(r.shards.map((s) => s.programs)).toEqual(sizes.map(() => 0));
    expect(r.shards.map((s) => s.readbacks)).toEqual(sizes.map(() => 1));
    // the counter has teeth: some of these sizes unpadded compile new programs
    const unpadded = await page.evaluate(
      (a) =>
        window.gradroomGpu.counts({
          ...a,
          versions: 1,
          shardsPerVersion: a.sizes.length,
          warmSizes: [64, 127],
          pad: false,
        }),
      { ...mlp, sizes: [33, 50, 127] },
    );
    expect(unpadded.shards.reduce((a, s) => a + s.programs, 0)).toBeGreaterThan(0);
    await page.close();
  });

  for (const [name, setup] of [
    ['an MLP', mlp],
    ['a CNN', cnn],
  ] as const) {
    it(`${name}: the webgpu gradient sum equals cpu's in Node within 1e-5`, async () => {
      showLogs();
      // cpu reference here, in this process, with the worker's own ShardComputer on tfjs cpu
      const model = await buildModel(setup.model as ModelSpec);
      const ref = new ShardComputer(model, model.inputs[0].shape.slice(1) as number[], setup.data.classes);
      const weights = Float32Array.from({ length: ref.layout.size }, (_, i) => Math.sin(i * 0.37) * 0.2);
      // 37 examples: padded to 64 rows on webgpu, not on cpu
      const indices = Array.from({ length: 37 }, (_, i) => (i * 11) % setup.data.examples);
      ref.setWeights(weights);
      const want = await ref.compute(
        gather(makeSynthetic({ ...setup.data, split: 'train' }), Uint32Array.from(indices)),
      );
      model.dispose();
      const got = await page.evaluate((a) => window.gradroomGpu.gradient(a), {
        ...setup,
        weights: Array.from(weights),
        indices,
      });
      expect(got.count).toBe(37);
      // computed with 64 rows, 27 of them padding cut off before the loss
      expect(got.padRows).toBe(true);
      expect(got.gradSum).toHaveLength(want.gradSum.length);
      expect(relativeDifference(Float32Array.from(got.gradSum), want.gradSum)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(got.lossSum - want.lossSum) / Math.abs(want.lossSum)).toBeLessThanOrEqual(1e-5);
      expect(got.correct).toBe(want.correct);
      // the comparison has teeth: the gradient is far from zero
      expect(want.gradSum.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    });
  }

  it('a model whose rows are not independent (batch normalization) is computed unpadded, and equals cpu', async () => {
    showLogs();
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ name: 'd0', units: 16, inputShape: [64], activation: 'relu' }),
        tf.layers.batchNormalization({ name: 'bn' }),
        tf.layers.dense({ name: 'logits', units: 10 }),
      ],
    });
    const topology = m.toJSON(null, false) as Record<string, unknown>;
    m.dispose();
    const setup: GpuSetup = { model: { kind: 'layers', topology, classes: 10 }, data: mlp.data };
    const model = await buildModel(setup.model);
    const ref = new ShardComputer(model, [64], 10);
    const weights = Float32Array.from({ length: ref.layout.size }, (_, i) => 0.5 + Math.sin(i * 0.37) * 0.2);
    // 37 examples: padded to 64, the batch statistics would take in 27 rows of zeros
    const indices = Array.from({ length: 37 }, (_, i) => (i * 7) % mlp.data.examples);
    ref.setWeights(weights);
    const want = await ref.compute(gather(makeSynthetic({ ...mlp.data, split: 'train' }), Uint32Array.from(indices)));
    model.dispose();
    const got = await page.evaluate((a) => window.gradroomGpu.gradient(a), {
      ...setup,
      weights: Array.from(weights),
      indices,
    });
    expect(got.padRows).toBe(false);
    expect(relativeDifference(Float32Array.from(got.gradSum), want.gradSum)).toBeLessThanOrEqual(1e-5);
  });

  it('holds no more tensors or bytes after 500 shards than after 5', { timeout: 120_000 }, async () => {
    showLogs();
    const r = await page.evaluate((a) => window.gradroomGpu.leak({ ...a, shards: 500, batch: 16 }), mlp);
    if (process.env.GRADROOM_DEBUG) console.log(`500 shards on SwiftShader: ${r.ms.toFixed(0)} ms`);
    expect(r.afterAll.numTensors).toBe(r.after5.numTensors);
    expect(r.afterAll.numBytes).toBe(r.after5.numBytes);
  });
});
