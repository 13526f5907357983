/**
 * The room server's static files under abuse: aborted downloads give their descriptors back, a
 * server out of descriptors answers 503 and lives on, and `--dist dir/` serves like `--dist dir`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/room/server.js';

const BIG = 16 * 1024 * 1024;
let dist = '';
const servers: RoomServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  // dist inside a folder that holds a file the server must never serve
  const parent = await mkdtemp(join(tmpdir(), 'gradroom-static-'));
  await writeFile(join(parent, 'secret.txt'), 'outside dist\n');
  dist = join(parent, 'dist');
  await mkdir(dist);
  const big = new Uint8Array(BIG);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
  await writeFile(join(dist, 'big.bin'), big);
  await writeFile(join(dist, 'small.txt'), 'small file\n');
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>home</title>');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const openFds = () => readdirSync('/proc/self/fd').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a download on a raw socket; resolves with the socket and its status line once bytes arrive. */
function startDownload(port: number, path: string): Promise<{ sock: Socket; status: string }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.once('data', (d) => {
      sock.pause(); // read nothing more: the server's send buffer fills and its file stays open
      resolve({ sock, status: d.toString('latin1').split('\r\n')[0] });
    });
    sock.once('close', () => resolve({ sock, status: 'closed' }));
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

describe('static files', () => {
  it('300 aborted downloads of a large file leave no descriptor open', async () => {
    const s = await RoomServer.start({ port: 0, dist, log: () => {} });
    servers.push(s);
    // one download first, so that lazily opened descriptors (the listen socket's, libuv's) exist already
    (await startDownload(s.port, '/big.bin')).sock.destroy();
    await sleep(100);
    const before = openFds();
    let ok = 0;
    for (let round = 0; round < 15; round++) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => startDownload(s.port, '/big.bin')));
      for (const d of batch) {
        if (d.status === 'HTTP/1.1 200 OK') ok++;
        d.sock.destroy();
      }
    }
    expect(ok).toBe(300);
    const deadline = Date.now() + 5000;
    while (openFds() > before + 2 && Date.now() < deadline) await sleep(50);
    expect(openFds()).toBeLessThanOrEqual(before + 2);
    // and it still serves whole files
    const r = await fetch(`${s.url}/big.bin`);
    expect((await r.arrayBuffer()).byteLength).toBe(BIG);
  });

  it('out of descriptors (ulimit -n 160), it answers 503 and keeps serving', { timeout: 30_000 }, async () => {
    const script = join(import.meta.dirname, 'room-server-child.mjs');
    const child = spawn(
      'sh',
      ['-c', 'ulimit -n 160 && exec "$0" "$1" "$2"', process.execPath, script, JSON.stringify({ dist })],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    const out: string[] = [];
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const keep = (d: Buffer) => {
        out.push(...d.toString().split('\n').filter(Boolean));
        const m = out.map((l) => /^PORT (\d+)$/.exec(l)).find(Boolean);
        if (m) resolve(Number(m[1]));
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      void exited.then((code) => reject(new Error(`server exited (${code}): ${out.join('\n')}`)));
    });
    // 200 downloads held open at once need more descriptors than the server has. The first 20 are
    // held before the rest begin: all at once, a loaded machine may accept every socket before it
    // opens any file, and then every open fails (the 200 below would never come)
    const first = await Promise.all(Array.from({ length: 20 }, () => startDownload(port, '/big.bin')));
    const rest = await Promise.all(Array.from({ length: 180 }, () => startDownload(port, '/big.bin')));
    const held = [...first, ...rest];
    const statuses = held.map((d) => d.status);
    for (const d of held) d.sock.destroy();
    expect(statuses).toContain('HTTP/1.1 200 OK');
    expect(statuses).toContain('HTTP/1.1 503 Service Unavailable');
    expect(statuses.every((x) => /^HTTP\/1\.1 (200|503) |^closed$/.test(x))).toBe(true);
    expect(out.some((l) => /static: cannot open \/big\.bin: EMFILE/.test(l))).toBe(true);
    await sleep(200);
    expect(child.exitCode).toBe(null);
    const r = await fetch(`http://127.0.0.1:${port}/small.txt`);
    expect(await r.text()).toBe('small file\n');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('serves the same with --dist dir/ (a trailing slash) as with --dist dir, and nothing outside', async () => {
    const s = await RoomServer.start({ port: 0, dist: `${dist}/`, log: () => {} });
    servers.push(s);
    expect(await (await fetch(`${s.url}/small.txt`)).text()).toBe('small file\n');
    expect(await (await fetch(`${s.url}/`)).text()).toContain('<title>home</title>');
    expect((await fetch(`${s.url}/..%2fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${s.url}/..%2fdist%2fsmall.txt`)).status).toBe(200); // inside after all
    expect((await fetch(`${s.url}/nope.txt`)).status).toBe(404);
    expect((await fetch(`${s.url}/small.txt%00.html`)).status).toBe(404);
    const head = await fetch(`${s.url}/big.bin`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(BIG));
  });
});
