/**
 * The signalling hub: WebSocket admission (path, Host/Origin, connections per address), rooms and
 * their members, join/host handshakes, WebRTC signalling between a room's host and its members, the
 * host's kicks and bans, the relay for members that cannot connect directly, and the heartbeat.
 *
 * Trust: every WebSocket must present a room token (or, for the coordinator, the room's host key)
 * in its first message within joinTimeoutMs; anything else is rejected, logged and disconnected, so
 * a peer without the token never reaches the coordinator. Volunteers talk to their room's host and
 * to nobody else. Each connection has a message size limit (control messages and relayed chunks),
 * token-bucket rate limits, and a ping heartbeat; each room a member limit. Control messages are
 * checked field by field (signal-check.ts). The host's kicks free a seat at once; a kick with
 * ban refuses the member's identity key for the room's life and its address for banMs.
 *
 * No listener may throw: every entry point (upgrade, message, close, heartbeat) runs inside guard().
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  addRoute,
  CLOSE,
  type ClientMessage,
  cleanText,
  type IceServer,
  parseClientMessage,
  type ServerMessage,
  splitRoute,
} from '@gradroom/core';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { Bucket, type RefusalLog, refuseForeign } from './access.js';
import type { ResolvedOptions, RoomInfo } from './server-options.js';
import { closeReason, errText, guard, hashToken, pathOf, refuseUpgrade } from './server-util.js';
import { banReason, type Conn, cleanName, newRoom, type Room, recordBan } from './signal-room.js';
import { constantTimeEqual, randomCode, randomToken } from './tokens.js';
import { withTurnCredentials } from './turn.js';

export class SignalHub {
  /** Open rooms by the hash of their token. */
  readonly rooms = new Map<string, Room>();
  /** Open WebSockets per address. */
  private readonly perAddress = new Map<string, number>();
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private heartbeat?: ReturnType<typeof setInterval>;
  private nextPeer = 0;

  /**
   * `refusals`: the server's rate-limited log of refusals; `allowed`: the host names upgrades must
   * name; `addressOf`: the client address a request is counted and banned under.
   */
  constructor(
    private readonly opts: ResolvedOptions,
    private readonly refusals: RefusalLog,
    private readonly allowed: ReadonlySet<string>,
    private readonly addressOf: (req: IncomingMessage) => string,
  ) {
    // maxPayload covers a relayed chunk plus the host's route prefix; ws closes bigger frames (1009)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.opts.maxChunk + 256 });
  }

  /** Starts the heartbeat (once the server listens). */
  start(): void {
    this.heartbeat = setInterval(() => this.ping(), this.opts.heartbeatMs);
  }

  /** Stops the heartbeat and ends every connection. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
  }

  private guard(where: string, body: () => void, answer?: () => void): void {
    guard(this.opts.log, where, body, answer);
  }

  /** The HTTP server's 'upgrade' listener. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    // a client resetting mid-handshake is not our error; without a listener it would be thrown
    socket.on('error', () => {});
    this.guard(
      'upgrade',
      () => this.onUpgrade(req, socket, head),
      () => refuseUpgrade(socket, 500, 'internal error'),
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const ip = this.addressOf(req);
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
        () => this.onConnection(ws, ip),
        () => ws.terminate(),
      ),
    );
  }

  /** Rooms that `ip` created over HTTP and that are still open. */
  roomsCreatedBy(ip: string): number {
    let n = 0;
    for (const r of this.rooms.values()) if (r.creator === ip) n++;
    return n;
  }

  /**
   * Creates a room with fresh secrets; its join link starts with `base`.
   * `creator`: the address that asked over HTTP, counted against maxRoomsPerAddress.
   */
  createRoom(base: string, creator?: string): RoomInfo {
    if (this.rooms.size >= this.opts.maxRooms) throw new Error(`room limit reached (${this.opts.maxRooms})`);
    const token = randomToken();
    const hostKey = randomToken();
    const key = hashToken(token);
    const label = key.slice(0, 8);
    let code = randomCode();
    // a collision among at most maxRooms codes in 8.9e8 is rare; bounded retries all the same
    for (let i = 0; i < 16 && this.codes.has(code); i++) code = randomCode();
    if (this.codes.has(code)) throw new Error('no free room code; try again');
    this.rooms.set(key, newRoom(label, hostKey, creator));
    this.codes.set(code, token);
    this.codeOf.set(key, code);
    this.opts.log(`[room ${label}] created${creator ? ` for ${creator}` : ''}`);
    return {
      token,
      hostKey,
      label,
      joinUrl: `${base}/volunteer.html#room=${token}`,
      code,
      shortUrl: `${base}/j/${code}`,
    };
  }

  /** Short room codes to tokens, and each room's code (by its key), for GET /j/CODE. */
  private readonly codes = new Map<string, string>();
  private readonly codeOf = new Map<string, string>();

  /** The token of the open room with this short code (as stored: normalizeCode), if any. */
  tokenForCode(code: string): string | undefined {
    return this.codes.get(code);
  }

  /** A room is gone: so is its code. */
  private forgetCode(key: string): void {
    const code = this.codeOf.get(key);
    if (code !== undefined) this.codes.delete(code);
    this.codeOf.delete(key);
  }

  /** Closes a room: its host and members are disconnected. */
  closeRoom(token: string, reason: string): void {
    const key = hashToken(token);
    const room = this.rooms.get(key);
    if (!room) return;
    this.rooms.delete(key);
    this.forgetCode(key);
    for (const m of room.members.values()) this.drop(m, CLOSE.hostGone, reason);
    if (room.host) this.drop(room.host, CLOSE.hostGone, reason);
    this.opts.log(`[room ${room.label}] closed: ${reason}`);
  }

  private onConnection(ws: WebSocket, ip: string): void {
    const c: Conn = {
      ws,
      ip,
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
      this.forgetCode(key);
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
    if (ban) recordBan(room, to, this.opts.banMs);
    this.left(to, `removed by the coordinator: ${reason}`, false);
    this.drop(to, CLOSE.kicked, `removed by the coordinator: ${reason}`);
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
    const ban = banReason(room, c.ip, m.key);
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

  /** The ICE servers for one connection: with its own short-lived TURN credentials when turnSecret is set. */
  private iceFor(name: string): IceServer[] {
    return withTurnCredentials(this.opts.iceServers, this.opts.turnSecret, name, this.opts.turnTtlSeconds);
  }

  /** `tellHost`: false when the host itself removed the member (it knows already). */
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
