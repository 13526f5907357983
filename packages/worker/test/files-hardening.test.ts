/**
 * Issue 20, items 6, 7, 9, 10 and 11, reproduced: a model folder whose manifest reaches outside it
 * or names a device, a FIFO or a wrong-sized file; a data server that streams past the cap, trickles
 * or stalls; a packed header whose size wraps in 32 bits; a 300,000-row CSV, a huge label and a PNG
 * deflate bomb; a model with NaN or 3e38 weights. Real files, a real FIFO, a real HTTP server on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacked, readPackedHeader } from '../src/data/format.js';
import { csvToPacked, imagesToPacked } from '../src/data/pack.js';
import { fetchVerified } from '../src/data/url.js';
import { fileSaveHandler, loadModelDir } from '../src/model-files.js';
import { predictRows } from '../src/predict.js';

const root = mkdtempSync(join(tmpdir(), 'gradroom-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A saved 4 -> 3 dense model in a fresh folder; `edit` changes its model.json, `weights` its weights. */
async function modelFolder(
  name: string,
  edit?: (json: { weightsManifest: { paths: string[] }[] }) => void,
  weights?: (w: Float32Array) => void,
): Promise<string> {
  const dir = join(root, name);
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] });
  if (weights) {
    const w = model.getWeights().map((t) => t.dataSync().slice() as Float32Array);
    for (const a of w) weights(a);
    model.setWeights(w.map((a, i) => tf.tensor(a, model.getWeights()[i].shape)));
  }
  await model.save(fileSaveHandler(dir));
  model.dispose();
  if (edit) {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(json);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  }
  return dir;
}

/** The weights take 4 * (4*3 + 3) = 60 bytes. */
const WEIGHT_BYTES = 60;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a model folder reads only its own regular files, exactly the declared bytes (items 6, 7)', () => {
  it('a manifest path with ../ is refused; the outside file is never read', async () => {
    writeFileSync(join(root, 'secret.bin'), new Uint8Array(WEIGHT_BYTES).fill(7));
    const dir = await modelFolder('dotdot', (j) => {
      j.weightsManifest[0].paths = ['../secret.bin'];
    });
    await expect(loadModelDir(dir)).rejects.toMatchObject({
      code: 'BAD_CONFIG',
      message: expect.stringMatching(/"\.\.\/secret\.bin" is refused: it leads outside the folder/),
    });
  });

  it('an absolute path and a symlink out of the folder are refused', async () => {
    const abs = await modelFolder('absolute', (j) => {
      j.weightsManifest[0].paths = [join(root, 'secret.bin')];
    });
    await expect(loadModelDir(abs)).rejects.toThrow(/is refused: an absolute path/);
    const linked = await modelFolder('linked');
    rmSync(join(linked, 'weights.bin'));
    symlinkSync(join(root, 'secret.bin'), join(linked, 'weights.bin'));
    await expect(loadModelDir(linked)).rejects.toThrow(
      /"\.\/weights\.bin" is refused: it is a link to .*secret\.bin, outside/,
    );
  });

  it('/dev/zero is refused at once, through a path or a link', async () => {
    const dev = await modelFolder('devzero', (j) => {
      j.weightsManifest[0].paths = ['/dev/zero'];
    });
    await expect(loadModelDir(dev)).rejects.toThrow(/an absolute path/);
    const linked = await modelFolder('devzero-link');
    rmSync(join(linked, 'weights.bin'));
    symlinkSync('/dev/zero', join(linked, 'weights.bin'));
    await expect(loadModelDir(linked)).rejects.toThrow(/is a link to \/dev\/zero, outside/);
  });

  it('a FIFO as weights.bin is refused at once, without waiting for a writer', async () => {
    const dir = await modelFolder('fifo');
    rmSync(join(dir, 'weights.bin'));
    execFileSync('mkfifo', [join(dir, 'weights.bin')]);
    const t0 = Date.now();
    await expect(loadModelDir(dir)).rejects.toThrow(/weights\.bin cannot be read: it is not a regular file/);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 10_000);

  it('a weights.bin 4 bytes longer or shorter than the manifest declares is refused', async () => {
    const longer = await modelFolder('longer');
    writeFileSync(
      join(longer, 'weights.bin'),
      Buffer.concat([readFileSync(join(longer, 'weights.bin')), Buffer.alloc(4)]),
    );
    await expect(loadModelDir(longer)).rejects.toThrow(
      new RegExp(`holds ${WEIGHT_BYTES + 4} bytes, more than the ${WEIGHT_BYTES} its manifest declares`),
    );
    const shorter = await modelFolder('shorter');
    writeFileSync(join(shorter, 'weights.bin'), readFileSync(join(shorter, 'weights.bin')).subarray(4));
    await expect(loadModelDir(shorter)).rejects.toThrow(/hold 4 bytes fewer than the manifest/);
    // the exact file still loads, its weights as saved
    const exact = await modelFolder('exact');
    const m = await loadModelDir(exact);
    expect(m.weights.length).toBe(WEIGHT_BYTES / 4);
    expect(Array.from(m.weights)).toEqual(
      Array.from(new Float32Array(Uint8Array.from(readFileSync(join(exact, 'weights.bin'))).buffer)),
    );
    m.model.dispose();
  });
});

