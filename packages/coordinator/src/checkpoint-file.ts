/** Checkpoints as files in Node, written atomically: a temporary file, fsync, then rename. */
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GradroomError } from '@gradroom/core';
import { readRegularFile } from '@gradroom/worker/files';
import type { CheckpointStore } from './checkpoint.js';

/** Weights, the optimizer's state (up to 3x the weights) and the job: far below this for a browser model. */
const MAX_CHECKPOINT_BYTES = 4 * 1024 * 1024 * 1024;

export class FileCheckpointStore implements CheckpointStore {
  constructor(readonly path: string) {}

  private get tmp(): string {
    return `${this.path}.${process.pid}.tmp`;
  }

  async save(bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = this.tmp;
    try {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      // a half-written or unrenamed temporary file is of no use to anyone: never leave it behind
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  /**
   * Fails now, with a clear error, where a save would fail later (issue 10: an unwritable path was
   * found only at the first save, after an epoch of work). Probes with the temporary file a save
   * writes, so an existing checkpoint is left as it is.
   */
  async checkWritable(): Promise<void> {
    const fail = (why: string): never => {
      throw new GradroomError('BAD_CONFIG', `checkpoint file ${this.path} cannot be written: ${why}`);
    };
    const s = await stat(this.path).catch(() => null);
    if (s?.isDirectory()) fail('it is a directory');
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const fh = await open(this.tmp, 'w');
      await fh.close();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(
        code === 'EEXIST' || code === 'ENOTDIR'
          ? `a part of its directory, ${dirname(this.path)}, is a file`
          : code === 'EACCES' || code === 'EPERM'
            ? `permission denied in ${dirname(this.path)}`
            : (e as Error).message,
      );
    } finally {
      await unlink(this.tmp).catch(() => {});
    }
  }

  async load(): Promise<Uint8Array | null> {
    try {
      await stat(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    // a regular file only, read without blocking: a FIFO or a device named as the checkpoint is refused
    return readRegularFile(this.path, { maxBytes: MAX_CHECKPOINT_BYTES, what: 'the checkpoint' });
  }
}
