/** gradroom serve --data DIR: packed data sets under /datasets/, with the web app's path rules. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomServer } from '../../src/room/server.js';

describe('serving data sets', () => {
  let server: RoomServer;
  const dir = mkdtempSync(join(tmpdir(), 'gradroom-data-'));
  const outside = mkdtempSync(join(tmpdir(), 'gradroom-outside-'));
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
  beforeAll(async () => {
    writeFileSync(join(dir, 'mine.bin'), bytes);
    writeFileSync(join(outside, 'secret.txt'), 'not for you');
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
