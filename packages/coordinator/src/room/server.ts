/**
 * The room server: one Node process that serves the web app (the demo's dist, with the volunteer
 * page and the worker bundle), creates rooms, and relays WebRTC signalling, and when peers cannot
 * connect directly their traffic, between the members of one room only.
 *
 * This class is a facade over two parts, each with one job:
 * - http-front.ts: the HTTP requests (room creation, /datasets/, static files);
 * - signal-hub.ts: the WebSockets (admission, rooms, signalling, kicks and bans, the relay).
 * It owns what both share: the options (server-options.ts), the host names requests must name,
 * the client address of a request (client-address.ts), the log of refusals, and the listening socket.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AddressLimiter, normalizeHost, ownHostNames, RefusalLog } from './access.js';
import { clientAddress, trustedProxies } from './client-address.js';
import { HttpFront } from './http-front.js';
import { type ResolvedOptions, type RoomInfo, type RoomServerOptions, resolveOptions } from './server-options.js';
import { errText } from './server-util.js';
import { SignalHub } from './signal-hub.js';
import type { Room } from './signal-room.js';

export type { RateLimit } from './access.js';
export type { RoomInfo, RoomServerOptions } from './server-options.js';
export { closeReason, pathOf } from './server-util.js';

export class RoomServer {
  private readonly opts: ResolvedOptions;
  private readonly hub: SignalHub;
  private readonly http: Server;
  private _url = '';

  private constructor(opts: RoomServerOptions) {
    this.opts = resolveOptions(opts);
    const allowed: ReadonlySet<string> = new Set(
      (opts.allowedHosts ?? ownHostNames(this.opts.host, this.opts.publicUrl)).map((h) =>
        h === '*' ? h : normalizeHost(h),
      ),
    );
    // refusals are logged at most 20 at once then 2 a second per address, over HTTP and WebSockets alike
    const refusals = new RefusalLog((line) => this.opts.log(line));
    // the address every per-address limit and ban uses: the socket's, or a trusted proxy's word
    const addressOf = clientAddress(trustedProxies(this.opts.trustProxy ?? []));
    this.hub = new SignalHub(this.opts, refusals, allowed, addressOf);
    const front = new HttpFront(
      this.opts,
      this.hub,
      refusals,
      allowed,
      new AddressLimiter(this.opts.createRate),
      () => this._url,
      addressOf,
      new AddressLimiter(this.opts.createRate),
    );
    this.http = createServer(front.listener);
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.hub.upgrade(req, socket, head),
    );
  }

  static async start(opts: RoomServerOptions = {}): Promise<RoomServer> {
    const s = new RoomServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(s.opts.port, s.opts.host, () => resolve());
    });
    // after listening, a server error (an accept that failed) is logged; unheard, it would end the process
    s.http.on('error', (e) => s.opts.log(`server error: ${errText(e)}`));
    const addr = s.http.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    s._url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
    s.hub.start();
    s.opts.log(`room server listening on ${s._url}${s.opts.dist ? `, serving ${s.opts.dist}` : ''}`);
    return s;
  }

  /** Open rooms by the hash of their token. */
  get rooms(): Map<string, Room> {
    return this.hub.rooms;
  }

  /** http://host:port */
  get url(): string {
    return this._url;
  }

  /** ws://host:port/ws, where hosts and volunteers connect. */
  get wsUrl(): string {
    return `${this._url.replace(/^http/, 'ws')}/ws`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** The base of join links: publicUrl, else the listen URL. */
  get publicUrl(): string {
    return this.opts.publicUrl ?? this._url;
  }

  /**
   * Creates a room with fresh secrets; its join link starts with `base` (default publicUrl).
   * `creator`: the address that asked over HTTP, counted against maxRoomsPerAddress.
   */
  createRoom(base = this.publicUrl, creator?: string): RoomInfo {
    return this.hub.createRoom(base, creator);
  }

  /** Closes a room: its host and members are disconnected. */
  closeRoom(token: string, reason = 'room closed'): void {
    this.hub.closeRoom(token, reason);
  }

  async close(): Promise<void> {
    this.hub.close();
    await new Promise<void>((resolve) => {
      this.http.closeAllConnections();
      this.http.close(() => resolve());
    });
  }
}
