/**
 * Bring your own data: the packed format, arrays from the app, data by URL with its hash, CSV and
 * PNG packing, Fashion-MNIST, and the clear error each kind of bad data gets.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { DatasetSpec, TaskSpec } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { arraysDataset } from '../src/data/arrays.js';
import { allIndices, type Dataset, gather, validateDataset } from '../src/data/dataset.js';
import { FASHION_MNIST_SIZES, FASHION_MNIST_SMALL_SIZES } from '../src/data/fashion.js';
import { decodePacked, encodePacked, readPackedHeader } from '../src/data/format.js';
import { loadDataset } from '../src/data/load.js';
import { csvToPacked, imagesToPacked } from '../src/data/pack.js';
import { decodePng } from '../src/data/png.js';
import { datasetSizes } from '../src/data/sizes.js';
import { fetchVerified, sha256Hex } from '../src/data/url.js';
import { ShardWorker } from '../src/shard-worker.js';

const dist = join(import.meta.dirname, '..', 'dist');
const noFiles = async (name: string): Promise<Uint8Array> => {
  throw new Error(`test reads no packed file (${name})`);
};

/** 30 examples of 4 features, 3 classes; feature values are i + j/10 so every position is known. */
function small(classes = 3) {
  const n = 30;
  const x = Float32Array.from({ length: n * 4 }, (_, k) => Math.floor(k / 4) + (k % 4) / 10);
  const y = Uint8Array.from({ length: n }, (_, i) => i % classes);
  return { x, y };
}

describe('packed format (GRDS)', () => {
  it('round-trips float32 features with class labels, train then test', () => {
    const a = small();
    const b = small();
    const bytes = encodePacked({
      inputShape: [2, 2],
      classes: 3,
      train: a,
      test: { x: b.x.slice(0, 20), y: b.y.slice(0, 5) },
    });
    const h = readPackedHeader(bytes);
    expect(h).toMatchObject({ train: 30, test: 5, classes: 3, targets: 1, featureType: 'float32', inputShape: [2, 2] });
    const tr = decodePacked(bytes, 'train', 'f');
    expect(tr).toMatchObject({ name: 'f/train', size: 30, features: 4, classes: 3, targets: 1 });
    expect(Array.from(tr.x)).toEqual(Array.from(a.x));
    expect(Array.from(tr.y)).toEqual(Array.from(a.y));
    const te = decodePacked(bytes, 'test', 'f');
    expect(te.size).toBe(5);
    expect(Array.from(te.x)).toEqual(Array.from(b.x.slice(0, 20)));
  });

  it('keeps uint8 features as the file’s bytes when asked, and gathers exactly the floats decoding gives', () => {
    const x = Uint8Array.from({ length: 50 * 6 }, (_, i) => (i * 37) % 256);
    const y = Uint8Array.from({ length: 50 }, (_, i) => i % 3);
    const test = { x: x.slice(0, 60), y: y.slice(0, 10) };
    const bytes = encodePacked({ inputShape: [6], classes: 3, train: { x, y }, test });
    const floats = decodePacked(bytes, 'train');
    const kept = validateDataset(decodePacked(bytes, 'train', 'f', { keepBytes: true }));
    expect(kept.x.length).toBe(0);
    expect(kept.pixels).toEqual(x);
    const idx = [49, 0, 17, 17, 3];
    const got = gather(kept, idx);
    expect(got.x).toEqual(gather(floats, idx).x);
    expect(Array.from(got.y)).toEqual(idx.map((i) => y[i]));
    // the independent reference: each byte / 255, rounded to float32
    expect(Array.from(gather(kept, [1]).x)).toEqual(Array.from(x.subarray(6, 12), (v) => Math.fround(v / 255)));
    const keptTest = decodePacked(bytes, 'test', 'f', { keepBytes: true });
    expect(keptTest.pixels).toEqual(test.x);
    // the bytes are a copy: the file's buffer can go
    expect(kept.pixels?.buffer).not.toBe(bytes.buffer);
    // float features stay floats whatever is asked
    const f32 = encodePacked({ inputShape: [4], classes: 3, train: small(), test: small() });
    const still = decodePacked(f32, 'train', 'f', { keepBytes: true });
    expect(still.pixels).toBeUndefined();
    expect(Array.from(still.x)).toEqual(Array.from(small().x));
  });

  it('refuses kept bytes that do not fit the examples, naming the counts', () => {
    const x = new Uint8Array(5 * 4);
    const y = new Uint8Array(5);
    const bytes = encodePacked({ inputShape: [4], classes: 2, train: { x, y }, test: { x, y } });
    const ds = decodePacked(bytes, 'train', 'f', { keepBytes: true });
    expect(() => validateDataset({ ...ds, pixels: new Uint8Array(19) })).toThrow(
      /5 examples of 4 features need 20 feature values, got 19/,
    );
  });

  it('round-trips uint8 features (read as /255) and float regression targets of width 2', () => {
    const x = Uint8Array.from({ length: 6 * 3 }, (_, i) => i * 10);
    const y = Float32Array.from({ length: 6 * 2 }, (_, i) => i * 0.5 - 1);
    const bytes = encodePacked({ inputShape: [3], classes: 0, targets: 2, train: { x, y }, test: { x, y } });
    const ds = decodePacked(bytes, 'test');
    expect(ds).toMatchObject({ size: 6, classes: 0, targets: 2 });
    expect(ds.x[5]).toBeCloseTo(50 / 255, 7);
    expect(Array.from(ds.y)).toEqual(Array.from(y));
    // a shard gathers whole target rows
    expect(Array.from(gather(ds, [4, 1]).y)).toEqual([y[8], y[9], y[2], y[3]]);
  });

  it('a truncated file, a foreign file and a bad version each get a clear error', () => {
    const a = small();
    const bytes = encodePacked({ inputShape: [4], classes: 3, train: a, test: a });
    expect(() => decodePacked(bytes.subarray(0, bytes.length - 7), 'train', 'data.bin')).toThrow(
      /data\.bin: has \d+ bytes but its header promises \d+ .*truncated/,
    );
    expect(() => decodePacked(bytes.subarray(0, 10), 'train', 'data.bin')).toThrow(/too short/);
    expect(() => decodePacked(new Uint8Array(64), 'train', 'x.bin')).toThrow(/x\.bin: not a packed gradroom data set/);
    const v2 = bytes.slice();
    v2[4] = 2;
    expect(() => decodePacked(v2, 'train')).toThrow(/format version 2 is not supported/);
  });
});

