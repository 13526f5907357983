/**
 * The room server: one Node process that serves the web app (the demo's dist, with the volunteer
 * page and the worker bundle), creates rooms, and relays WebRTC signalling, and when peers cannot
 * connect directly their traffic, between the members of one room only.
 *
 * Trust: every WebSocket must present a room token (or, for the coordinator, the room's host key)
 * in its first message within joinTimeoutMs; anything else is rejected, logged and disconnected, so
 * a peer without the token never reaches the coordinator. Volunteers talk to their room's host and
 * to nobody else. Each connection has a message size limit (control messages and relayed chunks),
 * token-bucket rate limits, and a ping heartbeat; each room a member limit. Control messages are
 * checked field by field (signal-check.ts). Room creation and upgrades must name this server
 * (access.ts: Host/Origin, per-address limits). The host's kicks free a seat at once; a kick with
 * ban refuses the member's identity key for the room's life and its address for banMs.
 *
 * No listener may throw: every entry point (request, upgrade, message, close, heartbeat) runs
 * inside guard(), which logs and answers, since an exception out of a listener ends the process.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  addRoute,
  CLOSE,
  type ClientMessage,
  cleanText,
  type IceServer,
  parseClientMessage,
  type ServerMessage,
  splitRoute,
  WEBRTC_MAX_MESSAGE_BYTES,
} from '@gradroom/core';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { staticFiles } from '../server/static.js';
import {
  AddressLimiter,
  Bucket,
  normalizeHost,
  ownHostNames,
  type RateLimit,
  RefusalLog,
  refuseForeign,
} from './access.js';
import { constantTimeEqual, randomToken } from './tokens.js';
import { withTurnCredentials } from './turn.js';

export type { RateLimit };

export interface RoomServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** Folder of the built web app to serve (apps/demo/dist); none: only rooms. */
  dist?: string;
  /**
   * A folder of packed data sets (gradroom pack-data) served under /datasets/, with the same path
   * rules as the web app: a host names them as `{ kind: 'url', url: '/datasets/NAME.bin', sha256 }`.
   */
  data?: string;
  /** STUN/TURN servers handed to every member (default none: enough on one machine or a LAN). */
  iceServers?: IceServer[];
  /**
   * The secret shared with coturn (`use-auth-secret`, `static-auth-secret`): each member and host
   * gets its own credentials for every TURN entry of iceServers that has none, valid turnTtlSeconds.
   */
  turnSecret?: string;
  /** Lifetime of minted TURN credentials (default 12 h: a long run's reconnects stay covered). */
  turnTtlSeconds?: number;
  /** When set, POST /api/rooms needs `Authorization: Bearer <roomKey>`. */
  roomKey?: string;
  /**
   * The URL users reach this server by (behind a proxy, or a name of its own): join links and the
   * WebSocket URL given to hosts use it, and its host name is one of allowedHosts' defaults.
   */
  publicUrl?: string;
  /**
   * Host names that POST /api/rooms and WebSocket upgrades must name (Host header, and Origin when
   * sent); anything else is refused (403), which stops DNS-rebinding pages. Default: see
   * ownHostNames (the listen host, localhost, 127.0.0.1, ::1, publicUrl's host; on 0.0.0.0 every
   * interface's address and the machine's name). ['*'] turns the check off.
   */
  allowedHosts?: string[];
  /** Room creations over HTTP per address (default 10 at once, then one per 6 s). */
  createRate?: RateLimit;
  /** Open rooms created over HTTP by one address (default 10). */
  maxRoomsPerAddress?: number;
  /**
   * Open WebSockets from one address (default 200: a classroom behind one NAT fits, a single
   * machine cannot hold the server's sockets); more are refused with 429.
   */
  maxConnectionsPerAddress?: number;
  maxRooms?: number;
  /** A room without a coordinator for this long is closed, so abandoned rooms free their place (default 10 min). */
  roomIdleMs?: number;
  maxPeersPerRoom?: number;
  /** Largest JSON control message (default 64 KiB). */
  maxControlBytes?: number;
  /** Largest relayed chunk (default WEBRTC_MAX_MESSAGE_BYTES, a data channel's largest message). */
  maxChunk?: number;
  controlRate?: RateLimit;
  relayRate?: RateLimit;
  /** WebSocket ping interval; a connection that misses one pong is dropped (default 15 s). */
  heartbeatMs?: number;
  /** Time a new connection has to send join/host (default 10 s). */
  joinTimeoutMs?: number;
  /** Relay backpressure: pause a sender while its receiver has more than this buffered (default 4 MiB). */
  relayHighWater?: number;
  /**
   * After the host bans a member (a kick with ban: it broke the rules), joins from its address are
   * refused for this long (default 0: off, since members behind one NAT or proxy share an address;
   * `gradroom serve` sets 60 s). Its identity key, when it sent one, is refused for the room's life.
   */
  banMs?: number;
  /** Log lines (joins, leaves, rejections); default console.log with a timestamp. */
  log?: (line: string) => void;
}

