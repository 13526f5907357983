/**
 * The room server's options, their defaults, and the one place they are resolved (RoomServer's
 * facade, the HTTP front and the signalling hub all read the resolved form).
 */

import type { IceServer } from '@gradroom/core';
import { WEBRTC_MAX_MESSAGE_BYTES } from '@gradroom/core';
import type { RateLimit } from './access.js';

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
  /**
   * Addresses of reverse proxies in front of this server (IP addresses). A request whose socket
   * comes from one of them counts as coming from the address its X-Forwarded-For names (the
   * rightmost that is not a trusted proxy), for every per-address limit and ban; from any other
   * socket the header is ignored. Default none: behind a proxy, every user then shares its address.
   */
  trustProxy?: string[];
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
  /** A short code for the room (6 letters and digits, no ambiguous ones), gone with the room. */
  code: string;
  /** `${base}/j/${code}`: redirects to joinUrl; short enough to type on a phone. */
  shortUrl: string;
}

/** Options with their defaults filled in; the optional ones stay optional. */
type Optional = 'dist' | 'data' | 'roomKey' | 'publicUrl' | 'allowedHosts' | 'turnSecret' | 'trustProxy';
export type ResolvedOptions = Required<Omit<RoomServerOptions, Optional>> & Pick<RoomServerOptions, Optional>;

/** Fills in the defaults and normalizes publicUrl; throws on a malformed publicUrl (a configuration error). */
export function resolveOptions(opts: RoomServerOptions): ResolvedOptions {
  const o: ResolvedOptions = {
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
  if (o.publicUrl !== undefined) {
    const u = new URL(o.publicUrl); // throws on a malformed URL: a configuration error
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('publicUrl must be an http(s) URL');
    o.publicUrl = u.origin + u.pathname.replace(/\/+$/, '');
  }
  return o;
}