describe('validation when a data set loads', () => {
  it('a NaN feature names its example and position', () => {
    const a = small();
    a.x[7 * 4 + 2] = Number.NaN;
    expect(() => arraysDataset({ inputShape: [4], classes: 3, train: a, test: small() })).toThrow(
      'arrays/train: example 7 has a non-finite feature (NaN) at position 2',
    );
  });

  it('an out-of-range label names its example, also from a packed file', async () => {
    const a = small();
    a.y[11] = 3;
    expect(() => arraysDataset({ name: 'mine', inputShape: [4], classes: 3, train: small(), test: a })).toThrow(
      'mine/test: example 11 has label 3, outside 0..2',
    );
    // packed with 4 classes, but a file that claims 3: patch the header's class count
    const bytes = encodePacked({ inputShape: [4], classes: 4, train: a, test: a });
    new DataView(bytes.buffer).setUint32(16, 3, true);
    const hex = await sha256Hex(bytes);
    await withServer(bytes, async (url) => {
      await expect(loadDataset({ kind: 'url', url, sha256: hex, split: 'train' }, noFiles)).rejects.toThrow(
        /example 11 has label 3, outside 0\.\.2/,
      );
    });
  });

  it('shapes that do not add up are refused', () => {
    const a = small();
    expect(() => arraysDataset({ inputShape: [7], classes: 3, train: a, test: a })).toThrow(
      'arrays/train: 120 feature values are not a whole number of examples of 7 features ([7])',
    );
    expect(() => arraysDataset({ inputShape: [5], classes: 3, train: a, test: a })).toThrow(
      'arrays/train: 24 examples need 24 labels, got 30',
    );
    expect(() =>
      arraysDataset({ inputShape: [4], targets: 2, train: { x: a.x, y: new Float32Array(59) }, test: a }),
    ).toThrow('arrays/train: 30 examples need 60 targets (2 each), got 59');
    expect(() => arraysDataset({ inputShape: [4], targets: 2, train: a, test: a })).toThrow(
      'arrays/train: regression targets must be a Float32Array',
    );
    expect(() => arraysDataset({ inputShape: [4], train: a, test: a })).toThrow(/exactly one of them/);
  });
});