export interface RoomInfo {
  /** The secret that lets volunteers join; it travels in the join link. */
  token: string;
  /** The secret the coordinator presents to host the room. */
  hostKey: string;
  /** A short, non-secret label for logs. */
  label: string;
  /** The volunteer page's link, token included. */
  joinUrl: string;
}

interface Conn {
  ws: WebSocket;
  ip: string;
  alive: boolean;
  role?: 'host' | 'member';
  room?: Room;
  id?: string;
  name?: string;
  relay?: boolean;
  /** The identity key the member joined with, if any. */
  key?: string;
  control: Bucket;
  binary: Bucket;
}

interface Room {
  label: string;
  hostKey: string;
  host?: Conn;
  members: Map<string, Conn>;
  created: number;
  /** Since when the room has had no coordinator (undefined while one is connected). */
  idleSince?: number;
  /** Identity keys of members the host banned: refused for the room's life. */
  bannedKeys: Set<string>;
  /** Addresses of members the host banned, and until when they are refused. */
  bannedAddresses: Map<string, number>;
  /** The address that created the room over HTTP. */
  creator?: string;
}

/** An error's message, made safe for a log line. */
function errText(e: unknown): string {
  return cleanText(e instanceof Error ? e.message : String(e), 200) || 'unknown error';
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The path of a request target, or null when it is not origin-form ('/...'). Parsed against a fixed
 * origin so that '//' or '//host/ws' stay paths here instead of naming another host.
 */
export function pathOf(target: string | undefined): string | null {
  if (!target?.startsWith('/')) return null;
  try {
    return new URL(`http://x${target}`).pathname;
  } catch {
    return null;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** Answers an upgrade request that will not become a WebSocket, then closes the socket. */
function refuseUpgrade(socket: Socket, status: number, reason: string): void {
  if (socket.destroyed) return;
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroySoon();
}

/** A WebSocket close reason: at most 123 bytes of UTF-8 (ws throws on more), cut between characters. */
export function closeReason(s: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > 123) break;
    out += ch;
  }
  return out;
}

/** Names shown in logs and to the host: no control characters, short. */
function cleanName(s: string | undefined): string {
  return cleanText(s, 40) || 'volunteer';
}

export class RoomServer {
  readonly rooms = new Map<string, Room>();
  private readonly opts: Required<
    Omit<RoomServerOptions, 'dist' | 'data' | 'roomKey' | 'publicUrl' | 'allowedHosts' | 'turnSecret'>
  > &
    Pick<RoomServerOptions, 'dist' | 'data' | 'roomKey' | 'publicUrl' | 'turnSecret'>;
  private readonly allowed: ReadonlySet<string>;
  private readonly creations: AddressLimiter;
  /** Refusals are logged at most 20 at once then 2 a second per address. */
  private readonly refusals: RefusalLog;
  /** Open WebSockets per address. */
  private readonly perAddress = new Map<string, number>();
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private heartbeat?: ReturnType<typeof setInterval>;
  private nextPeer = 0;
  private _url = '';

  private constructor(opts: RoomServerOptions) {
    this.opts = {
      host: '127.0.0.1',
      port: 8080,
      iceServers: [],
      maxRooms: 100,
      roomIdleMs: 10 * 60_000,
      maxPeersPerRoom: 64,
      maxControlBytes: 64 * 1024,
      maxChunk: WEBRTC_MAX_MESSAGE_BYTES,
      controlRate: { perSecond: 50, burst: 200 },
      relayRate: { perSecond: 5000, burst: 10000 },
      heartbeatMs: 15_000,
      joinTimeoutMs: 10_000,
      relayHighWater: 4 * 1024 * 1024,
      banMs: 0,
      turnTtlSeconds: 12 * 3600,
      createRate: { perSecond: 1 / 6, burst: 10 },
      maxRoomsPerAddress: 10,
      maxConnectionsPerAddress: 200,
      log: (line) => console.log(`${new Date().toISOString()} ${line}`),
      ...opts,
    };
    if (this.opts.publicUrl !== undefined) {
      const u = new URL(this.opts.publicUrl); // throws on a malformed URL: a configuration error
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('publicUrl must be an http(s) URL');
      this.opts.publicUrl = u.origin + u.pathname.replace(/\/+$/, '');
    }
    this.allowed = new Set(
      (opts.allowedHosts ?? ownHostNames(this.opts.host, this.opts.publicUrl)).map((h) =>
        h === '*' ? h : normalizeHost(h),
      ),
    );
    this.creations = new AddressLimiter(this.opts.createRate);
    this.refusals = new RefusalLog((line) => this.opts.log(line));
    const files = opts.dist ? staticFiles(opts.dist, { onError: (line) => this.opts.log(line) }) : null;
    const data = opts.data ? staticFiles(opts.data, { onError: (line) => this.opts.log(line) }) : null;
    this.http = createServer((req, res) => {
      // onHttp is async: whatever it throws arrives here as a rejection
      this.onHttp(req, res, files, data).catch((e) => {
        this.opts.log(`HTTP ${cleanText(req.method, 16)} from ${req.socket.remoteAddress} failed: ${errText(e)}`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('internal error');
      });
    });
    // maxPayload covers a relayed chunk plus the host's route prefix; ws closes bigger frames (1009)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.opts.maxChunk + 256 });
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      // a client resetting mid-handshake is not our error; without a listener it would be thrown
      socket.on('error', () => {});
      this.guard(
        'upgrade',
        () => this.onUpgrade(req, socket, head),
        () => refuseUpgrade(socket, 500, 'internal error'),
      );
    });
  }

  /**
   * Runs a listener's body: whatever it throws is logged and `answer` runs, so no listener can
   * throw (an exception out of an event listener would end the process).
   */
  private guard(where: string, body: () => void, answer?: () => void): void {
    try {
      body();
    } catch (e) {
      try {
        this.opts.log(`${where} failed: ${errText(e)}`);
        answer?.();
      } catch {
        // the log or the answer failed too; nothing more to do for this event
      }
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const ip = req.socket.remoteAddress ?? '?';
    const path = pathOf(req.url);
    if (path !== '/ws') {
      this.refusals.line(ip, `refused a WebSocket upgrade from ${ip} for ${JSON.stringify(cleanText(req.url, 80))}`);
      refuseUpgrade(socket, path === null ? 400 : 404, path === null ? 'bad request target' : 'not found');
      return;
    }
    const foreign = refuseForeign(req.headers, this.allowed);
    if (foreign) {
      this.refusals.line(ip, `refused a WebSocket upgrade from ${ip}: ${cleanText(foreign, 200)}`);
      refuseUpgrade(socket, 403, foreign);
      return;
    }
    const open = this.perAddress.get(ip) ?? 0;
    if (open >= this.opts.maxConnectionsPerAddress) {
      this.refusals.line(ip, `refused a WebSocket upgrade from ${ip}: ${open} connections from it are open`);
      refuseUpgrade(socket, 429, 'too many connections from this address');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.guard(
        'connection',
        () => this.onConnection(ws, req),
        () => ws.terminate(),
      ),
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
    s.heartbeat = setInterval(() => s.ping(), s.opts.heartbeatMs);
    s.opts.log(`room server listening on ${s._url}${s.opts.dist ? `, serving ${s.opts.dist}` : ''}`);
    return s;
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
    if (this.rooms.size >= this.opts.maxRooms) throw new Error(`room limit reached (${this.opts.maxRooms})`);
    const token = randomToken();
    const hostKey = randomToken();
    const key = hashToken(token);
    const label = key.slice(0, 8);
    this.rooms.set(key, {
      label,
      hostKey,
      members: new Map(),
      created: Date.now(),
      idleSince: Date.now(),
      bannedKeys: new Set(),
      bannedAddresses: new Map(),
      creator,
    });
    this.opts.log(`[room ${label}] created${creator ? ` for ${creator}` : ''}`);
    return { token, hostKey, label, joinUrl: `${base}/volunteer.html#room=${token}` };
  }

  /** Closes a room: its host and members are disconnected. */
  closeRoom(token: string, reason = 'room closed'): void {
    const key = hashToken(token);
    const room = this.rooms.get(key);
    if (!room) return;
    this.rooms.delete(key);
    for (const m of room.members.values()) this.drop(m, CLOSE.hostGone, reason);
    if (room.host) this.drop(room.host, CLOSE.hostGone, reason);
    this.opts.log(`[room ${room.label}] closed: ${reason}`);
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.closeAllConnections();
      this.http.close(() => resolve());
    });
  }

  private async onHttp(
    req: IncomingMessage,
    res: ServerResponse,
    files: ReturnType<typeof staticFiles> | null,
    data: ReturnType<typeof staticFiles> | null = null,
  ): Promise<void> {
    const path = pathOf(req.url);
    if (path === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request target');
      return;
    }
    if (path === '/api/rooms') {
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' }).end();
        return;
      }
      const ip = req.socket.remoteAddress ?? '?';
      const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
        this.refusals.line(ip, `rejected a room creation from ${ip}: ${cleanText(error, 200)}`);
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify({ error }));
      };
      const foreign = refuseForeign(req.headers, this.allowed);
      if (foreign) return refuse(403, foreign);
      const key = this.opts.roomKey;
      if (key && !constantTimeEqual(req.headers.authorization ?? '', `Bearer ${key}`)) {
        return refuse(401, 'a room key is required');
      }
      const open = [...this.rooms.values()].filter((r) => r.creator === ip).length;
      if (open >= this.opts.maxRoomsPerAddress) {
        return refuse(429, `${open} rooms from this address are open already`, { 'Retry-After': '60' });
      }
      const rate = this.creations.take(ip);
      if (!rate.ok)
        return refuse(429, 'too many rooms created; try again later', { 'Retry-After': String(rate.retryAfter) });
      try {
        // the Host was checked above, so a link built on it names this server as the creator reached it
        const base = this.opts.publicUrl ?? (this.allowed.has('*') ? this._url : `http://${req.headers.host}`);
        const room = this.createRoom(base, ip);
        res
          .writeHead(201, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
          .end(JSON.stringify({ ...room, wsUrl: `${base.replace(/^http/, 'ws')}/ws` }));
      } catch (e) {
        res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: (e as Error).message }));
      }
      return;
    }
    if (data && path.startsWith('/datasets/')) {
      // the data folder holds only data sets: the prefix is cut, and the same confinement applies
      req.url = (req.url ?? '').slice('/datasets'.length);
      if (path !== '/datasets/' && (await data(req, res))) return;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    if (path === '/' && files) {
      req.url = '/index.html';
    }
    if (files && (await files(req, res))) return;
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const c: Conn = {
      ws,
      ip: req.socket.remoteAddress ?? '?',
      alive: true,
      control: new Bucket(this.opts.controlRate),
      binary: new Bucket(this.opts.relayRate),
    };
    this.conns.add(c);
    this.perAddress.set(c.ip, (this.perAddress.get(c.ip) ?? 0) + 1);
    const joinTimer = setTimeout(() => {
      if (!c.role) this.reject(c, 'no join message in time', CLOSE.timeout);
    }, this.opts.joinTimeoutMs);
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) =>
      this.guard(
        `message from ${this.who(c)}`,
        () => this.onMessage(c, data, isBinary),
        () => this.reject(c, 'the server could not handle a message', CLOSE.bad),
      ),
    );
    let error = '';
    ws.on('error', (e: Error & { code?: string }) => {
      error = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'sent a message over the size limit' : errText(e);
    });
    ws.on('close', (code, reason) =>
      this.guard(`close of ${this.who(c)}`, () => {
        clearTimeout(joinTimer);
        this.conns.delete(c);
        const n = (this.perAddress.get(c.ip) ?? 1) - 1;
        if (n > 0) this.perAddress.set(c.ip, n);
        else this.perAddress.delete(c.ip);
        this.left(c, error || cleanText(reason.toString(), 120) || `closed (${code})`);
      }),
    );
  }

  private ping(): void {
    this.guard('heartbeat', () => this.pingAll());
  }

  private pingAll(): void {
    const now = Date.now();
    for (const [key, room] of this.rooms) {
      if (room.host || room.idleSince === undefined || now - room.idleSince < this.opts.roomIdleMs) continue;
      this.rooms.delete(key);
      for (const m of room.members.values()) this.drop(m, CLOSE.hostGone, 'the room expired');
      this.opts.log(`[room ${room.label}] expired: no coordinator for ${Math.round((now - room.idleSince) / 1000)} s`);
    }
    for (const c of this.conns) {
      if (!c.alive) {
        this.opts.log(`${this.who(c)} heartbeat timeout`);
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  private who(c: Conn): string {
    const room = c.room ? `[room ${c.room.label}] ` : '';
    return `${room}${c.role === 'host' ? 'host' : c.id ? `${c.id} (${c.name})` : 'connection'} from ${c.ip}`;
  }

  private send(c: Conn, m: ServerMessage): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(m));
  }

  private drop(c: Conn, code: number, reason: string): void {
    if (c.ws.readyState === WebSocket.OPEN) this.send(c, { t: 'closed', reason });
    c.ws.close(code, closeReason(reason));
  }

  private reject(c: Conn, reason: string, code: number = CLOSE.rejected): void {
    this.refusals.line(c.ip, `${this.who(c)} rejected: ${reason}`);
    this.send(c, { t: 'rejected', reason });
    c.ws.close(code, closeReason(reason));
  }

  private onMessage(c: Conn, data: RawData, isBinary: boolean): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (!c.binary.take()) {
        this.reject(c, 'relay rate limit exceeded', CLOSE.limit);
        return;
      }
      this.relay(c, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    if (!c.control.take()) {
      this.reject(c, 'message rate limit exceeded', CLOSE.limit);
      return;
    }
    if (bytes.length > this.opts.maxControlBytes) {
      this.reject(c, `control message over ${this.opts.maxControlBytes} bytes`, CLOSE.limit);
      return;
    }
    let m: ClientMessage;
    try {
      m = parseClientMessage(bytes.toString('utf8'), this.opts.maxControlBytes);
    } catch (e) {
      this.reject(c, `malformed control message: ${errText(e)}`, CLOSE.bad);
      return;
    }
    if (!c.role) {
      if (m.t === 'join') {
        this.join(c, m);
        return;
      }
      if (m.t === 'host') {
        this.host(c, m.token, m.hostKey);
        return;
      }
      this.reject(c, `'${m.t}' before joining a room`);
      return;
    }
    const room = c.room as Room;
    if (m.t === 'join' || m.t === 'host') {
      this.reject(c, 'joined twice', CLOSE.bad);
      return;
    }
    if (c.role === 'member') {
      if (m.t === 'signal') {
        if (room.host) this.send(room.host, { t: 'signal', from: c.id as string, data: m.data });
      } else if (m.t === 'relay') {
        if (!c.relay) {
          c.relay = true;
          this.opts.log(`${this.who(c)} uses the relay`);
          if (room.host) this.send(room.host, { t: 'relay', from: c.id as string });
        }
      } else {
        this.reject(c, `'${m.t}' is for the room's host only`, CLOSE.bad);
        return;
      }
      return;
    }
    // the host
    if (m.t === 'signal') {
      const to = m.to ? room.members.get(m.to) : undefined;
      if (to) this.send(to, { t: 'signal', from: 'host', data: m.data });
    } else if (m.t === 'kick') {
      const to = room.members.get(m.peer);
      if (to) this.kick(room, to, cleanText(m.reason, 200), m.ban === true);
    }
  }

  /**
   * The host removes a member. Its seat is free at once (it leaves `members` now, not when its
   * socket finally closes). With `ban` (the member broke the rules), its identity key may not join
   * this room again while the room lives, and its address may not for banMs.
   */
  private kick(room: Room, to: Conn, reason: string, ban: boolean): void {
    this.opts.log(`${this.who(to)} removed by the host${ban ? ' and banned' : ''}: ${reason}`);
    if (ban) {
      if (to.key) room.bannedKeys.add(to.key);
      if (this.opts.banMs > 0) room.bannedAddresses.set(to.ip, Date.now() + this.opts.banMs);
    }
    this.left(to, `removed by the coordinator: ${reason}`, false);
    this.drop(to, CLOSE.kicked, `removed by the coordinator: ${reason}`);
  }

  /** Why `c` may not join `room` now, or null. */
  private banned(room: Room, c: Conn, key: string | undefined): string | null {
    if (key && room.bannedKeys.has(key)) return 'you were removed from this room';
    const until = room.bannedAddresses.get(c.ip);
    if (until === undefined) return null;
    if (Date.now() < until)
      return `your address was removed from this room; try again in ${Math.ceil((until - Date.now()) / 1000)} s`;
    room.bannedAddresses.delete(c.ip);
    return null;
  }

  private join(c: Conn, m: Extract<ClientMessage, { t: 'join' }>): void {
    const room = this.rooms.get(hashToken(m.token));
    if (!room) {
      this.reject(c, 'unknown room or wrong token');
      return;
    }
    c.room = room;
    if (!room.host) {
      this.reject(c, "the room's coordinator is not connected");
      return;
    }
    const ban = this.banned(room, c, m.key);
    if (ban) {
      this.reject(c, ban);
      return;
    }
    if (room.members.size >= this.opts.maxPeersPerRoom) {
      this.reject(c, 'the room is full');
      return;
    }
    c.role = 'member';
    c.id = `p${++this.nextPeer}`;
    c.name = cleanName(m.name);
    c.key = m.key;
    room.members.set(c.id, c);
    this.opts.log(`${this.who(c)} joined`);
    this.send(c, { t: 'joined', peerId: c.id, iceServers: this.iceFor(c.id), maxChunk: this.opts.maxChunk });
    this.send(room.host, { t: 'peer', peerId: c.id, name: c.name });
  }

  private host(c: Conn, token: string, hostKey: string): void {
    const room = this.rooms.get(hashToken(token));
    if (!room || !constantTimeEqual(hostKey, room.hostKey)) {
      this.reject(c, 'unknown room or wrong host key');
      return;
    }
    c.room = room;
    if (room.host) {
      this.reject(c, 'the room already has a coordinator');
      return;
    }
    c.role = 'host';
    room.host = c;
    room.idleSince = undefined;
    this.opts.log(`${this.who(c)} hosts the room`);
    this.send(c, { t: 'hosting', iceServers: this.iceFor(`host-${room.label}`), maxChunk: this.opts.maxChunk });
  }

  /** `tellHost`: false when the host itself removed the member (it knows already). */
  /** The ICE servers for one connection: with its own short-lived TURN credentials when turnSecret is set. */
  private iceFor(name: string): IceServer[] {
    return withTurnCredentials(this.opts.iceServers, this.opts.turnSecret, name, this.opts.turnTtlSeconds);
  }

  private left(c: Conn, reason: string, tellHost = true): void {
    const room = c.room;
    if (!room || !c.role) return;
    if (c.role === 'member' && c.id && room.members.get(c.id) === c) {
      room.members.delete(c.id);
      if (tellHost) this.opts.log(`${this.who(c)} left: ${reason}`);
      if (room.host && tellHost) this.send(room.host, { t: 'gone', peerId: c.id, reason });
    } else if (c.role === 'host' && room.host === c) {
      room.host = undefined;
      room.idleSince = Date.now();
      this.opts.log(`${this.who(c)} left: ${reason}`);
      for (const m of room.members.values()) this.drop(m, CLOSE.hostGone, 'the coordinator left');
    }
  }

  /** Forwards a relayed chunk between a member that asked for the relay and its host. */
  private relay(c: Conn, data: Uint8Array): void {
    const room = c.room;
    if (!room || !c.role) {
      this.reject(c, 'binary data before joining a room');
      return;
    }
    if (c.role === 'member') {
      if (!c.relay) {
        this.reject(c, 'relay data without asking for the relay', CLOSE.bad);
        return;
      }
      if (data.length > this.opts.maxChunk) {
        this.reject(c, 'relayed chunk over the size limit', CLOSE.limit);
        return;
      }
      if (room.host) this.forward(c, room.host, addRoute(c.id as string, data));
      return;
    }
    const r = splitRoute(data);
    if (!r || r.chunk.length > this.opts.maxChunk) return; // the host's own bug; nothing to forward
    const to = room.members.get(r.id);
    if (to?.relay) this.forward(c, to, r.chunk);
  }

  private forward(from: Conn, to: Conn, data: Uint8Array): void {
    if (to.ws.readyState !== WebSocket.OPEN) return;
    to.ws.send(data, { binary: true });
    if (to.ws.bufferedAmount > this.opts.relayHighWater && !from.ws.isPaused) {
      from.ws.pause();
      const wait = () => {
        if (to.ws.readyState !== WebSocket.OPEN || to.ws.bufferedAmount <= this.opts.relayHighWater / 4)
          from.ws.resume();
        else setTimeout(wait, 5);
      };
      setTimeout(wait, 5);
    }
  }
}
