/**
 * Node: the built-in data sets' packed files, read from a folder (the package's dist/). The
 * published package leaves out the full Fashion-MNIST (55 MB) so that a browser app's install stays
 * small; a missing file is a clear error that says how to get it, not a bare ENOENT.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GradroomError } from '@gradroom/core';

/** What to do when a built-in file is not there, by file name. */
const HOW: Record<string, string> = {
  'fashion-mnist.bin':
    "the published package leaves out the full Fashion-MNIST (70,000 images, 55 MB) to keep installs small: use 'fashion-mnist-small', or build it in the gradroom repository (npm run build writes packages/worker/dist/fashion-mnist.bin) and train on that file (gradroom train --dataset FILE, or a { kind: 'url' } data set)",
};

/** Reads `name` from `dir`; a missing file is BAD_CONFIG naming it and what to do. */
export function packedFileReader(dir: URL): (name: string) => Promise<Uint8Array> {
  return async (name) => {
    const path = fileURLToPath(new URL(`./${name}`, dir));
    try {
      return new Uint8Array(await readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new GradroomError(
        'BAD_CONFIG',
        `${name} is not in this installation of @gradroom/worker (${path}): ${HOW[name] ?? 'reinstall the package, or run npm run build in the repository'}`,
      );
    }
  };
}
