/** gradroom serve --data DIR: packed data sets under /datasets/, with the web app's path rules. */
import { mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/room/server.js';
import { READ_CHUNK_BYTES, type StaticOptions, staticFiles } from '../../src/server/static.js';

describe('serving data sets', () => {
  let server: RoomServer;
  const dir = mkdtempSync(join(tmpdir(), 'gradroom-data-'));
  const outside = mkdtempSync(join(tmpdir(), 'gradroom-outside-'));
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
  beforeAll(async () => {
    writeFileSync(join(dir, 'mine.bin'), bytes);
    writeFileSync(join(dir, 'mine.bin.gz'), gzipSync(bytes));
    writeFileSync(join(outside, 'secret.txt'), 'not for you');
    // a gzip copy older than its file (the file was rebuilt since): never served for it
    writeFileSync(join(dir, 'stale.bin'), bytes);
    writeFileSync(join(dir, 'stale.bin.gz'), gzipSync(new Uint8Array(10)));
    utimesSync(join(dir, 'stale.bin.gz'), new Date(2000, 0, 1), new Date(2000, 0, 1));
    // a gzip copy that is a link out of the folder: not served either
    writeFileSync(join(dir, 'linked.bin'), bytes);
    writeFileSync(join(outside, 'other.gz'), gzipSync(new Uint8Array(10)));
    symlinkSync(join(outside, 'other.gz'), join(dir, 'linked.bin.gz'));
    server = await RoomServer.start({ port: 0, data: dir, log: () => {} });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('serves a packed file byte for byte under /datasets/', async () => {
    const res = await fetch(`${server.url}/datasets/mine.bin`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  /**
   * A GET answered by the static handler itself, from a client at `remote` (a tab on the classroom's
   * network; tests reach only loopback, which counts as this machine): status, headers, the bytes as sent.
   */
  async function from(remote: string, path: string, acceptEncoding?: string, opts: StaticOptions = {}) {
    const req = {
      method: 'GET',
      url: path,
      headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {},
      socket: { remoteAddress: remote, localAddress: '10.0.0.1' },
    } as unknown as IncomingMessage;
    const parts: Buffer[] = [];
    let status = 0;
    let headers: Record<string, unknown> = {};
    const sink = new Writable({
      write(c: Buffer, _e, done) {
        parts.push(c);
        done();
      },
    });
    const res = Object.assign(sink, {
      writeHead(code: number, h: Record<string, unknown>) {
        status = code;
        headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
        return res;
      },
    }) as unknown as ServerResponse;
    const ended = new Promise((r) => sink.on('finish', r));
    expect(await staticFiles(dir, opts)(req, res)).toBe(true);
    await ended;
    return { status, headers, body: Buffer.concat(parts), writes: parts.length };
  }

  it('reads a file in pieces of readChunkBytes (1 MiB by default), every byte in order; a bad size is refused', async () => {
    // 2.5 MiB and a few bytes: three pieces by default, 41 of 64 KiB (the host's CPU pays per piece)
    const big = Uint8Array.from({ length: 2.5 * 1024 * 1024 + 7 }, (_, i) => (i * 131 + (i >> 12)) & 0xff);
    writeFileSync(join(dir, 'big.bin'), big);
    expect(READ_CHUNK_BYTES).toBe(1 << 20);
    const byDefault = await from('10.0.0.2', '/big.bin');
    expect(byDefault.status).toBe(200);
    // Buffer.equals: toEqual walks 2.5 million elements one by one, which took most of a minute on a
    // loaded CI machine (the test timed out once)
    expect(byDefault.body.equals(big)).toBe(true);
    expect(byDefault.writes).toBe(3);
    const small = await from('10.0.0.2', '/big.bin', undefined, { readChunkBytes: 64 * 1024 });
    expect(small.body.equals(big)).toBe(true);
    expect(small.writes).toBe(41);
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => staticFiles(dir, { readChunkBytes: bad })).toThrow(/readChunkBytes/);
  });

  it("sends a file's gzip copy to a client elsewhere that accepts gzip, and the file itself to others", async () => {
    const gz = await from('10.0.0.7', '/mine.bin', 'gzip, deflate, br');
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(gz.body.length).toBeLessThan(bytes.length);
    expect(new Uint8Array(gunzipSync(gz.body))).toEqual(bytes);
    for (const accept of [undefined, 'identity', 'deflate, br', 'gzip;q=0']) {
      const plain = await from('10.0.0.7', '/mine.bin', accept);
      expect(plain.headers['content-encoding'], String(accept)).toBeUndefined();
      expect(new Uint8Array(plain.body), String(accept)).toEqual(bytes);
    }
    // this machine (the host's own worker): no link to save, so no CPU spent inflating
    for (const remote of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1']) {
      const local = await from(remote, '/mine.bin', 'gzip');
      expect(local.headers['content-encoding'], remote).toBeUndefined();
      expect(new Uint8Array(local.body), remote).toEqual(bytes);
    }
  });

  it('never a gzip copy older than its file, or one that leaves the folder', async () => {
    for (const name of ['stale.bin', 'linked.bin']) {
      const r = await from('10.0.0.7', `/${name}`, 'gzip');
      expect(r.status, name).toBe(200);
      expect(r.headers['content-encoding'], name).toBeUndefined();
      expect(new Uint8Array(r.body), name).toEqual(bytes);
    }
  });

  it('the room server over real HTTP: a client on this machine gets the file byte for byte', async () => {
    const res = await fetch(`${server.url}/datasets/mine.bin`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('nothing outside the folder, no listing, no other path', async () => {
    for (const p of [
      `/datasets/../${outside.split('/').pop()}/secret.txt`,
      '/datasets/%2e%2e/%2e%2e/etc/passwd',
      '/datasets/',
      '/datasets/missing.bin',
      '/mine.bin',
    ]) {
      const res = await fetch(`${server.url}${p}`);
      expect(res.status, p).toBe(404);
    }
  });
});
