/**
 * Who may create rooms and open WebSockets: requests must name this server (Host, and Origin when a
 * browser sends one) so that a DNS-rebinding page (evil.example resolving to this machine) cannot
 * create rooms and read their tokens; and room creation is rate-limited per address.
 */
import { hostname, networkInterfaces } from 'node:os';

export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** A token bucket. */
export class Bucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly limit: RateLimit) {
    this.tokens = limit.burst;
  }
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
  /** Seconds until one token is back. */
  get waitSeconds(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.limit.perSecond);
  }
  get full(): boolean {
    this.refill();
    return this.tokens >= this.limit.burst;
  }
  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.perSecond);
    this.last = now;
  }
}

/** One bucket per address; full buckets are forgotten when the map grows, so it stays bounded. */
export class AddressLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    private readonly limit: RateLimit,
    private readonly maxAddresses = 10_000,
  ) {}
  take(address: string): { ok: boolean; retryAfter: number } {
    let b = this.buckets.get(address);
    if (!b) {
      if (this.buckets.size >= this.maxAddresses) {
        for (const [k, v] of this.buckets) if (v.full) this.buckets.delete(k);
        // still full of active addresses: refuse newcomers rather than grow without bound
        if (this.buckets.size >= this.maxAddresses) return { ok: false, retryAfter: 60 };
      }
      b = new Bucket(this.limit);
      this.buckets.set(address, b);
    }
    return b.take() ? { ok: true, retryAfter: 0 } : { ok: false, retryAfter: b.waitSeconds };
  }
}

/** A host name compared as DNS does: lower case, no trailing dot, IPv6 without brackets. */
export function normalizeHost(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** The host name of a Host header ("name:port", "[v6]:port"), or null when it is not one. */
export function hostOfHeader(header: string | undefined): string | null {
  if (!header || header.length > 300 || /[\s/@?#\\]/.test(header)) return null;
  try {
    return normalizeHost(new URL(`http://${header}`).hostname);
  } catch {
    return null;
  }
}

/** The host name of an Origin header; null for 'null' or anything that is not http(s)://host[:port]. */
export function hostOfOrigin(origin: string): string | null {
  try {
    const u = new URL(origin);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== origin.replace(/\/$/, '')) return null;
    return normalizeHost(u.hostname);
  } catch {
    return null;
  }
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * The names a server listening on `listenHost` answers to by default: that host, localhost,
 * 127.0.0.1 and ::1, the public URL's host; and when it listens on every interface (a classroom
 * LAN), each interface's address, the machine's host name and its .local name.
 */
export function ownHostNames(listenHost: string, publicUrl?: string): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1'].map(normalizeHost));
  if (!WILDCARD.has(listenHost)) names.add(normalizeHost(listenHost));
  else {
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) names.add(normalizeHost(a.address));
    const h = normalizeHost(hostname());
    if (h) names.add(h).add(`${h}.local`);
  }
  if (publicUrl) names.add(normalizeHost(new URL(publicUrl).hostname));
  return [...names];
}

/**
 * Why a request may not use the API, or null when it may: its Host must be one of `allowed` (or
 * `allowed` holds '*'); an Origin, when present, must name one of them too.
 */
export function refuseForeign(
  headers: { host?: string; origin?: string | string[] },
  allowed: ReadonlySet<string>,
): string | null {
  if (allowed.has('*')) return null;
  const host = hostOfHeader(headers.host);
  if (host === null) return 'a Host header naming this server is required';
  if (!allowed.has(host)) return `Host '${host.slice(0, 80)}' is not a name of this server`;
  const origin = headers.origin;
  if (origin === undefined) return null; // not a browser, or a same-origin GET: nothing cross-site to stop
  if (Array.isArray(origin)) return 'one Origin header at most';
  const from = hostOfOrigin(origin);
  if (from === null || !allowed.has(from)) return `Origin '${origin.slice(0, 80)}' is not this server`;
  return null;
}

/**
 * Log lines about refused requests, at most a burst then a rate per address, so that a flood of bad
 * requests cannot flood the log; what was left out is counted on the next line that is written.
 */
export class RefusalLog {
  private readonly limiter: AddressLimiter;
  private readonly suppressed = new Map<string, number>();
  constructor(
    private readonly log: (line: string) => void,
    limit: RateLimit = { perSecond: 2, burst: 20 },
  ) {
    this.limiter = new AddressLimiter(limit);
  }
  line(address: string, text: string): void {
    if (!this.limiter.take(address).ok) {
      if (this.suppressed.size >= 10_000) this.suppressed.clear(); // only a count is lost
      this.suppressed.set(address, (this.suppressed.get(address) ?? 0) + 1);
      return;
    }
    const n = this.suppressed.get(address);
    this.suppressed.delete(address);
    this.log(n ? `${text} (and ${n} earlier refusals from ${address} not logged)` : text);
  }
}
