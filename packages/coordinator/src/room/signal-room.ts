/**
 * What the signalling hub keeps per connection and per room, and a room's bans: the identity keys
 * refused for its life and the addresses refused until a time.
 */
import { cleanText } from '@gradroom/core';
import type { WebSocket } from 'ws';
import type { Bucket } from './access.js';

/** One WebSocket: a connection that has not joined yet, a room's host, or one of its members. */
export interface Conn {
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

export interface Room {
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

/** Names shown in logs and to the host: no control characters, short. */
export function cleanName(s: string | undefined): string {
  return cleanText(s, 40) || 'volunteer';
}

/** A fresh room without a coordinator yet; `creator`: the address that created it over HTTP. */
export function newRoom(label: string, hostKey: string, creator?: string): Room {
  return {
    label,
    hostKey,
    members: new Map(),
    created: Date.now(),
    idleSince: Date.now(),
    bannedKeys: new Set(),
    bannedAddresses: new Map(),
    creator,
  };
}

/** Bans `member`: its identity key for the room's life, its address for banMs (0: not at all). */
export function recordBan(room: Room, member: Conn, banMs: number): void {
  if (member.key) room.bannedKeys.add(member.key);
  if (banMs > 0) room.bannedAddresses.set(member.ip, Date.now() + banMs);
}

/** Why a join from `ip` with identity `key` may not enter `room` now, or null. An expired ban is forgotten. */
export function banReason(room: Room, ip: string, key: string | undefined): string | null {
  if (key && room.bannedKeys.has(key)) return 'you were removed from this room';
  const until = room.bannedAddresses.get(ip);
  if (until === undefined) return null;
  if (Date.now() < until)
    return `your address was removed from this room; try again in ${Math.ceil((until - Date.now()) / 1000)} s`;
  room.bannedAddresses.delete(ip);
  return null;
}
