/**
 * Data by URL: a worker fetches a packed data set once and checks its SHA-256 (WebCrypto, in Node 20
 * and browsers alike) before anything reads it. Browsers keep the checked bytes in Cache Storage,
 * so a volunteer who rejoins does not download again; a cached copy is hashed again before use.
 */
import { GradroomError } from '@gradroom/core';

const CACHE_NAME = 'gradroom-data-v1';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Cache Storage where the environment has it (browser pages and workers in a secure context). */
async function openCache(): Promise<Cache | undefined> {
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) return undefined;
  try {
    return await storage.open(CACHE_NAME);
  } catch {
    return undefined; // e.g. an opaque origin: work without a cache
  }
}

export interface FetchDataOptions {
  /** Resolves a relative URL (a path on the server that served the page); default: this page or worker's location. */
  base?: string;
  /** Bytes at most; a larger download is refused as soon as it passes this (default 1 GiB). */
  maxBytes?: number;
  /** Milliseconds without a byte (before the headers or between chunks) before giving up (default 60 s). */
  idleMs?: number;
  /** Milliseconds for the whole download before giving up (default 30 minutes). */
  deadlineMs?: number;
  /**
   * The bytes of `url` from this machine, or undefined to download them: a thread of the host that
   * serves the data set reads its files (localDataReader, local-data.ts) rather than asking its own
   * server for them over HTTP, on the same CPU. Checked against the SHA-256 like a download.
   */
  local?: (url: URL) => Promise<Uint8Array | undefined>;
}

export const DATA_IDLE_MS = 60_000;
export const DATA_DEADLINE_MS = 30 * 60_000;

/** The URL a spec names, resolved and restricted to http(s). */
export function resolveDataUrl(url: string, base?: string): URL {
  const here = base ?? (globalThis as { location?: { href: string } }).location?.href;
  let u: URL;
  try {
    u = new URL(url, here);
  } catch {
    throw new GradroomError(
      'BAD_DATA',
      `data set URL "${url}" cannot be resolved${here ? '' : ' (a relative URL needs a page to resolve against)'}`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new GradroomError('BAD_DATA', `data set URL "${url}" must be http(s)`);
  }
  return u;
}

/** The bytes at `url`, checked against `sha256` (hex). A mismatch is a BAD_DATA error naming both hashes. */
export async function fetchVerified(url: string, sha256: string, opts: FetchDataOptions = {}): Promise<Uint8Array> {
  const u = resolveDataUrl(url, opts.base);
  const want = sha256.toLowerCase();
  const cache = await openCache();
  const key = `${u.href}#sha256=${want}`;
  if (cache) {
    const hit = await cache.match(key).catch(() => undefined);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if ((await sha256Hex(bytes)) === want) return bytes;
      await cache.delete(key).catch(() => false); // a damaged copy: fetch it again
    }
  }
  const bytes = (await opts.local?.(u)) ?? (await download(u, opts));
  const got = await sha256Hex(bytes);
  if (got !== want) {
    throw new GradroomError(
      'BAD_DATA',
      `the data set ${u.href} has SHA-256 ${got}, the task says ${want}: refusing to train on it`,
    );
  }
  if (cache) {
    await cache
      .put(
        key,
        new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }),
      )
      .catch(() => {}); // a full quota only costs a download next time
  }
  return bytes;
}

/**
 * The body at `u`, counted as it arrives: refused once it passes the cap or its Content-Length (with
 * or without one, nothing past the cap is kept), after `idleMs` without a byte, or past the deadline.
 */
async function download(u: URL, opts: FetchDataOptions): Promise<Uint8Array> {
  const max = opts.maxBytes ?? 2 ** 30;
  const idleMs = opts.idleMs ?? DATA_IDLE_MS;
  const deadlineMs = opts.deadlineMs ?? DATA_DEADLINE_MS;
  const ctl = new AbortController();
  let why: GradroomError | undefined;
  const stop = (e: GradroomError) => {
    why ??= e;
    ctl.abort(e);
  };
  const deadline = setTimeout(
    () => stop(new GradroomError('BAD_DATA', `the data set ${u.href} did not arrive within ${deadlineMs / 1000} s`)),
    deadlineMs,
  );
  let idle: ReturnType<typeof setTimeout> | undefined;
  const alive = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => stop(new GradroomError('BAD_DATA', `the data set ${u.href} sent nothing for ${idleMs / 1000} s`)),
      idleMs,
    );
  };
  const fail = (m: string): never => {
    const e = new GradroomError('BAD_DATA', `the data set ${u.href} ${m}`);
    stop(e);
    throw e;
  };
  try {
    alive();
    const res = await fetch(u, { signal: ctl.signal });
    if (!res.ok) fail(`could not be fetched: HTTP ${res.status}`);
    // a compressed body's Content-Length counts the compressed bytes: then only the cap bounds it
    const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    const header = encoded ? null : res.headers.get('content-length');
    const declared = header === null ? undefined : Number(header);
    if (declared !== undefined && !(/^[0-9]+$/.test(header as string) && Number.isSafeInteger(declared)))
      fail(`has a malformed Content-Length "${header}"`);
    if (declared !== undefined && declared > max) fail(`is ${declared} bytes, more than ${max}`);
    const limit = declared ?? max;
    // with a declared size the bytes go straight into their place; without, chunks are kept until the end
    const whole = declared === undefined ? undefined : new Uint8Array(declared);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // each pass takes one chunk of the body, which is cut off past `limit`, the idle time or the deadline
    for (;;) {
      alive();
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > limit)
        fail(declared === undefined ? `is more than ${max} bytes` : `sent more than its Content-Length of ${declared}`);
      if (whole) whole.set(value, total);
      else chunks.push(value);
      total += value.byteLength;
    }
    if (whole) {
      if (total !== declared) fail(`ended after ${total} of its ${declared} bytes`);
      return whole;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  } catch (e) {
    if (why) throw why;
    if (e instanceof GradroomError) throw e;
    throw new GradroomError('BAD_DATA', `could not fetch the data set ${u.href}: ${(e as Error).message}`);
  } finally {
    clearTimeout(deadline);
    clearTimeout(idle);
  }
}
