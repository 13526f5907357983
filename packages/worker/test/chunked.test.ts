/**
 * Chunked data sets from a real HTTP server on loopback: a worker fetches the chunks a task needs,
 * once each, checks each against its SHA-256, and refuses a chunk whose bytes do not match, naming it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatasetSpec } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChunkedDataset, chunkPacked, loadChunked } from '../src/data/chunked.js';
import { type ExampleBytes, gather, gatherBytes } from '../src/data/dataset.js';
import { decodePacked, encodePacked } from '../src/data/format.js';
import { sha256Hex } from '../src/data/url.js';
import { ShardWorker } from '../src/shard-worker.js';

/** 230 training and 40 test examples of 4 uint8 features, 3 classes: example i's features are i % 251 + j. */
function packed(): Uint8Array {
  const part = (n: number, off: number) => {
    const x = new Uint8Array(n * 4);
    const y = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 4; j++) x[i * 4 + j] = ((off + i) % 251) + j;
      y[i] = (off + i) % 3;
    }
    return { x, y };
  };
  return encodePacked({ inputShape: [4], classes: 3, train: part(230, 0), test: part(40, 230) });
}

/** Serves `files` under /d/ on 127.0.0.1, counting requests by file name, while `fn` runs. */
async function serve(
  files: Map<string, Uint8Array>,
  fn: (base: string, hits: Map<string, number>) => Promise<void>,
  delayMs = new Map<string, number>(),
) {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '').replace(/^\/d\//, '');
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const body = files.get(name);
    if (!body) return void res.writeHead(404).end();
    setTimeout(() => res.writeHead(200, { 'content-length': body.length }).end(body), delayMs.get(name) ?? 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/d/`, hits);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

const order = Array.from({ length: 230 }, (_, i) => (i * 7) % 230); // a fixed permutation (7 and 230 are coprime)

async function chunked() {
  const bytes = packed();
  const { manifest, files } = await chunkPacked(bytes, { name: 'toy', chunkExamples: 50, order });
  const spec = (base: string, split: 'train' | 'test' = 'train'): Extract<DatasetSpec, { kind: 'chunked' }> => ({
    kind: 'chunked',
    url: `${base}manifest.json`,
    sha256: '',
    split,
    train: 230,
    test: 40,
    chunkExamples: 50,
  });
  const sha = await sha256Hex(files.get('manifest.json') as Uint8Array);
  return { bytes, manifest, files, spec: (b: string, s?: 'train' | 'test') => ({ ...spec(b, s), sha256: sha }) };
}

/** A worker on the toy chunked set (no built-in files), set up. */
async function toyWorker(dataset: DatasetSpec) {
  const w = new ShardWorker(async () => {
    throw new Error('no built-in files here');
  });
  const info = await w.init({
    task: { model: { kind: 'mlp', inputShape: [4], hidden: [5], classes: 3 }, dataset, layout: [], paramCount: 0 },
    backends: ['cpu'],
  });
  return { w, info };
}

describe('chunked data sets', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('cuts a packed file into chunks whose examples are the file’s, in the given order', async () => {
    const { bytes, manifest, files } = await chunked();
    expect(manifest.train.chunks.map((c) => c.url)).toEqual([
      'train-0.bin',
      'train-1.bin',
      'train-2.bin',
      'train-3.bin',
      'train-4.bin',
    ]);
    const whole = decodePacked(bytes, 'train');
    const last = decodePacked(files.get('train-4.bin') as Uint8Array, 'train');
    expect(last.size).toBe(30);
    // example 3 of chunk 4 is training example order[203] of the file
    expect(Array.from(last.x.subarray(12, 16))).toEqual(
      Array.from(whole.x.subarray(order[203] * 4, order[203] * 4 + 4)),
    );
    expect(last.y[3]).toBe(whole.y[order[203]]);
  });

  it('fetches only the chunks the examples need, once each, and gathers the right examples', async () => {
    const { bytes, files, spec } = await chunked();
    await serve(files, async (base, hits) => {
      const ds = (await loadChunked(spec(base))) as ChunkedDataset;
      expect(hits.get('manifest.json')).toBe(1);
      expect([...hits.keys()].filter((k) => k.startsWith('train'))).toEqual([]);
      await ds.ensure(Uint32Array.of(3, 120, 149, 101));
      expect([...ds.fetched].sort()).toEqual([0, 2]);
      await ds.ensure(Uint32Array.of(0, 100, 51));
      expect([...ds.fetched].sort()).toEqual([0, 1, 2]);
      expect(['train-0.bin', 'train-1.bin', 'train-2.bin'].map((f) => hits.get(f))).toEqual([1, 1, 1]);
      expect(hits.has('train-3.bin') || hits.has('train-4.bin')).toBe(false);
      // the split holds only the chunks it fetched, and says so when asked for another
      expect(ds.x.length).toBe(0);
      expect(() => gather(ds, [160])).toThrow(/example 160 is in chunk 3, not fetched yet/);
      // a fetched chunk is held as its file's bytes (uint8 features): 50 examples of 4, a byte each
      const held = ds.part?.(120);
      expect(held?.pixels?.length).toBe(200);
      expect(held?.x.length).toBe(0);
      const whole = decodePacked(bytes, 'train');
      const ex = gather(ds, [120, 51]);
      expect(Array.from(ex.x)).toEqual([
        ...whole.x.subarray(order[120] * 4, order[120] * 4 + 4),
        ...whole.x.subarray(order[51] * 4, order[51] * 4 + 4),
      ]);
      expect(Array.from(ex.y)).toEqual([whole.y[order[120]], whole.y[order[51]]]);
      // the test split is one file, fetched when first needed (the manifest is not fetched again)
      const test = (await loadChunked(spec(base, 'test'))) as ChunkedDataset;
      expect(hits.get('manifest.json')).toBe(1);
      expect(test.size).toBe(40);
      expect(hits.has('test.bin')).toBe(false);
      await test.ensure([39]);
      expect(hits.get('test.bin')).toBe(1);
      expect(Array.from(test.x)).toEqual(Array.from(decodePacked(bytes, 'test').x));
    });
  });

  it('refuses a chunk whose bytes do not match its SHA-256 with BAD_DATA naming the chunk', async () => {
    const { files, spec } = await chunked();
    const tampered = new Map(files);
    const c3 = (files.get('train-3.bin') as Uint8Array).slice();
    c3[50] ^= 1;
    tampered.set('train-3.bin', c3);
    await serve(tampered, async (base) => {
      const ds = (await loadChunked(spec(base))) as ChunkedDataset;
      await expect(ds.ensure([10])).resolves.toBeUndefined();
      const e = await ds.ensure([160]).catch((x) => x);
      expect(e).toMatchObject({ code: 'BAD_DATA' });
      expect(e.message).toMatch(
        /^toy chunk 3 \(http:\/\/127\.0\.0\.1:\d+\/d\/train-3\.bin\): .*has SHA-256 .*refusing to train on it/,
      );
      expect(ds.fetched).toEqual([0]);
    });
  });

  it('refuses a manifest that is not the one the spec names, or does not match its counts', async () => {
    const { files, spec } = await chunked();
    await serve(files, async (base) => {
      await expect(loadChunked({ ...spec(base), sha256: 'f'.repeat(64) })).rejects.toMatchObject({ code: 'BAD_DATA' });
      await expect(loadChunked({ ...spec(base), train: 231 })).rejects.toThrow(
        /holds 230 training examples in chunks of 50, the spec says 231/,
      );
    });
  });

  it("an exact-mode shard that carries its examples' bytes: no chunk fetched, the sums of the shard by index", async () => {
    const { files, spec } = await chunked();
    await serve(files, async (base, hits) => {
      // the coordinator's copy: every chunk, read once (shardExamplesFrom reads them from disk)
      const all = (await loadChunked(spec(base))) as ChunkedDataset;
      await all.ensure(Uint32Array.from({ length: 230 }, (_, i) => i));
      const indices = Uint32Array.of(3, 120, 229, 51);
      const bytes = gatherBytes(all, indices);
      expect(bytes?.pixels.length).toBe(16);
      hits.clear();
      const { w, info } = await toyWorker(spec(base));
      const weights = new Float32Array(info.paramCount).map((_, i) => Math.sin(i) * 0.1);
      const req = { iteration: 0, version: 0, shardId: 1, indices, weights };
      const carried = await w.compute({ ...req, bytes });
      expect([...hits.keys()].filter((k) => k.startsWith('train'))).toEqual([]);
      const fetched = await w.compute({ ...req, shardId: 2 });
      expect([...hits.keys()].filter((k) => k.startsWith('train')).length).toBe(4); // chunks 0, 1, 2 and 4
      expect(carried.count).toBe(4);
      expect(Array.from(carried.gradSum)).toEqual(Array.from(fetched.gradSum));
      expect(carried.lossSum).toBe(fetched.lossSum);
      // bytes that do not fit the data set are refused, naming what is wrong
      await expect(
        w.compute({ ...req, bytes: { ...(bytes as ExampleBytes), labels: Uint8Array.of(0, 1, 2) } }),
      ).rejects.toThrow(/4 examples need 16 pixel bytes and 4 labels, got 16 and 3/);
      await expect(
        w.compute({ ...req, bytes: { ...(bytes as ExampleBytes), labels: Uint8Array.of(0, 1, 3, 0) } }),
      ).rejects.toThrow(/label 3 is outside 0\.\.2/);
      await w.dispose();
    });
    // a data set of float features (or regression targets) has no bytes to carry: its shards go by index
    const floats = { name: 'f', size: 1, inputShape: [2], features: 2, classes: 2, targets: 1 };
    expect(gatherBytes({ ...floats, x: new Float32Array(2), y: new Int32Array(1) }, [0])).toBeUndefined();
    expect(
      gatherBytes(
        { ...floats, classes: 0, x: new Float32Array(2), pixels: new Uint8Array(2), y: new Float32Array(1) },
        [0],
      ),
    ).toBeUndefined();
  });

  it('a worker in mode local fetches only the chunks of its mini-batches', async () => {
    const { files, spec } = await chunked();
    await serve(files, async (base, hits) => {
      const { w, info } = await toyWorker(spec(base));
      expect(info).toMatchObject({ trainSize: 230, testSize: 40 });
      const weights = new Float32Array(info.paramCount).fill(0.01);
      await w.setWeights(0, weights);
      const r = await w.trainLocal({
        round: 0,
        version: 0,
        batches: [Uint32Array.of(150, 160, 199), Uint32Array.of(151, 152)],
        lrs: [0.1, 0.1],
        inner: { kind: 'sgd', lr: 0.1 },
      });
      expect(r.count).toBe(5);
      // only that chunk: no other chunk, and no test file (this worker has not evaluated)
      expect([...hits.keys()].filter((k) => k !== 'manifest.json').sort()).toEqual(['train-3.bin']);
      await w.dispose();
    });
  });

  it('prefetch alone (the hint of a warm start) fetches those chunks without waiting, and a round after it fetches none again', async () => {
    const { files, spec } = await chunked();
    await serve(
      files,
      async (base, hits) => {
        const { w, info } = await toyWorker(spec(base));
        const t0 = performance.now();
        await w.prefetch(Uint32Array.of(200, 60));
        // it answered before the chunks (4 and 1), whose replies take 1.5 s
        expect(performance.now() - t0).toBeLessThan(1500);
        for (let k = 0; k < 150 && !(hits.has('train-4.bin') && hits.has('train-1.bin')); k++)
          await new Promise((res) => setTimeout(res, 20));
        expect(hits.get('train-4.bin')).toBe(1);
        expect(hits.get('train-1.bin')).toBe(1);
        const r = await w.trainLocal({
          round: 0,
          version: 0,
          batches: [Uint32Array.of(200, 201, 60)],
          lrs: [0.1],
          inner: { kind: 'sgd', lr: 0.1 },
          weights: new Float32Array(info.paramCount).fill(0.01),
        });
        expect(r.count).toBe(3);
        expect([...hits.entries()].filter(([k]) => k.startsWith('train-')).sort()).toEqual([
          ['train-1.bin', 1],
          ['train-4.bin', 1],
        ]);
        await w.dispose();
      },
      new Map([
        ['train-1.bin', 1500],
        ['train-4.bin', 1500],
      ]),
    );
  });

  it('a local round with a prefetch hint fetches those chunks too, without waiting for them, once each', async () => {
    const { files, spec } = await chunked();
    await serve(
      files,
      async (base, hits) => {
        const { w, info } = await toyWorker(spec(base));
        await w.setWeights(0, new Float32Array(info.paramCount).fill(0.01));
        const round = (version: number, batches: Uint32Array[], prefetch?: Uint32Array) =>
          w.trainLocal({
            round: version,
            version,
            batches,
            lrs: batches.map(() => 0.1),
            inner: { kind: 'sgd', lr: 0.1 },
            ...(version > 0 ? { weights: new Float32Array(info.paramCount).fill(0.01) } : {}),
            ...(prefetch ? { prefetch } : {}),
          });
        const t0 = performance.now();
        const r = await round(0, [Uint32Array.of(150, 151)], Uint32Array.of(200, 60));
        expect(r.count).toBe(2);
        // the round did not wait for the hinted chunks (4 and 1), whose replies take 1.5 s
        expect(performance.now() - t0).toBeLessThan(1500);
        for (let k = 0; k < 100 && !(hits.has('train-4.bin') && hits.has('train-1.bin')); k++)
          await new Promise((res) => setTimeout(res, 20));
        expect(hits.get('train-4.bin')).toBe(1);
        expect(hits.get('train-1.bin')).toBe(1);
        // the next round needs them: no second request
        const r2 = await round(1, [Uint32Array.of(200, 60, 61)]);
        expect(r2.count).toBe(3);
        expect([...hits.entries()].filter(([k]) => k.startsWith('train-')).sort()).toEqual([
          ['train-1.bin', 1],
          ['train-3.bin', 1],
          ['train-4.bin', 1],
        ]);
        await w.dispose();
      },
      new Map([
        ['train-1.bin', 1500],
        ['train-4.bin', 1500],
      ]),
    );
  });
});
