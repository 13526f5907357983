/**
 * Round five's attacks on chunked data sets, from a real HTTP server on loopback: hostile manifests
 * (a chunk declaring terabytes, sizes that disagree with its examples, shapes whose size overflows,
 * URLs on another origin or that cannot be parsed, one file listed twice, a SHA-256 that is not
 * hex) and a hostile server (a chunk longer than declared, a trickle). Each is refused with
 * BAD_DATA, before any byte of a chunk is fetched where the manifest already says enough.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatasetSpec } from '@gradroom/core';
import { describe, expect, it } from 'vitest';
import { type ChunkedDataset, type ChunkManifest, chunkPacked, loadChunked } from '../src/data/chunked.js';
import { encodePacked } from '../src/data/format.js';
import { sha256Hex } from '../src/data/url.js';

type Spec = Extract<DatasetSpec, { kind: 'chunked' }>;
type Handler = (name: string, res: import('node:http').ServerResponse) => boolean;

/** 120 training and 20 test examples of 4 float32 features, 3 classes, in chunks of 50 (50, 50, 20). */
async function toy() {
  const part = (n: number, off: number) => ({
    x: Float32Array.from({ length: n * 4 }, (_, i) => ((off * 4 + i) % 17) / 17),
    y: Array.from({ length: n }, (_, i) => (off + i) % 3),
  });
  const bytes = encodePacked({ inputShape: [4], classes: 3, train: part(120, 0), test: part(20, 120) });
  return chunkPacked(bytes, { name: 'toy', chunkExamples: 50 });
}

/**
 * Serves `files` (and `manifest` as manifest.json) under /d/ on 127.0.0.1 while `fn` runs; `special`
 * may answer a request itself. Counts requests by file name.
 */
