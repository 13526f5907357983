/**
 * Serves a built web app (apps/demo/dist) from Node: GET/HEAD only, MIME types, and the COOP/COEP
 * headers that cross-origin isolation needs (SharedArrayBuffer for wasm threads). Only regular files
 * whose real path is inside the folder, and no dot files (confine.ts).
 *
 * Each file is opened once and streamed with stream.pipeline, so a download the client aborts
 * closes its file at once, and a failed open (EMFILE when descriptors run out) or read is answered
 * and reported, never thrown out of a listener.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { GradroomError } from '@gradroom/core';
import { confinedFile, openConfined, realFolder } from './confine.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export interface StaticOptions {
  /** File served for a path ending in '/' (default index.html). */
  index?: string;
  /** Told about failed opens and reads (the request was answered already). */
  onError?: (line: string) => void;
  /**
   * Bytes read from a file at a time (default READ_CHUNK_BYTES). Node's 64 KiB cost a host at a
   * fifth of a CPU about twice the CPU per megabyte served (bench/static-serve.bench.mjs).
   */
  readChunkBytes?: number;
}

/**
 * A data set's chunk (about 0.45 MB gzipped) is read in one piece, a whole packed set in a few:
 * fewer reads and socket writes per byte. A room's volunteers fetch their partitions while the
 * host's warm start runs on the same laptop.
 */
export const READ_CHUNK_BYTES = 1 << 20;

/** Errors that mean "no such file here": answered 404 like any other miss. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG']);
/** Errors that mean "not now": the process or the system is out of descriptors. */
const BUSY = new Set(['EMFILE', 'ENFILE', 'EAGAIN']);

/** The client takes a gzip body: `gzip` in Accept-Encoding, not refused with q=0. */
export function acceptsGzip(req: IncomingMessage): boolean {
  const h = req.headers['accept-encoding'];
  if (typeof h !== 'string') return false;
  return h.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name.trim() !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * A client on this machine (loopback, or this server's own address: the host's own worker): its
 * bytes cross no link, and inflating a gzip body would only cost it CPU (2 s more before a host at
 * a fifth of a CPU had read Fashion-MNIST's chunks).
 */
export function sameMachine(req: IncomingMessage): boolean {
  const plain = (a: string | undefined) => (a ?? '').replace(/^::ffff:/, '');
  const remote = plain(req.socket.remoteAddress);
  return remote !== '' && (remote === plain(req.socket.localAddress) || remote.startsWith('127.') || remote === '::1');
}

/**
 * A gzip copy beside `file` (FILE.gz, written at build time for the data sets: MNIST travels as a
 * fifth of its size), under the same confinement, and not older than the file (a stale copy of an
 * older file would be served as this one); else null.
 */
async function gzipCopy(
  base: string,
  realBase: string,
  file: string,
  mtimeMs: number,
): Promise<{ path: string; stats: Stats } | null> {
  try {
    const gz = await confinedFile(base, realBase, `${file}.gz`);
    return gz && gz.stats.mtimeMs >= mtimeMs ? gz : null;
  } catch {
    return null; // no copy (ENOENT...): the file itself
  }
}

/**
 * Returns a handler that serves files under `root`; it answers false when no file matched.
 * `target`: the request's path under root, percent-encoded as in a URL (default: req.url's path).
 */
export function staticFiles(root: string, opts: StaticOptions = {}) {
  // resolve() drops a trailing separator, so `--dist dir/` confines to dir like `--dist dir`
  const base = resolve(root);
  const realBase = realFolder(base);
  const report = opts.onError ?? (() => {});
  const readChunk = opts.readChunkBytes ?? READ_CHUNK_BYTES;
  if (!Number.isInteger(readChunk) || readChunk < 1)
    throw new GradroomError('BAD_CONFIG', `staticFiles: readChunkBytes must be a positive integer, got ${readChunk}`);
  return async (req: IncomingMessage, res: ServerResponse, target?: string): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (target === undefined && !req.url?.startsWith('/')) return false;
    let path: string;
    try {
      path = decodeURIComponent(target ?? new URL(`http://x${req.url}`).pathname);
    } catch {
      return false;
    }
    if (path.includes('\0')) return false;
    if (path.endsWith('/')) path += opts.index ?? 'index.html';
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) return false;

    let fh: FileHandle;
    let size: number;
    let gzip = false;
    try {
      const found = await confinedFile(base, await realBase(), file);
      if (!found) return false;
      const gz =
        acceptsGzip(req) && !sameMachine(req)
          ? await gzipCopy(base, await realBase(), file, found.stats.mtimeMs)
          : null;
      let opened = gz && (await openConfined(gz));
      gzip = !!opened;
      opened ||= await openConfined(found);
      if (!opened) return false;
      fh = opened.handle;
      size = opened.size;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (MISSING.has(code)) return false;
      report(`static: cannot open ${path}: ${code || (e as Error).message}`);
      const busy = BUSY.has(code);
      res
        .writeHead(busy ? 503 : 500, { 'Content-Type': 'text/plain', ...(busy ? { 'Retry-After': '1' } : {}) })
        .end(busy ? 'server busy, try again\n' : 'cannot read the file\n');
      return true;
    }
    // from here the handle is closed on every path: by the stream, or here
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-cache',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      Vary: 'Accept-Encoding',
      ...ISOLATION_HEADERS,
    });
    if (req.method === 'HEAD' || size === 0) {
      await fh.close().catch(() => {});
      res.end();
      return true;
    }
    // end: the size announced, even if the file grows meanwhile; the stream closes the handle
    const stream = fh.createReadStream({ start: 0, end: size - 1, highWaterMark: Math.min(size, readChunk) });
    pipeline(stream, res, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        report(`static: sending ${path} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      }
    });
    return true;
  };
}
