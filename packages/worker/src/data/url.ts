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
  /** Bytes at most; a larger download is refused (default 1 GiB). */
  maxBytes?: number;
}

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
  let res: Response;
  try {
    res = await fetch(u);
  } catch (e) {
    throw new GradroomError('BAD_DATA', `could not fetch the data set ${u.href}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new GradroomError('BAD_DATA', `could not fetch the data set ${u.href}: HTTP ${res.status}`);
  const max = opts.maxBytes ?? 2 ** 30;
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max)
    throw new GradroomError('BAD_DATA', `the data set ${u.href} is ${declared} bytes, more than ${max}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength > max) throw new GradroomError('BAD_DATA', `the data set ${u.href} is more than ${max} bytes`);
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
