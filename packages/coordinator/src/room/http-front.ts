/**
 * The room server's HTTP front: POST /api/rooms (room creation, checked for Host/Origin, the room
 * key and per-address limits: access.ts), GET /j/CODE (a short room code to the join link), packed
 * data sets under /datasets/, and the web app's static files. WebSocket upgrades are the signalling hub's (signal-hub.ts).
 *
 * No request may throw out of the listener: whatever the handler throws or rejects with is logged
 * and answered 500.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cleanText } from '@gradroom/core';
import { staticFiles } from '../server/static.js';
import { type AddressLimiter, type RefusalLog, refuseForeign } from './access.js';
import type { ResolvedOptions, RoomInfo } from './server-options.js';
import { errText, pathOf } from './server-util.js';
import { constantTimeEqual, normalizeCode } from './tokens.js';

type FileHandler = ReturnType<typeof staticFiles>;

/** What the front needs of the rooms: counting an address's open rooms, and making one. */
export interface RoomDesk {
  roomsCreatedBy(ip: string): number;
  createRoom(base: string, creator: string): RoomInfo;
  tokenForCode(code: string): string | undefined;
}

export class HttpFront {
  private readonly files: FileHandler | null;
  private readonly data: FileHandler | null;

  /**
   * `allowed`: the host names room creation must name; `creations`: the per-address creation rate;
   * `listenUrl`: the server's own URL, once it listens; `addressOf`: the client address a request is
   * counted under.
   */
  constructor(
    private readonly opts: ResolvedOptions,
    private readonly desk: RoomDesk,
    private readonly refusals: RefusalLog,
    private readonly allowed: ReadonlySet<string>,
    private readonly creations: AddressLimiter,
    private readonly listenUrl: () => string,
    private readonly addressOf: (req: IncomingMessage) => string,
    /** Wrong short codes allowed per address (the creation rate's budget, its own buckets). */
    private readonly codeGuesses: AddressLimiter,
  ) {
    const onError = (line: string) => this.opts.log(line);
    this.files = opts.dist ? staticFiles(opts.dist, { onError }) : null;
    this.data = opts.data ? staticFiles(opts.data, { onError }) : null;
  }

  /** The HTTP server's 'request' listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    // handle is async: whatever it throws arrives here as a rejection
    this.handle(req, res).catch((e) => {
      this.opts.log(`HTTP ${cleanText(req.method, 16)} from ${req.socket.remoteAddress} failed: ${errText(e)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error');
    });
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    if (path === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request target');
      return;
    }
    if (path === '/api/rooms') {
      this.createRoom(req, res);
      return;
    }
    if (path.startsWith('/j/')) {
      this.joinByCode(req, res, path.slice(3));
      return;
    }
    if (this.data && path.startsWith('/datasets/')) {
      // the data folder holds only data sets: the prefix is cut, and the same confinement applies
      const inside = path.slice('/datasets'.length);
      if (inside !== '/' && (await this.data(req, res, inside))) return;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    if (this.files && (await this.files(req, res, path === '/' ? '/index.html' : path))) return;
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }

  /** Addresses out of code guesses, until when (ms): every lookup from them is refused meanwhile. */
  private readonly guessing = new Map<string, number>();

  /**
   * GET /j/CODE: 302 to the volunteer page with the room's token, on the origin the student typed.
   * A wrong code is a plain 404, the same as any unknown path. Wrong codes spend the address's
   * creation-rate budget (`codeGuesses`); once spent, every lookup from it, right or wrong, gets 429
   * until the wait is over, so guessing finds rooms no faster than the rate allows.
   */
  private joinByCode(req: IncomingMessage, res: ServerResponse, typed: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const ip = this.addressOf(req);
    const now = Date.now();
    const until = this.guessing.get(ip);
    const tooMany = (seconds: number) =>
      res
        .writeHead(429, { 'Content-Type': 'text/plain', 'Retry-After': String(Math.max(1, Math.ceil(seconds))) })
        .end('too many wrong room codes; try again later');
    if (until !== undefined && until > now) return void tooMany((until - now) / 1000);
    this.guessing.delete(ip);
    let code: string | null = null;
    try {
      code = normalizeCode(decodeURIComponent(typed));
    } catch {
      // a malformed escape is a wrong code like any other
    }
    const token = code ? this.desk.tokenForCode(code) : undefined;
    if (!token) {
      const rate = this.codeGuesses.take(ip);
      if (!rate.ok) {
        // bounded: expired entries go first, and a full map forgets the oldest
        if (this.guessing.size >= 10_000) for (const [k, t] of this.guessing) if (t <= now) this.guessing.delete(k);
        if (this.guessing.size >= 10_000) this.guessing.delete(this.guessing.keys().next().value as string);
        this.guessing.set(ip, now + rate.retryAfter * 1000);
        this.refusals.line(ip, `refused room-code lookups from ${ip}: too many wrong codes`);
        return void tooMany(rate.retryAfter);
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(302, {
        Location: `/volunteer.html#room=${token}`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      })
      .end();
  }

  private createRoom(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    const ip = this.addressOf(req);
    const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
      this.refusals.line(ip, `rejected a room creation from ${ip}: ${cleanText(error, 200)}`);
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify({ error }));
    };
    const foreign = refuseForeign(req.headers, this.allowed);
    if (foreign) return void refuse(403, foreign);
    const key = this.opts.roomKey;
    if (key && !constantTimeEqual(req.headers.authorization ?? '', `Bearer ${key}`)) {
      return void refuse(401, 'a room key is required');
    }
    const open = this.desk.roomsCreatedBy(ip);
    if (open >= this.opts.maxRoomsPerAddress) {
      return void refuse(429, `${open} rooms from this address are open already`, { 'Retry-After': '60' });
    }
    const rate = this.creations.take(ip);
    if (!rate.ok)
      return void refuse(429, 'too many rooms created; try again later', { 'Retry-After': String(rate.retryAfter) });
    try {
      // the Host was checked above, so a link built on it names this server as the creator reached it
      const base = this.opts.publicUrl ?? (this.allowed.has('*') ? this.listenUrl() : `http://${req.headers.host}`);
      const room = this.desk.createRoom(base, ip);
      res
        .writeHead(201, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(JSON.stringify({ ...room, wsUrl: `${base.replace(/^http/, 'ws')}/ws` }));
    } catch (e) {
      res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: (e as Error).message }));
    }
  }
}