describe('predict refuses non-finite weights and outputs (item 11)', () => {
  it('a NaN weight is refused when the model loads', async () => {
    const dir = await modelFolder('nan', undefined, (w) => {
      w[0] = Number.NaN;
    });
    await expect(loadModelDir(dir)).rejects.toMatchObject({
      code: 'NON_FINITE',
      message: expect.stringMatching(/is NaN or infinite/),
    });
  });

  it('3e38 weights give infinite outputs: refused, never "class -1 (probability NaN)"', async () => {
    const dir = await modelFolder('huge', undefined, (w) => w.fill(3e38));
    const m = await loadModelDir(dir); // finite weights load
    expect(() => predictRows(m.model, m.spec, new Float32Array([1, 1, 1, 1]))).toThrow(
      /the model's output 0 for example 0 is Infinity: its weights are unusable/,
    );
    m.model.dispose();
  });
});

/** A server on 127.0.0.1 whose handler the test writes; resolves its URL, and closes it after `body`. */
async function withServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/data.bin`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const anyHash = '0'.repeat(64);

describe('URL data sets: counted as they arrive, with an idle timeout and a deadline (item 9)', () => {
  it('a body without Content-Length that never ends is cut off at the cap; no more is read', async () => {
    let sent = 0;
    let closed = false;
    await withServer(
      (_req, res) => {
        res.writeHead(200); // chunked: no Content-Length
        const chunk = Buffer.alloc(64 * 1024);
        // bounded: stops when the client goes away or after 64 MiB
        const pump = () => {
          while (!closed && sent < 64 * 2 ** 20) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => {
          closed = true;
        });
        pump();
      },
      async (url) => {
        await expect(fetchVerified(url, anyHash, { maxBytes: 2 ** 20 })).rejects.toThrow(
          /data\.bin is more than 1048576 bytes/,
        );
        await new Promise((r) => setTimeout(r, 100));
        expect(closed).toBe(true);
        expect(sent).toBeLessThan(16 * 2 ** 20); // the download stopped; the server did not push 64 MiB
      },
    );
  }, 20_000);

  it('a declared size above the cap is refused before the body', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-length': String(2 ** 21) });
        res.write(Buffer.alloc(1024));
      },
      async (url) => {
        await expect(fetchVerified(url, anyHash, { maxBytes: 2 ** 20 })).rejects.toThrow(
          /is 2097152 bytes, more than 1048576/,
        );
      },
    );
  });

  it('a server that stalls after its headers: the idle timeout ends the wait with a clear error', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200);
        res.write(Buffer.alloc(10));
      },
      async (url) => {
        const t0 = Date.now();
        await expect(fetchVerified(url, anyHash, { idleMs: 300 })).rejects.toThrow(/data\.bin sent nothing for 0\.3 s/);
        expect(Date.now() - t0).toBeLessThan(5000);
      },
    );
  }, 10_000);

  it('a server that trickles a byte every 50 ms: the deadline ends it with a clear error', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200);
        const timer = setInterval(() => res.write(Buffer.of(1)), 50);
        res.on('close', () => clearInterval(timer));
      },
      async (url) => {
        const t0 = Date.now();
        await expect(fetchVerified(url, anyHash, { idleMs: 1000, deadlineMs: 800 })).rejects.toThrow(
          /data\.bin did not arrive within 0\.8 s/,
        );
        expect(Date.now() - t0).toBeLessThan(5000);
      },
    );
  }, 10_000);

  it('a gzip-encoded body longer than its (compressed) Content-Length still arrives whole', async () => {
    const body = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31) % 7);
    const sha = createHash('sha256').update(body).digest('hex');
    const gz = gzipSync(body);
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length) });
        res.end(gz);
      },
      async (url) => {
        expect(gz.length).toBeLessThan(body.length);
        expect(Array.from(await fetchVerified(url, sha))).toEqual(Array.from(body));
      },
    );
  });

  it('a body shorter than its Content-Length is refused', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.end(Buffer.alloc(50));
        res.socket?.destroy();
      },
      async (url) => {
        await expect(fetchVerified(url, anyHash)).rejects.toMatchObject({ code: 'BAD_DATA' });
      },
    );
  });
});

describe('packed sizes in plain numbers (item 9)', () => {
  it('a 44-byte file whose header sizes wrap in 32 bits is refused at once', () => {
    // rank 4 (44-byte header), 4 examples of 2^30 - 1 uint8 features, uint8 labels: with `(n + 3) & ~3`
    // the labels "start" at 40 and the file "is" 44 bytes long
    const b = new Uint8Array(44);
    const dv = new DataView(b.buffer);
    [0x53445247, 1, 4, 0, 2, 1].forEach((v, i) => dv.setUint32(4 * i, v, true));
    b.set([1, 0, 4, 0], 24);
    [2 ** 30 - 1, 1, 1, 1].forEach((v, i) => dv.setUint32(28 + 4 * i, v, true));
    const t0 = Date.now();
    expect(() => readPackedHeader(b, 'liar.bin')).toThrow(/liar\.bin: has 44 bytes but its header promises 4294967340/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('pack-data at scale and against hostile input (item 10)', () => {
  it('a 300,000-row CSV packs (no call-stack overflow), its labels intact', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => `${i},${(i * 7) % 13},${i % 3}`);
    const r = csvToPacked(rows.join('\n'), { task: 'classification', testFraction: 0.1 });
    expect(r).toMatchObject({ train: 270_000, test: 30_000, classes: 3, inputShape: [2] });
    let wrong = 0;
    for (const split of ['train', 'test'] as const) {
      const d = decodePacked(r.bytes, split);
      for (let k = 0; k < d.size; k++) wrong += d.y[k] === d.x[2 * k] % 3 ? 0 : 1;
    }
    expect(wrong).toBe(0);
  });

  it('a label of 999,999,999 is refused with a clear error, allocating nothing for it', () => {
    expect(() => csvToPacked('1,2,0\n3,4,999999999\n5,6,1', { task: 'classification' })).toThrow(
      /CSV line 2: label 999999999 is too large: integer labels are classes 0\.\.99999/,
    );
  });

  it('a PNG deflate bomb (8x8 declared, 64 MiB inflated) is refused without inflating it all', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(8, 0);
    ihdr.writeUInt32BE(8, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const chunk = (type: string, data: Uint8Array) => {
      const out = Buffer.alloc(12 + data.length);
      out.writeUInt32BE(data.length, 0);
      out.write(type, 4, 'ascii');
      Buffer.from(data).copy(out, 8);
      return out;
    };
    const bomb = deflateSync(Buffer.alloc(64 * 2 ** 20));
    const png = Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk('IHDR', ihdr),
      chunk('IDAT', bomb),
      chunk('IEND', new Uint8Array(0)),
    ]);
    const images = ['a', 'b'].map((label) => ({ label, name: `${label}/bomb.png`, png: new Uint8Array(png) }));
    await expect(imagesToPacked(images)).rejects.toThrow(
      /a\/bomb\.png is not a PNG gradroom can read: its image data inflates to more than the 72 bytes its 8x8 size allows/,
    );
  });
});
