/**
 * A host's own thread reads the data set its room server serves from disk (local-data.ts): only URLs
 * under the served prefix, only files inside the folder; anything else is downloaded as before, and
 * what is read is checked against the SHA-256 like a download (url.ts fetchVerified).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchVerified, sha256Hex } from '../src/data/url.js';
import { localDataReader } from '../src/local-data.js';

const root = mkdtempSync(join(tmpdir(), 'gradroom-local-data-'));
const dir = join(root, 'served');
mkdirSync(join(dir, 'chunks'), { recursive: true });
writeFileSync(join(dir, 'chunks', 'train-00.bin'), Uint8Array.of(7, 8, 9));
writeFileSync(join(dir, 'a b.bin'), Uint8Array.of(1));
writeFileSync(join(root, 'secret.bin'), Uint8Array.of(66)); // beside the folder, not in it
afterAll(() => rmSync(root, { recursive: true, force: true }));
// port 9 (discard): nothing listens there, so a download would fail
const base = 'http://127.0.0.1:9/datasets/';
const read = localDataReader({ url: base, dir });

describe('localDataReader', () => {
  it('reads a file under the served URL from the folder', async () => {
    expect([...((await read(new URL(`${base}chunks/train-00.bin`))) ?? [])]).toEqual([7, 8, 9]);
    expect([...((await read(new URL(`${base}a%20b.bin`))) ?? [])]).toEqual([1]);
    // the prefix given without its trailing slash means the same folder
    const bare = localDataReader({ url: 'http://127.0.0.1:9/datasets', dir });
    expect([...((await bare(new URL(`${base}chunks/train-00.bin`))) ?? [])]).toEqual([7, 8, 9]);
  });

  it('leaves every other URL to the download: another server, another path, a query, a missing file', async () => {
    for (const u of [
      'http://127.0.0.2:9/datasets/chunks/train-00.bin',
      'http://127.0.0.1:10/datasets/chunks/train-00.bin',
      'https://127.0.0.1:9/datasets/chunks/train-00.bin',
      'http://127.0.0.1:9/other/chunks/train-00.bin',
      'http://127.0.0.1:9/datasetsx/chunks/train-00.bin',
      `${base}chunks/train-00.bin?v=2`,
      `${base}chunks/train-99.bin`,
      `${base}chunks/`,
    ])
      expect(await read(new URL(u)), u).toBeUndefined();
  });

  it('never reads outside the folder: encoded dot segments, a bad escape, a NUL', async () => {
    for (const u of [
      `${base}%2e%2e/secret.bin`,
      `${base}chunks%2f..%2f..%2fsecret.bin`,
      `${base}%E0%A4%A`,
      `${base}x%00.bin`,
    ])
      expect(await read(new URL(u)), u).toBeUndefined();
  });

  it('fetchVerified takes the local bytes when their SHA-256 is the one named, and refuses them otherwise', async () => {
    const url = `${base}chunks/train-00.bin`;
    const good = await sha256Hex(Uint8Array.of(7, 8, 9));
    expect([...(await fetchVerified(url, good, { local: read }))]).toEqual([7, 8, 9]);
    const bad = '0'.repeat(64);
    await expect(fetchVerified(url, bad, { local: read })).rejects.toThrow(/SHA-256 .* the task says 0{64}/);
    // not local: downloaded (and here nothing listens, so it fails as a download does)
    await expect(fetchVerified(`${base}chunks/train-99.bin`, good, { local: read, idleMs: 2000 })).rejects.toThrow();
  });
});
