/**
 * Output folders for the CLI (--checkpoint, --save-model). Node's recursive mkdir never returns
 * under /proc (each level fails with ENOENT and it retries the parent), so folders are made one
 * level at a time here, a bounded walk with a clear error.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GradroomError } from '@gradroom/core';

/** Creates `dir` and its missing parents; `what` names the output in the error (e.g. "--save-model DIR"). */
export async function makeDirs(dir: string, what: string): Promise<void> {
  const fail = (why: string): never => {
    throw new GradroomError('BAD_CONFIG', `${what} cannot be written: ${why}`);
  };
  const missing: string[] = [];
  let at = resolve(dir);
  // each pass goes one level up, and the root has no parent: as many passes as the path has levels
  for (;;) {
    const s = await stat(at).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : fail(e.message)));
    if (s) {
      if (!s.isDirectory()) fail(`a part of its directory, ${at}, is a file`);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) fail(`${at} does not exist`);
    at = up;
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await stat(d).catch(() => null))?.isDirectory()) continue; // made meanwhile
      fail(`the folder ${d} cannot be created (${code ?? (e as Error).message})`);
    }
  }
}