async function serve(
  files: Map<string, Uint8Array>,
  manifest: unknown,
  fn: (spec: Spec, hits: Map<string, number>, base: string) => Promise<void>,
  special?: Handler,
) {
  const hits = new Map<string, number>();
  const text = new TextEncoder().encode(JSON.stringify(manifest));
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '').replace(/^\/d\//, '');
    hits.set(name, (hits.get(name) ?? 0) + 1);
    if (special?.(name, res)) return;
    const body = name === 'manifest.json' ? text : files.get(name);
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/d/`;
  const spec: Spec = {
    kind: 'chunked',
    url: `${base}manifest.json`,
    sha256: await sha256Hex(text),
    split: 'train',
    train: 120,
    test: 20,
    chunkExamples: 50,
  };
  try {
    await fn(spec, hits, base);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const chunkHits = (hits: Map<string, number>) => [...hits.keys()].filter((k) => k !== 'manifest.json');

/** A manifest changed by `edit` (a deep copy of the honest one). */
function edited(m: ChunkManifest, edit: (m: ChunkManifest) => void): ChunkManifest {
  const c = structuredClone(m);
  edit(c);
  return c;
}

describe('a hostile chunk manifest is refused before any chunk is fetched', () => {
  const cases: [string, (m: ChunkManifest, base: string) => void, RegExp][] = [
    [
      'a chunk declaring 2^40 bytes (past the 1 GiB cap, and past what 50 examples can be)',
      (m) => {
        m.train.chunks[0].bytes = 2 ** 40;
      },
      /chunk 0 declares 1099511627776 bytes/,
    ],
    [
      'a chunk whose bytes disagree with its examples (the size of 49)',
      (m) => {
        m.train.chunks[1].bytes -= 16;
      },
      /chunk 1 declares \d+ bytes; 50 examples of \[4\] are \d+ or \d+/,
    ],
    [
      'a negative size',
      (m) => {
        m.train.chunks[2].bytes = -1;
      },
      /chunk 2 declares -1 bytes/,
    ],
    [
      'a test file of 2^60 bytes',
      (m) => {
        m.test.bytes = 2 ** 60;
      },
      /test file/,
    ],
    [
      'an example shape whose size overflows ([2^24, 2^24, 2^24, 2^24])',
      (m) => {
        m.inputShape = [2 ** 24, 2 ** 24, 2 ** 24, 2 ** 24];
      },
      /inputShape|cannot be|declares/,
    ],
    [
      'a billion float targets per example',
      (m) => {
        m.classes = 0;
        m.targets = 1e9;
      },
      /declares/,
    ],
    [
      'a chunk on another origin',
      (m) => {
        m.train.chunks[1].url = 'http://127.0.0.2:9/train-1.bin';
      },
      /chunk 1 .*another origin/,
    ],
    [
      'a chunk URL that cannot be parsed',
      (m) => {
        m.train.chunks[0].url = 'http://[::1';
      },
      /chunk 0.s URL .*cannot be resolved/,
    ],
    [
      'one file listed as two chunks',
      (m) => {
        m.train.chunks[1] = { ...m.train.chunks[0] };
      },
      /chunk 1 .*listed twice/,
    ],
    [
      'the test file listed as a chunk too',
      (m) => {
        m.test = { ...m.test, url: m.train.chunks[2].url };
      },
      /listed twice/,
    ],
    [
      'a name of a million characters',
      (m) => {
        m.name = 'x'.repeat(1e6);
      },
      /its name must be up to 200 characters of text/,
    ],
    [
      'a name with control characters (a forged log line)',
      (m) => {
        m.name = 'toy\n[host] worker p1 banned';
      },
      /its name must be up to 200 characters of text/,
    ],
    [
      'a name that is not text',
      (m) => {
        (m as unknown as { name: unknown }).name = { toString: 1 };
      },
      /its name must be up to 200 characters of text/,
    ],
    [
      'a SHA-256 in upper case',
      (m) => {
        m.train.chunks[0].sha256 = m.train.chunks[0].sha256.toUpperCase();
      },
      /each with a url, a SHA-256 and its bytes/,
    ],
    [
      'a SHA-256 that is not hex',
      (m) => {
        m.train.chunks[0].sha256 = 'z'.repeat(64);
      },
      /each with a url, a SHA-256 and its bytes/,
    ],
  ];

  it.each(cases)('%s', async (_name, edit, message) => {
    const { manifest, files } = await toy();
    const m = edited(manifest, (x) => edit(x, ''));
    await serve(files, m, async (spec, hits) => {
      for (const split of ['train', 'test'] as const) {
        const e = await loadChunked({ ...spec, split }).catch((x) => x);
        expect(e).toMatchObject({ name: 'GradroomError', code: 'BAD_DATA' });
        expect(e.message).toMatch(message);
      }
      expect(chunkHits(hits)).toEqual([]);
    });
  });

  it('the honest manifest, and one whose chunks use ../ inside the same origin, still load', async () => {
    const { manifest, files } = await toy();
    const m = edited(manifest, (x) => {
      x.train.chunks[2].url = '../d/./train-2.bin';
    });
    await serve(files, m, async (spec, hits) => {
      const ds = (await loadChunked(spec)) as ChunkedDataset;
      await ds.ensure([0, 60, 119]);
      expect([...ds.fetched].sort()).toEqual([0, 1, 2]);
      expect(chunkHits(hits).sort()).toEqual(['train-0.bin', 'train-1.bin', 'train-2.bin']);
    });
  });
});

describe('a hostile data server is cut off, with BAD_DATA naming the chunk', () => {
  it('a chunk longer than the manifest says: refused as soon as it passes its size, with or without Content-Length', async () => {
    const { manifest, files } = await toy();
    const c0 = files.get('train-0.bin') as Uint8Array;
    let sent = 0;
    await serve(
      files,
      manifest,
      async (spec) => {
        const ds = (await loadChunked(spec)) as ChunkedDataset;
        const e = await ds.ensure([0]).catch((x) => x);
        expect(e).toMatchObject({ code: 'BAD_DATA' });
        expect(e.message).toMatch(/toy chunk 0 .*is \d+ bytes, more than \d+/);
        const e2 = await ds.ensure([70]).catch((x) => x);
        expect(e2).toMatchObject({ code: 'BAD_DATA' });
        expect(e2.message).toMatch(new RegExp(`toy chunk 1 .*is more than ${c0.length} bytes`));
        expect(sent).toBeLessThan(8 * 2 ** 20);
        expect(ds.fetched).toEqual([]);
      },
      (name, res) => {
        if (name === 'train-0.bin') {
          // declares (and sends) one more byte than the manifest lists
          res.writeHead(200, { 'content-length': c0.length + 1 }).end(Buffer.concat([c0, Buffer.of(0)]));
          return true;
        }
        if (name === 'train-1.bin') {
          res.writeHead(200); // no Content-Length: zeros without end, until the client goes
          const pump = () => {
            while (sent < 64 * 2 ** 20 && !res.destroyed) {
              sent += 65536;
              if (!res.write(Buffer.alloc(65536))) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
          return true;
        }
        return false;
      },
    );
  }, 20_000);

  it('a chunk that trickles is cut off by the idle timeout, one that crawls by the deadline', async () => {
    const { manifest, files } = await toy();
    const timers: ReturnType<typeof setInterval>[] = [];
    await serve(
      files,
      manifest,
      async (spec) => {
        const idle = (await loadChunked(spec, { idleMs: 300 })) as ChunkedDataset;
        const e = await idle.ensure([0]).catch((x) => x);
        expect(e).toMatchObject({ code: 'BAD_DATA' });
        expect(e.message).toMatch(/toy chunk 0 .*sent nothing for 0\.3 s/);
        const slow = (await loadChunked(spec, { deadlineMs: 600 })) as ChunkedDataset;
        const t0 = Date.now();
        const e2 = await slow.ensure([60]).catch((x) => x);
        expect(e2.message).toMatch(/toy chunk 1 .*did not arrive within 0\.6 s/);
        expect(Date.now() - t0).toBeLessThan(5000);
      },
      (name, res) => {
        if (name === 'train-0.bin') {
          res.writeHead(200); // headers, then silence
          res.write(Buffer.of(1));
          return true;
        }
        if (name === 'train-1.bin') {
          res.writeHead(200);
          // one byte every 50 ms: never idle, never done (stopped when the client goes, or after 20 s)
          let n = 0;
          const t = setInterval(() => {
            if (res.destroyed || n++ > 400) return void clearInterval(t);
            res.write(Buffer.of(1));
          }, 50);
          timers.push(t);
          return true;
        }
        return false;
      },
    );
    for (const t of timers) clearInterval(t);
  }, 20_000);
});
