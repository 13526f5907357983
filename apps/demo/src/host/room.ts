/**
 * The host's room: created through the room server's HTTP API on the page's own origin, then
 * hosted by @gradroom/coordinator's RoomHost over a WebSocket and WebRTC. It runs in the host
 * page's coordinator worker (src/coordinator-worker/), with simple-peer's endpoints bridged to the
 * page. Volunteers who join are kept here between runs, so each new run (a new Trainer) gets every
 * volunteer still in the room. The room's token and host key let a reloaded host page host the
 * same room again (the server keeps a room without a coordinator for a while).
 */
import type { PeerEvent, PeerWorkerHandle } from '@gradroom/coordinator/browser';
import { RoomHost, type Trainer } from '@gradroom/coordinator/browser';
import type { Message, SimplePeerCtor, WebSocketCtor } from '@gradroom/core';

export interface CreatedRoom {
  token: string;
  hostKey: string;
  label: string;
  /** The volunteer page's link on this page's origin, token in the #fragment. */
  joinUrl: string;
  /** The room's short code and the link a student types ('…/j/CODE'), when the server has codes. */
  code?: string;
  shortUrl?: string;
}

export class RoomKeyRequired extends Error {}

/**
 * POST /api/rooms on this origin; the server may ask for `Authorization: Bearer <key>`. `base` is
 * the host page's address (the join link is made next to it).
 */
export async function createRoom(base: string, key?: string): Promise<CreatedRoom> {
  const res = await fetch(new URL('api/rooms', base), {
    method: 'POST',
    headers: key ? { Authorization: `Bearer ${key}` } : {},
  });
  if (res.status === 401) throw new RoomKeyRequired('this server needs a room key to create rooms');
  const body = (await res.json().catch(() => ({}))) as Partial<CreatedRoom> & { error?: string };
  if (!res.ok || typeof body.token !== 'string' || typeof body.hostKey !== 'string') {
    throw new Error(`the room server could not create a room: ${body.error ?? `HTTP ${res.status}`}`);
  }
  // the server names its own listening address; the link the class needs is the one this page came from
  const joinUrl = new URL('volunteer.html', base);
  joinUrl.hash = `room=${body.token}`;
  const code = typeof body.code === 'string' && /^[A-Z0-9]{6}$/.test(body.code) ? body.code : undefined;
  return {
    token: body.token,
    hostKey: body.hostKey,
    label: body.label ?? '',
    joinUrl: joinUrl.href,
    code,
    // the server answers GET /j/CODE at its root, on the origin this page came from
    shortUrl: code ? new URL(`/j/${code}`, base).href : undefined,
  };
}

export interface Volunteer {
  id: string;
  name: string;
  via?: 'direct' | 'relay';
}

/** A hosted room whose volunteers go to whichever trainer runs now. */
export class HostedRoom {
  /** Volunteers in the room now. */
  readonly volunteers = new Map<string, Volunteer>();
  /** Every volunteer seen, also after it left (names for the worker table). */
  readonly seen = new Map<string, Volunteer>();
  private readonly handles = new Map<string, PeerWorkerHandle>();
  private host?: RoomHost;

  constructor(
    readonly room: CreatedRoom,
    private readonly SimplePeer: SimplePeerCtor,
    private readonly onChange: (e: PeerEvent) => void,
    private readonly log: (line: string) => void,
    /** Draw to train: each accepted volunteer's handle, and every message volunteers send (tap). */
    private readonly classRoom?: {
      track(h: PeerWorkerHandle, name: string): void;
      tap(from: string, m: Message): void;
    },
  ) {}

  async open(): Promise<void> {
    this.host = await RoomHost.open({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
      token: this.room.token,
      hostKey: this.room.hostKey,
      WebSocket: WebSocket as unknown as WebSocketCtor,
      SimplePeer: this.SimplePeer,
      onPeer: (handle, name) => {
        this.handles.set(handle.id, handle);
        const v = this.volunteers.get(handle.id);
        if (v) v.name = name;
        handle.closed.then(() => this.handles.delete(handle.id));
        this.classRoom?.track(handle, name);
      },
      tap: this.classRoom ? (from, m) => this.classRoom?.tap(from, m) : undefined,
      log: this.log,
    });
    this.host.on('peer', (e) => {
      if (e.type === 'joined' || e.type === 'accepted') {
        const v = this.volunteers.get(e.id) ?? { id: e.id, name: e.name ?? 'volunteer' };
        if (e.via) v.via = e.via;
        if (e.name) v.name = e.name;
        this.volunteers.set(e.id, v);
        this.seen.set(e.id, v);
      } else {
        this.volunteers.delete(e.id);
        this.handles.delete(e.id);
      }
      this.onChange(e);
    });
  }

  /** Volunteers accepted so far (their WebRTC or relay channel is up and their token checked). */
  get accepted(): number {
    return this.handles.size;
  }

  /** Hands every volunteer in the room to `trainer`; later ones follow as they join (RoomHost.attach). */
  attach(trainer: Trainer): void {
    this.host?.detach();
    this.host?.attach(trainer);
  }

  /** The run is over: volunteers stay in the room for the next one. */
  detach(): void {
    this.host?.detach();
  }

  close(reason?: string): void {
    this.host?.close(reason);
  }
}