/** Serves `bytes` at http://127.0.0.1:port/data.bin while `fn` runs; counts the requests. */
async function withServer(bytes: Uint8Array, fn: (url: string, hits: () => number) => Promise<void>) {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    if (req.url !== '/data.bin') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/data.bin`, () => hits);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('data by URL', () => {
  const a = small();
  const bytes = encodePacked({ inputShape: [4], classes: 3, train: a, test: a });
  const good = createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('sha256Hex agrees with Node crypto', async () => {
    expect(await sha256Hex(bytes)).toBe(good);
  });

  it('a worker fetches the file once, checks its hash and trains on it', async () => {
    await withServer(bytes, async (url, hits) => {
      const spec: DatasetSpec = { kind: 'url', url, sha256: good, split: 'train' };
      const w = new ShardWorker(noFiles);
      const info = await w.init({
        task: {
          model: { kind: 'mlp', inputShape: [4], hidden: [5], classes: 3 },
          dataset: spec,
          layout: [],
          paramCount: 0,
        },
        backends: ['cpu'],
      });
      expect(info).toMatchObject({ trainSize: 30, testSize: 30 });
      expect(hits()).toBe(1); // train and test split come from the one download
      await w.dispose();
    });
  });

  it('a hash mismatch is a clear error and the worker does not join', async () => {
    const bad = `${good.slice(0, 63)}${good[63] === '0' ? '1' : '0'}`;
    await withServer(bytes, async (url) => {
      await expect(fetchVerified(url, bad)).rejects.toThrow(
        new RegExp(`has SHA-256 ${good}, the task says ${bad}: refusing to train on it`),
      );
      const w = new ShardWorker(noFiles);
      const task: TaskSpec = {
        model: { kind: 'mlp', inputShape: [4], hidden: [5], classes: 3 },
        dataset: { kind: 'url', url, sha256: bad, split: 'train' },
        layout: [],
        paramCount: 0,
      };
      await expect(w.init({ task, backends: ['cpu'] })).rejects.toMatchObject({ code: 'BAD_DATA' });
      await expect(w.compute({ iteration: 0, version: 0, shardId: 0, indices: Uint32Array.of(0) })).rejects.toThrow(
        /no task yet/,
      );
    });
  });

  it('an unreachable URL, a 404 and a non-http URL are clear errors', async () => {
    await withServer(bytes, async (url) => {
      await expect(fetchVerified(url.replace('data.bin', 'nope.bin'), good)).rejects.toThrow(/HTTP 404/);
    });
    await expect(fetchVerified('file:///etc/passwd', good)).rejects.toThrow(/must be http\(s\)/);
    await expect(fetchVerified('/data.bin', good)).rejects.toThrow(/relative URL needs a page/);
  });
});

/** A PNG of `rows` (8-bit, `channels` per pixel), each row written with filter `filter(r)`. */
function png(width: number, height: number, channels: 1 | 3 | 4, px: Uint8Array, filter = (r: number) => r % 5) {
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let r = 0; r < height; r++) {
    const f = filter(r);
    raw[r * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const x = px[r * stride + i];
      const a = i >= channels ? px[r * stride + i - channels] : 0;
      const b = r > 0 ? px[(r - 1) * stride + i] : 0;
      const c = i >= channels && r > 0 ? px[(r - 1) * stride + i - channels] : 0;
      const q = a + b - c;
      const paeth =
        Math.abs(q - a) <= Math.abs(q - b) && Math.abs(q - a) <= Math.abs(q - c)
          ? a
          : Math.abs(q - b) <= Math.abs(q - c)
            ? b
            : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f];
      raw[r * (stride + 1) + 1 + i] = (x - pred) & 255;
    }
  }
  const chunk = (type: string, body: Uint8Array) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    out.write(type, 4, 'ascii');
    Buffer.from(body).copy(out, 8);
    return out; // the CRC is not checked by the decoder; zeros are fine here
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = { 1: 0, 3: 2, 4: 6 }[channels];
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

describe('pack-data', () => {
  it('CSV with a header and named classes: labels are the sorted names, the split is seeded', () => {
    const rows = ['a,b,species'];
    for (let i = 0; i < 40; i++) rows.push(`${i},${i / 2},${['setosa', 'virginica', 'versicolor'][i % 3]}`);
    const r = csvToPacked(rows.join('\n'), { task: 'classification', label: ['species'], testFraction: 0.25, seed: 3 });
    expect(r).toMatchObject({
      train: 30,
      test: 10,
      classes: 3,
      inputShape: [2],
      names: ['setosa', 'versicolor', 'virginica'],
    });
    const all = [decodePacked(r.bytes, 'train'), decodePacked(r.bytes, 'test')];
    const seen = new Set<number>();
    for (const ds of all) {
      for (let k = 0; k < ds.size; k++) {
        const i = ds.x[k * 2];
        seen.add(i);
        expect(ds.x[k * 2 + 1]).toBe(i / 2);
        expect(r.names[ds.y[k]]).toBe(['setosa', 'virginica', 'versicolor'][i % 3]);
      }
    }
    expect(seen.size).toBe(40); // every row once, in one split
    expect(
      csvToPacked(rows.join('\n'), { task: 'classification', label: ['species'], testFraction: 0.25, seed: 3 }).bytes,
    ).toEqual(r.bytes);
  });

  it('CSV regression with two target columns and no header', () => {
    const text = Array.from({ length: 10 }, (_, i) => `${i},${i * 2},${i * 3}.5,${-i}`).join('\r\n');
    const r = csvToPacked(text, { task: 'regression', label: [2, 3], testFraction: 0.2 });
    expect(r).toMatchObject({ train: 8, test: 2, classes: 0, inputShape: [2] });
    const ds = decodePacked(r.bytes, 'train');
    expect(ds.targets).toBe(2);
    for (let k = 0; k < ds.size; k++) {
      const i = ds.x[k * 2];
      expect([ds.y[k * 2], ds.y[k * 2 + 1]]).toEqual([i * 3 + 0.5, -i]);
    }
  });

  it('a bad CSV cell names its line and column', () => {
    expect(() => csvToPacked('x,y,label\n1,2,0\n3,oops,1\n4,5,0', { task: 'classification' })).toThrow(
      'CSV line 3, column y: "oops" is not a finite number',
    );
    expect(() => csvToPacked('1,2,0\n3,4', { task: 'classification' })).toThrow(
      'CSV line 2 has 2 fields, the first row has 3',
    );
    expect(() => csvToPacked('a,b\n1,0\n2,0', { task: 'classification', label: ['c'] })).toThrow(/label column "c"/);
  });

  it('PNG: every filter type decodes to the original pixels (grey, RGB, RGBA)', async () => {
    for (const ch of [1, 3, 4] as const) {
      const px = Uint8Array.from({ length: 7 * 5 * ch }, (_, i) => (i * 37 + (i >> 3) * 11) & 255);
      const img = await decodePng(png(7, 5, ch, px));
      expect(img).toMatchObject({ width: 7, height: 5, channels: ch });
      // every colour type comes back as RGBA: grey expands to r = g = b, alpha 255 where the file has none
      const rgba = Array.from({ length: 7 * 5 }, (_, p) => {
        const s = Array.from(px.subarray(p * ch, (p + 1) * ch));
        return ch === 1 ? [s[0], s[0], s[0], 255] : ch === 3 ? [...s, 255] : s;
      }).flat();
      expect(Array.from(img.rgba)).toEqual(rgba);
    }
    await expect(decodePng(new Uint8Array([1, 2, 3]), 'x.png')).rejects.toThrow(
      'x.png is not a PNG gradroom can read: the PNG signature is missing',
    );
  });

  it('labelled PNGs become a grey classification data set; sizes must agree', async () => {
    const images = Array.from({ length: 10 }, (_, i) => ({
      label: i % 2 ? 'cat' : 'dog',
      name: `${i}.png`,
      png: png(4, 3, 1, new Uint8Array(12).fill(i * 20)),
    }));
    const r = await imagesToPacked(images, { testFraction: 0.2 });
    expect(r).toMatchObject({ train: 8, test: 2, classes: 2, inputShape: [3, 4, 1], names: ['cat', 'dog'] });
    const ds = decodePacked(r.bytes, 'train');
    for (let k = 0; k < ds.size; k++) {
      const i = Math.round((ds.x[k * 12] * 255) / 20);
      expect(ds.y[k]).toBe(i % 2 ? 0 : 1);
    }
    images[3] = { ...images[3], png: png(5, 3, 1, new Uint8Array(15)) };
    await expect(imagesToPacked(images)).rejects.toThrow(
      '3.png is 5x3; the first image is 4x3: all must be the same size',
    );
  });
});

describe('Fashion-MNIST', () => {
  const count = (y: ArrayLike<number>) =>
    Array.from({ length: 10 }, (_, c) => Array.from(y).filter((v) => v === c).length);
  // pixel bytes back from the [0, 1] floats a worker gathers (the data set holds the file's bytes)
  const image = (ds: Dataset, i: number) => Array.from(gather(ds, [i]).x, (v) => Math.round(v * 255));
  // the package itself, read here as the independent reference: one JSON file per class, a few empty entries
  const pkg = join(dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')), 'src', 'clothes');
  const pkgClass = (c: number): number[][] =>
    (JSON.parse(readFileSync(join(pkg, `${c}.json`), 'utf8')).data as number[][]).filter((img) => img.length > 0);

  it('fashion-mnist is all of the package: 60,000 + 10,000, 6,000 + 1,000 per class, in the package order', async () => {
    const bytes = new Uint8Array(readFileSync(join(dist, 'fashion-mnist.bin')));
    const train = await loadDataset({ kind: 'fashion-mnist', split: 'train' }, async () => bytes);
    const test = await loadDataset({ kind: 'fashion-mnist', split: 'test' }, async () => bytes);
    expect(FASHION_MNIST_SIZES).toEqual({ train: 60000, test: 10000 });
    expect(datasetSizes({ kind: 'fashion-mnist', split: 'train' })).toEqual(FASHION_MNIST_SIZES);
    expect({ train: train.size, test: test.size }).toEqual(FASHION_MNIST_SIZES);
    expect(train).toMatchObject({ inputShape: [28, 28, 1], classes: 10, targets: 1 });
    expect(count(train.y)).toEqual(Array(10).fill(6000));
    expect(count(test.y)).toEqual(Array(10).fill(1000));
    // every non-empty image of the package is used once: class 3 has 7,000 of them
    const c3 = pkgClass(3);
    expect(c3).toHaveLength(7000);
    expect(image(train, 3 * 6000)).toEqual(c3[0]);
    expect(image(train, 3 * 6000 + 5999)).toEqual(c3[5999]);
    expect(image(test, 3 * 1000)).toEqual(c3[6000]);
    expect(image(test, 3 * 1000 + 999)).toEqual(c3[6999]);
  });

  it('fashion-mnist-small is the quick subset: 1,200 + 300 per class, pixels in [0, 1], no test image among the training ones', async () => {
    const bytes = new Uint8Array(readFileSync(join(dist, 'fashion-mnist-small.bin')));
    const spec = { kind: 'fashion-mnist-small', split: 'train' } as const;
    const train = await loadDataset(spec, async () => bytes);
    const test = await loadDataset({ ...spec, split: 'test' }, async () => bytes);
    expect(FASHION_MNIST_SMALL_SIZES).toEqual({ train: 12000, test: 3000 });
    expect(datasetSizes(spec)).toEqual(FASHION_MNIST_SMALL_SIZES);
    expect({ train: train.size, test: test.size }).toEqual(FASHION_MNIST_SMALL_SIZES);
    expect(train).toMatchObject({ inputShape: [28, 28, 1], classes: 10, targets: 1 });
    expect(count(train.y)).toEqual(Array(10).fill(1200));
    expect(count(test.y)).toEqual(Array(10).fill(300));
    // held as the file's bytes (a quarter of the memory of floats), gathered as [0, 1] floats
    expect(train.x.length).toBe(0);
    expect(train.pixels?.length).toBe(12000 * 784);
    let max = 0;
    for (const v of gather(train, allIndices(train.size)).x) max = Math.max(max, v);
    expect(max).toBe(1);
    const c0 = pkgClass(0);
    expect(image(train, 0)).toEqual(c0[0]);
    expect(image(test, 0)).toEqual(c0[1200]);
    const key = (ds: typeof train, i: number) =>
      Buffer.from((ds.pixels as Uint8Array).subarray(i * 784, (i + 1) * 784)).toString('base64');
    const seen = new Set(Array.from({ length: train.size }, (_, i) => key(train, i)));
    const dup = Array.from({ length: test.size }, (_, i) => key(test, i)).filter((k) => seen.has(k)).length;
    expect(dup).toBeLessThan(5); // the source may repeat an image or two; the split itself never does
  });
});
