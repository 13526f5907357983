/**
 * The built-in packed files in Node (packed-file.ts): read from a folder as bytes; a missing one is a
 * BAD_CONFIG that names it and says how to get it (the published package leaves out the full
 * Fashion-MNIST), not a bare ENOENT.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isGradroomError } from '@gradroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import { packedFileReader } from '../src/packed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'gradroom-packed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const read = packedFileReader(pathToFileURL(`${dir}/`));

async function failure(name: string): Promise<Error> {
  try {
    await read(name);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${name} was read`);
}

describe('packedFileReader', () => {
  it('reads a file of the folder as its bytes', async () => {
    writeFileSync(join(dir, 'mnist.bin'), Uint8Array.of(1, 2, 3, 250));
    expect([...(await read('mnist.bin'))]).toEqual([1, 2, 3, 250]);
  });

  it('a missing fashion-mnist.bin says it is left out of the package and what to use instead', async () => {
    const e = await failure('fashion-mnist.bin');
    expect(isGradroomError(e, 'BAD_CONFIG'), String(e)).toBe(true);
    expect(e.message).toContain(join(dir, 'fashion-mnist.bin'));
    expect(e.message).toMatch(/leaves out the full Fashion-MNIST .* use 'fashion-mnist-small', or build it/);
  });

  it('any other missing file is BAD_CONFIG naming it', async () => {
    const e = await failure('fashion-mnist-small.bin');
    expect(isGradroomError(e, 'BAD_CONFIG'), String(e)).toBe(true);
    expect(e.message).toMatch(/^fashion-mnist-small\.bin is not in this installation of @gradroom\/worker/);
  });
});
