/**
 * Node only (not exported by data/index.ts, which pages import): reading files a stranger may have
 * shaped (a shared model's weights, images and CSVs to pack, an input to predict). Only regular
 * files, opened without blocking (a FIFO would hang a plain open or read), at most the bytes the
 * caller allows, and, for files named inside a folder, only where their real path stays inside it.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { type ErrorCode, GradroomError } from '@gradroom/core';

export interface RegularFileOptions {
  /** Refuse a file larger than this. */
  maxBytes: number;
  /** How errors name the file, e.g. "the model's weights". */
  what?: string;
  /** The error code of a refusal (default BAD_DATA). */
  code?: ErrorCode;
  /** The whole message for a refusal, from its reason (default: "<what> <path> cannot be read: <why>"). */
  message?: (why: string) => string;
}

/** An open regular file: its size (fstat on the descriptor, so what is checked is what is read) and a reader. */
export interface OpenedFile {
  size: number;
  /** Exactly `n` bytes from the start (n <= size); a file that shrinks meanwhile is an error. */
  read(n?: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** Opens `path` for reading if it is a regular file of at most maxBytes; throws a GradroomError otherwise. */
export async function openRegularFile(path: string, o: RegularFileOptions): Promise<OpenedFile> {
  const what = o.what ?? 'the file';
  const fail = (why: string): never => {
    throw new GradroomError(o.code ?? 'BAD_DATA', o.message?.(why) ?? `${what} ${path} cannot be read: ${why}`);
  };
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; fstat then refuses it
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return fail(errno(e) === 'ENOENT' ? 'there is no such file' : (e as Error).message);
  }
  let size = 0;
  try {
    const s = await fh.stat();
    if (!s.isFile())
      fail(s.isDirectory() ? 'it is a directory' : 'it is not a regular file (a device, FIFO or socket)');
    if (s.size > o.maxBytes) fail(`it is ${s.size} bytes, more than the ${o.maxBytes} allowed`);
    size = s.size;
  } catch (e) {
    await fh.close();
    throw e;
  }
  return {
    size,
    read: async (n = size) => {
      const out = new Uint8Array(n);
      // each pass reads at least one byte or ends: at most n passes
      for (let at = 0; at < n; ) {
        const { bytesRead } = await fh.read(out, at, n - at, at);
        if (bytesRead === 0) fail(`it ended after ${at} of its ${n} bytes (it changed while being read)`);
        at += bytesRead;
      }
      return out;
    },
    close: () => fh.close(),
  };
}

/** The whole of a regular file of at most maxBytes. */
export async function readRegularFile(path: string, o: RegularFileOptions): Promise<Uint8Array> {
  const f = await openRegularFile(path, o);
  try {
    return await f.read();
  } finally {
    await f.close();
  }
}

/** readRegularFile for synchronous callers (flag parsing): the same checks, the same errors. */
export function readRegularFileSync(path: string, o: RegularFileOptions): Uint8Array {
  const what = o.what ?? 'the file';
  const fail = (why: string): never => {
    throw new GradroomError(o.code ?? 'BAD_DATA', o.message?.(why) ?? `${what} ${path} cannot be read: ${why}`);
  };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return fail(errno(e) === 'ENOENT' ? 'there is no such file' : (e as Error).message);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile())
      fail(s.isDirectory() ? 'it is a directory' : 'it is not a regular file (a device, FIFO or socket)');
    if (s.size > o.maxBytes) fail(`it is ${s.size} bytes, more than the ${o.maxBytes} allowed`);
    const out = new Uint8Array(s.size);
    // each pass reads at least one byte or ends: at most size passes
    for (let at = 0; at < out.length; ) {
      const n = readSync(fd, out, at, out.length - at, at);
      if (n === 0) fail(`it ended after ${at} of its ${out.length} bytes (it changed while being read)`);
      at += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

const outside = (root: string, p: string) => {
  const rel = relative(root, p);
  return rel === '..' || rel.startsWith('../') || rel.startsWith('..\\') || isAbsolute(rel);
};

/**
 * The real path of `name`, a relative path a file inside `dir` gave (a weights manifest's entry),
 * after refusing absolute paths, `..` out of the folder, and symlinks whose target is outside it.
 */
export async function pathInside(dir: string, name: string, o: { what: string; code?: ErrorCode }): Promise<string> {
  const fail = (why: string): never => {
    throw new GradroomError(o.code ?? 'BAD_DATA', `${o.what} "${name}" is refused: ${why}`);
  };
  if (typeof name !== 'string' || name === '' || name.includes('\0')) fail('not a file name');
  if (isAbsolute(name) || /^[a-zA-Z]:|^[\\/]/.test(name)) fail(`an absolute path; only files inside ${dir} are read`);
  let root: string;
  try {
    root = await realpath(dir);
  } catch (e) {
    return fail(`the folder ${dir} cannot be read (${(e as Error).message})`);
  }
  const full = resolve(root, name);
  if (outside(root, full)) fail(`it leads outside the folder ${dir}`);
  let real: string;
  try {
    real = await realpath(full);
  } catch (e) {
    return fail(errno(e) === 'ENOENT' ? `there is no such file in ${dir}` : (e as Error).message);
  }
  if (outside(root, real)) fail(`it is a link to ${real}, outside the folder ${dir}`);
  return real;
}
