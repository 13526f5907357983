/**
 * The room server's WebSocket protocol, shared by the server, the room host and volunteers.
 *
 * Text frames carry JSON control messages (below). Binary frames carry relayed channel chunks for
 * peers that could not connect directly: a volunteer sends and receives plain chunks (its only
 * counterpart is the host); the host's binary frames start with the peer id, [u8 length][id bytes],
 * naming the destination on the way out and the source on the way in.
 */
import { settleOnce } from '../once.js';
import { cleanText } from '../text.js';
import { pollLow, type RawChannel, reportListenerError } from './channel.js';
import type { IceServer } from './rtc.js';
import { parseServerMessage } from './signal-check.js';

export type ClientMessage =
  /** `key`: the volunteer's identity for this session (see CLIENT_KEY); a ban remembers it. */
  | { t: 'join'; token: string; name?: string; key?: string }
  | { t: 'host'; token: string; hostKey: string }
  | { t: 'signal'; to?: string; data: unknown }
  | { t: 'relay'; to?: string }
  /** The host removes a member: its seat is freed; with `ban`, it may not come back (see RoomServer). */
  | { t: 'kick'; peer: string; reason: string; ban?: boolean };

export type ServerMessage =
  | { t: 'joined'; peerId: string; iceServers: IceServer[]; maxChunk: number }
  | { t: 'hosting'; iceServers: IceServer[]; maxChunk: number }
  | { t: 'peer'; peerId: string; name: string }
  | { t: 'gone'; peerId: string; reason: string }
  | { t: 'signal'; from: string; data: unknown }
  | { t: 'relay'; from: string }
  | { t: 'rejected'; reason: string }
  | { t: 'closed'; reason: string };

/** Close codes the server uses (4000-4999 are free for applications). */
export const CLOSE = { rejected: 4001, kicked: 4002, limit: 4003, timeout: 4004, hostGone: 4005, bad: 4006 } as const;

/** The parts of a WebSocket (browser or the `ws` package) used here. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Prefixes a chunk with a peer id: [u8 length][id][chunk]. */
export function addRoute(id: string, chunk: Uint8Array): Uint8Array {
  const idBytes = enc.encode(id);
  if (idBytes.length > 255) throw new Error('peer id too long');
  const out = new Uint8Array(1 + idBytes.length + chunk.length);
  out[0] = idBytes.length;
  out.set(idBytes, 1);
  out.set(chunk, 1 + idBytes.length);
  return out;
}

/** Splits [u8 length][id][chunk]; null when malformed. */
export function splitRoute(data: Uint8Array): { id: string; chunk: Uint8Array } | null {
  if (data.length < 1 || data.length < 1 + data[0] || data[0] === 0) return null;
  return { id: dec.decode(data.subarray(1, 1 + data[0])), chunk: data.subarray(1 + data[0]) };
}

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** One connection to the room server. `isHost` selects the binary framing of relayed chunks. */
export class SignalClient {
  private jsonHandler: (m: ServerMessage) => void = () => {};
  private readonly relays = new Map<string, (chunk: Uint8Array) => void>();
  private readonly closedOnce = settleOnce();
  readonly closed: Promise<string> = this.closedOnce.promise;

  private constructor(
    private readonly ws: WebSocketLike,
    readonly isHost: boolean,
  ) {
    ws.onmessage = (ev) => {
      try {
        this.receive(ev.data);
      } catch (e) {
        reportListenerError('room server message', e);
      }
    };
    ws.onclose = (ev) => this.closedOnce.settle(ev.reason || `room server connection closed (${ev.code})`);
    ws.onerror = () => {};
  }

  private receive(data: unknown): void {
    if (typeof data === 'string') {
      let m: ServerMessage;
      try {
        m = parseServerMessage(data);
      } catch (e) {
        // a server that breaks the protocol is not talked to any further
        this.close(CLOSE.bad, cleanText(`the room server sent a bad message: ${(e as Error).message}`, 120));
        return;
      }
      this.jsonHandler(m);
      return;
    }
    const bytes = toBytes(data);
    if (!bytes) return;
    if (this.isHost) {
      const r = splitRoute(bytes);
      if (r) this.relays.get(r.id)?.(r.chunk);
    } else this.relays.get('host')?.(bytes);
  }

  /** Opens the WebSocket and waits for it to connect. */
  static connect(url: string, WebSocket: WebSocketCtor, isHost: boolean): Promise<SignalClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve(new SignalClient(ws, isHost));
      ws.onerror = () => reject(new Error(`cannot reach the room server at ${url}`));
      ws.onclose = (ev) => reject(new Error(`room server closed the connection: ${ev.reason || ev.code}`));
    });
  }

  onMessage(fn: (m: ServerMessage) => void): void {
    this.jsonHandler = fn;
  }

  send(m: ClientMessage): void {
    if (this.ws.readyState === 1) this.ws.send(JSON.stringify(m));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** A channel over the server's relay to `peerId` (host side) or to the host (volunteer side). */
  relayChannel(peerId: string | undefined, maxChunk: number): RawChannel {
    const key = peerId ?? 'host';
    const closed = settleOnce();
    let onData: (c: Uint8Array) => void = () => {};
    this.relays.set(key, (c) => onData(c));
    this.closed.then((r) => closed.settle(`relay: ${r}`));
    closed.promise.then(() => this.relays.delete(key));
    const ws = this.ws;
    return {
      maxMessageSize: maxChunk,
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      send: (chunk) => {
        if (closed.settled() || this.ws.readyState !== 1) throw new Error('relay channel is closed');
        this.ws.send(peerId === undefined ? chunk : addRoute(peerId, chunk));
      },
      waitLow: (low) => pollLow(() => this.ws.bufferedAmount, low, closed.settled),
      onMessage(fn) {
        onData = fn;
      },
      closed: closed.promise,
      close: (reason) => closed.settle(reason),
    };
  }

  close(code = 1000, reason = 'bye'): void {
    this.closedOnce.settle(reason);
    try {
      this.ws.close(code, reason);
    } catch {
      // a reason over 123 bytes throws in browsers: close without one
      try {
        this.ws.close(code);
      } catch {
        // already closed
      }
    }
  }
}
