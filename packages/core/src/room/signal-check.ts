/**
 * Checks of the room server's JSON control messages, both ways, the way core's validate.ts checks
 * the wire protocol: one field table per message type, unknown fields rejected, and a clear reason
 * ("join.token must be ...") in a GradroomError('BAD_MESSAGE') for anything else. The server checks
 * what clients send (they are untrusted); clients check what the server sends before using it.
 */
import { GradroomError } from '../errors.js';
import { WEBRTC_MAX_MESSAGE_BYTES } from '../protocol/framing.js';
import type { ClientMessage, ServerMessage } from './signal.js';

/** Longest token or host key accepted (they are 27 characters). */
export const MAX_SECRET_LENGTH = 256;
/** Longest peer id (the server makes them: p1, p2, ...). */
export const MAX_PEER_ID_LENGTH = 64;
/** Longest name a volunteer may send (the server shows at most 40 characters of it). */
export const MAX_NAME_LENGTH = 200;
/** Longest reason (kick, rejection, leave). */
export const MAX_REASON_LENGTH = 2000;
/** A volunteer's identity key: what a kick with ban remembers for the rest of the room's life. */
export const CLIENT_KEY = /^[\w-]{16,64}$/;
/** Nesting depth and values in signalling data (simple-peer's deepest is an ICE candidate, depth 3). */
const MAX_DATA_DEPTH = 8;
const MAX_DATA_NODES = 2000;

type Check = (value: unknown, path: string) => void;
interface Field {
  check: Check;
  optional?: boolean;
}
type Table = Readonly<Record<string, Field>>;

function fail(path: string, what: string): never {
  throw new GradroomError('BAD_MESSAGE', `${path} must be ${what}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const str =
  (min: number, max: number, pattern?: RegExp, what?: string): Check =>
  (v, p) => {
    if (typeof v !== 'string' || v.length < min || v.length > max || (pattern && !pattern.test(v))) {
      fail(p, what ?? (min > 0 ? `a string of ${min} to ${max} chars` : `a string of at most ${max} chars`));
    }
  };
const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'true or false');
};
const int =
  (min: number, max: number): Check =>
  (v, p) => {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
      fail(p, `an integer in [${min}, ${max}]`);
    }
  };

/** JSON data with bounded depth and size: what simple-peer's signal() takes. */
const signalData: Check = (v, p) => {
  if (!isPlainObject(v)) fail(p, 'an object');
  let nodes = 0;
  const walk = (x: unknown, depth: number, at: string): void => {
    if (++nodes > MAX_DATA_NODES) fail(p, `at most ${MAX_DATA_NODES} values`);
    if (depth > MAX_DATA_DEPTH) fail(at, `nested at most ${MAX_DATA_DEPTH} deep`);
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, depth + 1, `${at}[${i}]`));
    else if (typeof x === 'object' && x !== null)
      for (const [k, y] of Object.entries(x)) walk(y, depth + 1, `${at}.${k}`);
  };
  walk(v, 1, p);
};

const secret = str(1, MAX_SECRET_LENGTH);
const peerId = str(1, MAX_PEER_ID_LENGTH);
const reason = str(0, MAX_REASON_LENGTH);
const chunkSize = int(64, WEBRTC_MAX_MESSAGE_BYTES);

const ICE_SERVER: Table = {
  urls: {
    check: (v, p) => {
      const url = str(1, 1024, /^(stun|turns?):/, 'a stun:, turn: or turns: URL');
      if (Array.isArray(v) && v.length > 0 && v.length <= 16) v.forEach((u, i) => url(u, `${p}[${i}]`));
      else url(v, p);
    },
  },
  username: { check: str(0, 512), optional: true },
  credential: { check: str(0, 512), optional: true },
};
const iceServers: Check = (v, p) => {
  if (!Array.isArray(v) || v.length > 16) fail(p, 'a list of at most 16 ICE servers');
  (v as unknown[]).forEach((s, i) => checkTable(s, ICE_SERVER, `${p}[${i}]`));
};

const CLIENT: Readonly<Record<ClientMessage['t'], Table>> = {
  join: {
    token: { check: secret },
    name: { check: str(0, MAX_NAME_LENGTH), optional: true },
    key: { check: str(16, 64, CLIENT_KEY, '16 to 64 letters, digits, _ or -'), optional: true },
  },
  host: { token: { check: secret }, hostKey: { check: secret } },
  signal: { to: { check: peerId, optional: true }, data: { check: signalData } },
  relay: { to: { check: peerId, optional: true } },
  kick: { peer: { check: peerId }, reason: { check: reason }, ban: { check: bool, optional: true } },
};

const SERVER: Readonly<Record<ServerMessage['t'], Table>> = {
  joined: { peerId: { check: peerId }, iceServers: { check: iceServers }, maxChunk: { check: chunkSize } },
  hosting: { iceServers: { check: iceServers }, maxChunk: { check: chunkSize } },
  peer: { peerId: { check: peerId }, name: { check: str(0, MAX_NAME_LENGTH) } },
  gone: { peerId: { check: peerId }, reason: { check: reason } },
  signal: { from: { check: peerId }, data: { check: signalData } },
  relay: { from: { check: peerId } },
  rejected: { reason: { check: reason } },
  closed: { reason: { check: reason } },
};

/** Checks v against its table; `own` names a key checked elsewhere (the message type). */
function checkTable(v: unknown, table: Table, path: string, own?: string): void {
  if (!isPlainObject(v)) fail(path, 'an object');
  for (const key of Object.keys(v)) {
    if (key !== own && !Object.hasOwn(table, key)) fail(`${path}.${key}`, 'absent (unknown field)');
  }
  for (const [key, f] of Object.entries(table)) {
    const x = v[key];
    if (x === undefined) {
      if (!f.optional) fail(`${path}.${key}`, 'present');
      continue;
    }
    f.check(x, `${path}.${key}`);
  }
}

function parse<T extends { t: string }>(
  text: unknown,
  tables: Readonly<Record<string, Table>>,
  maxBytes: number,
  side: string,
): T {
  if (typeof text !== 'string') fail(side, 'a text message');
  if (text.length > maxBytes) fail(side, `at most ${maxBytes} chars`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    fail(side, 'JSON');
  }
  if (!isPlainObject(v)) fail(side, 'a JSON object');
  const t = v.t;
  if (typeof t !== 'string' || !Object.hasOwn(tables, t)) {
    fail(`${side}.t`, `one of ${Object.keys(tables).join(', ')}`);
  }
  checkTable(v, tables[t], t, 't');
  return v as unknown as T;
}

/** A control message from a client (a host or a volunteer), checked; throws GradroomError otherwise. */
export function parseClientMessage(text: unknown, maxBytes = 64 * 1024): ClientMessage {
  return parse<ClientMessage>(text, CLIENT, maxBytes, 'client message');
}

/** A control message from the room server, checked; throws GradroomError otherwise. */
export function parseServerMessage(text: unknown, maxBytes = 1024 * 1024): ServerMessage {
  return parse<ServerMessage>(text, SERVER, maxBytes, 'server message');
}
