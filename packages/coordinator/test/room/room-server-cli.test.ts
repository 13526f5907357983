/**
 * `gradroom serve` flags of the room server: --dist with a trailing slash, --public-url for links
 * and as an allowed name, --allow-host, and clear errors for bad values.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

function run(args: string[], until?: RegExp) {
  const p = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => {
    out += String(d);
  });
  p.stderr.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise<number | string | null>((r) => p.once('exit', (c, sig) => r(c ?? sig)));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      if (until?.test(out)) {
        clearInterval(timer);
        resolve(out);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
  ready.catch(() => {}); // awaited only when `until` is given
  return { p, exited, ready, out: () => out };
}

function post(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/rooms', headers: { host }, setHost: false },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('gradroom serve: room server flags', () => {
  it('serves --dist dir/ and builds links on --public-url, which may create rooms; a foreign Host may not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gradroom-serve-'));
    await writeFile(join(dir, 'volunteer.html'), '<title>v</title>');
    const s = run(
      ['--port', '0', '--dist', `${dir}/`, '--public-url', 'http://gradroom.test:9000/', '--allow-host', 'alias.test'],
      // printed after the listening line (its own write: under load it may come in a later chunk)
      /gradroom: serving http:\/\/gradroom\.test:9000\/ /,
    );
    try {
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(await s.ready)?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(await (await fetch(`http://127.0.0.1:${port}/volunteer.html`)).text()).toBe('<title>v</title>');
      const made = await post(port, 'gradroom.test:9000');
      expect(made.status).toBe(201);
      expect(JSON.parse(made.body).joinUrl).toMatch(/^http:\/\/gradroom\.test:9000\/volunteer\.html#room=/);
      expect((await post(port, 'alias.test')).status).toBe(201);
      expect((await post(port, `127.0.0.1:${port}`)).status).toBe(201);
      expect((await post(port, 'evil.example')).status).toBe(403);
    } finally {
      s.p.kill('SIGINT');
    }
    expect([0, 130, 'SIGINT']).toContain(await s.exited);
  });

  it('refuses bad values with a clear message', async () => {
    for (const [args, why] of [
      [['--ban-seconds', 'soon'], /--ban-seconds must be a number of seconds/],
      [['--public-url', 'ftp://x'], /--public-url must be an http:\/\/ or https:\/\/ URL/],
    ] as const) {
      const s = run(['--port', '0', ...args]);
      const code = await s.exited;
      expect(code).not.toBe(0);
      expect(s.out()).toMatch(why);
    }
  });
});
