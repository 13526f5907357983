/**
 * `gradroom serve` serves only regular files whose real path is inside --dist or --data (issue 20,
 * item 8): no symlink out of the folder (to a file or to a directory), no dot files, and no FIFO,
 * whose open would hold one of libuv's 4 threads until a writer comes and so stall every file.
 * Each against a real RoomServer on 127.0.0.1.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/room/server.js';

const root = mkdtempSync(join(tmpdir(), 'gradroom-confine-'));
const outside = join(root, 'outside');
const dist = join(root, 'dist');
const data = join(root, 'data');
let server: RoomServer;
const children: ChildProcess[] = [];

/** Lays out a served folder: two real files, a dot file, a dot folder, and links in and out. */
function layout(dir: string): void {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(dir, '.git'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>home</title>');
  writeFileSync(join(dir, 'sub', 'ok.bin'), 'inside\n');
  writeFileSync(join(dir, '.env'), 'SECRET=1\n');
  writeFileSync(join(dir, '.git', 'config'), '[core]\n');
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'secret.txt')); // a file outside
  symlinkSync('/etc/passwd', join(dir, 'passwd.bin'));
  symlinkSync(outside, join(dir, 'out')); // a directory outside
  symlinkSync('/etc', join(dir, 'etc'));
  symlinkSync(join(dir, 'sub', 'ok.bin'), join(dir, 'alias.bin')); // inside: served
  symlinkSync(join(dir, '.env'), join(dir, 'env.txt')); // inside, but to a dot file
}

beforeAll(async () => {
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'outside the folder\n');
  layout(dist);
  layout(data);
  server = await RoomServer.start({ port: 0, dist, data, log: () => {} });
});
afterAll(async () => {
  await server?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const get = (path: string) => fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5000) });

describe('serve: only regular files inside the folder', () => {
  for (const [where, prefix] of [
    ['--dist', ''],
    ['--data', '/datasets'],
  ] as const) {
    it(`${where}: files inside, symlinks inside, and nothing else`, async () => {
      // the positive control: real files and a symlink that stays inside are served
      expect(await (await get(`${prefix}/sub/ok.bin`)).text()).toBe('inside\n');
      expect(await (await get(`${prefix}/alias.bin`)).text()).toBe('inside\n');
      for (const p of [
        '/secret.txt', // a symlink to a file outside
        '/passwd.bin', // a symlink to /etc/passwd
        '/out/secret.txt', // through a symlinked directory outside
        '/etc/passwd', // through a directory linked to /etc
        '/etc/hostname',
        '/.env', // dot files and dot folders
        '/%2eenv',
        '/.git/config',
        '/sub/../.env',
        '/env.txt', // a symlink inside, to a dot file
      ]) {
        const res = await get(`${prefix}${p}`);
        const body = await res.text();
        expect(res.status, `${where} ${p}`).toBe(404);
        expect(body, `${where} ${p}`).not.toMatch(/outside the folder|root:|SECRET|\[core\]/);
      }
      const head = await fetch(`${server.url}${prefix}/.env`, { method: 'HEAD' });
      expect(head.status).toBe(404);
    });
  }
});

describe('serve: where the folder itself lies', () => {
  it('a --dist inside a dot folder, given as a symlink to it, serves its files and still nothing outside', async () => {
    const real = join(root, '.cache', 'dist');
    layout(real);
    const link = join(root, 'dist-link');
    symlinkSync(real, link);
    const s = await RoomServer.start({ port: 0, dist: link, log: () => {} });
    try {
      const res = await fetch(`${s.url}/sub/ok.bin`);
      expect(await res.text()).toBe('inside\n');
      expect((await fetch(`${s.url}/`)).status).toBe(200);
      for (const p of ['/secret.txt', '/etc/passwd', '/.env', '/env.txt']) {
        const r = await fetch(`${s.url}${p}`);
        await r.arrayBuffer();
        expect(r.status, p).toBe(404);
      }
    } finally {
      await s.close();
    }
  });
});

describe('serve: a FIFO in the folder', () => {
  it('5 concurrent requests for it are refused (404) and index.html still answers at once', {
    timeout: 30_000,
  }, async () => {
    const dir = join(root, 'fifo-dist');
    mkdirSync(dir);
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>home</title>');
    execFileSync('mkfifo', [join(dir, 'pipe.bin')]);
    // its own process: before the fix, its libuv threads stay blocked in open() until it is killed
    const script = join(import.meta.dirname, 'room-server-child.mjs');
    const child = spawn(process.execPath, [script, JSON.stringify({ dist: dir, data: dir })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const keep = (d: Buffer) => {
        out += d.toString();
        const m = /^PORT (\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const statusOf = (path: string, ms: number) =>
      fetch(`${url}${path}`, { signal: AbortSignal.timeout(ms) }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        (e: Error) => e.name,
      );
    const fifo = await Promise.all([
      ...Array.from({ length: 3 }, () => statusOf('/pipe.bin', 3000)),
      ...Array.from({ length: 2 }, () => statusOf('/datasets/pipe.bin', 3000)),
    ]);
    expect(fifo).toEqual([404, 404, 404, 404, 404]);
    const t0 = Date.now();
    expect(await statusOf('/index.html', 2000)).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1000);
    child.kill('SIGKILL');
  });
});
