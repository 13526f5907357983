/**
 * Which file a request under a served folder may read: a regular file whose real path (symlinks
 * resolved) is inside the folder's real path, with no dot file or dot folder on the way. Anything
 * else (a link out of the folder, `.env`, `.git/`, a FIFO, a device, a socket) is "no such file".
 *
 * Non-regular files are refused from stat() alone, never opened: opening a FIFO for reading blocks
 * one of libuv's 4 threads until a writer comes, so 5 such requests would stall every file.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';

/** A path relative to the folder that leaves it, or names a dot file or dot folder on the way. */
function hiddenOrOutside(rel: string): boolean {
  if (rel === '') return true; // the folder itself
  return rel.split(sep).some((part) => part.startsWith('.')); // '..' too
}

/** The real path of a folder, cached once it resolved (the folder may appear after the server starts). */
export function realFolder(folder: string): () => Promise<string> {
  let real: string | undefined;
  return async () => {
    real ??= await realpath(folder);
    return real;
  };
}

/**
 * Resolves `file` (already normalized under `folder`) to the real path of a regular file inside
 * `realBase`, or null. Errors (ENOENT, EACCES, ELOOP…) are thrown for the caller to map.
 */
export async function confinedFile(
  folder: string,
  realBase: string,
  file: string,
): Promise<{ path: string; stats: Stats } | null> {
  if (hiddenOrOutside(relative(folder, file))) return null;
  const real = await realpath(file);
  if (hiddenOrOutside(relative(realBase, real))) return null;
  const stats = await stat(real);
  return stats.isFile() ? { path: real, stats } : null;
}

/**
 * Opens a file that confinedFile accepted. O_NONBLOCK and O_NOFOLLOW, and the identity check after,
 * cover a file swapped between the check and the open (for a FIFO, a link, another file): the
 * handle is closed and null returned unless it is that same regular file. `size`: the open file's.
 */
export async function openConfined(found: {
  path: string;
  stats: Stats;
}): Promise<{ handle: FileHandle; size: number } | null> {
  const fh = await open(found.path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const now = await fh.stat();
    if (now.isFile() && now.ino === found.stats.ino && now.dev === found.stats.dev)
      return { handle: fh, size: now.size };
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
  await fh.close().catch(() => {});
  return null;
}
