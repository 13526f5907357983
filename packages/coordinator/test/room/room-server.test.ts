/**
 * The room server on its own (real HTTP and WebSockets, no WebRTC): room creation and its key,
 * token size, static files with isolation headers, join timeout, rate and size limits, room
 * isolation of signalling, the member limit, heartbeats, and what members hear when the host leaves.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerMessage, SignalClient, type WebSocketCtor } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';
import { randomToken } from '../../src/room/tokens.js';

const WS = WebSocket as unknown as WebSocketCtor;
const servers: RoomServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: RoomServerOptions = {}) {
  const log: string[] = [];
  const s = await RoomServer.start({ port: 0, log: (l) => log.push(l), ...opts });
  servers.push(s);
  return { s, log };
}

/** A client that records what the server says to it. */
async function client(url: string, isHost: boolean) {
  const c = await SignalClient.connect(url, WS, isHost);
  const got: ServerMessage[] = [];
  c.onMessage((m) => got.push(m));
  return { c, got };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wait = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
};

async function hosted(url: string, room: { token: string; hostKey: string }) {
  const h = await client(url, true);
  h.c.send({ t: 'host', token: room.token, hostKey: room.hostKey });
  await wait(() => h.got.some((m) => m.t === 'hosting'));
  return h;
}

async function member(url: string, token: string) {
  const m = await client(url, false);
  m.c.send({ t: 'join', token, name: 'tab' });
  await wait(() => m.got.some((x) => x.t === 'joined' || x.t === 'rejected'));
  const j = m.got.find((x) => x.t === 'joined');
  return { ...m, id: j?.t === 'joined' ? j.peerId : '' };
}

describe('the room server', () => {
  it('creates rooms over HTTP with unguessable tokens, behind a room key when set', async () => {
    const { s } = await start({ roomKey: 'k3y' });
    expect((await fetch(`${s.url}/api/rooms`, { method: 'POST' })).status).toBe(401);
    expect(
      (await fetch(`${s.url}/api/rooms`, { method: 'POST', headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const r = await fetch(`${s.url}/api/rooms`, { method: 'POST', headers: { authorization: 'Bearer k3y' } });
    expect(r.status).toBe(201);
    const room = (await r.json()) as { token: string; hostKey: string; joinUrl: string; wsUrl: string };
    // 160 random bits in base64url
    expect(room.token).toMatch(/^[\w-]{27}$/);
    expect(room.hostKey).not.toBe(room.token);
    expect(room.joinUrl).toBe(`${s.url}/volunteer.html#room=${room.token}`);
    expect(room.wsUrl).toBe(s.wsUrl);
    const many = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(many.size).toBe(1000);
    expect(() => randomToken(8)).toThrow(/128 bits/);
  });

  it('serves the web app with the isolation headers, and nothing outside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gradroom-dist-'));
    await writeFile(join(dir, 'volunteer.html'), '<!doctype html><title>v</title>');
    const { s } = await start({ dist: dir });
    const r = await fetch(`${s.url}/volunteer.html`);
    expect(r.status).toBe(200);
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await r.text()).toContain('<title>v</title>');
    expect((await fetch(`${s.url}/..%2f..%2fetc/passwd`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/rooms`)).status).toBe(405);
  });

  it('rejects connections that do not join in time, join twice, or send malformed messages', async () => {
    const { s, log } = await start({ joinTimeoutMs: 150 });
    const idle = new WebSocket(s.wsUrl);
    const code = await new Promise<number>((r) => idle.once('close', (c) => r(c)));
    expect(code).toBe(4004);
    expect(log.some((l) => /rejected: no join message in time/.test(l))).toBe(true);
    const room = s.createRoom();
    await hosted(s.wsUrl, room);
    const m = await member(s.wsUrl, room.token);
    m.c.send({ t: 'join', token: room.token, name: 'again' });
    expect(await m.c.closed).toBe('joined twice');
    const k = await member(s.wsUrl, room.token);
    k.c.send({ t: 'kick', peer: 'p1', reason: 'members cannot kick' });
    expect(await k.c.closed).toMatch(/for the room's host only/);
  });

  it('limits message rate and size', async () => {
    const { s, log } = await start({ controlRate: { perSecond: 5, burst: 5 }, maxControlBytes: 1024 });
    const room = s.createRoom();
    const host = await hosted(s.wsUrl, room);
    const spam = await member(s.wsUrl, room.token);
    for (let i = 0; i < 20; i++) spam.c.send({ t: 'signal', data: { i } });
    expect(await spam.c.closed).toBe('message rate limit exceeded');
    // the host heard a few of them, never all 20
    expect(host.got.filter((x) => x.t === 'signal').length).toBeLessThan(6);
    const big = await member(s.wsUrl, room.token);
    big.c.send({ t: 'signal', data: { pad: 'x'.repeat(2000) } });
    expect(await big.c.closed).toMatch(/control message over 1024 bytes/);
    expect(log.filter((l) => /rejected: (message rate|control message over)/.test(l)).length).toBe(2);
  });

  it('relays signalling only within a room, and only between members and their host', async () => {
    const { s } = await start();
    const a = s.createRoom();
    const b = s.createRoom();
    const hostA = await hosted(s.wsUrl, a);
    const hostB = await hosted(s.wsUrl, b);
    const ma = await member(s.wsUrl, a.token);
    const mb = await member(s.wsUrl, b.token);
    const mb2 = await member(s.wsUrl, b.token);
    // host A addresses room B's member by id: nothing arrives
    hostA.c.send({ t: 'signal', to: mb.id, data: { from: 'A' } });
    // a member cannot address another member: its signals only ever go to its own host
    mb2.c.send({ t: 'signal', to: mb.id, data: { from: 'mb2' } });
    ma.c.send({ t: 'signal', data: { from: 'ma' } });
    hostB.c.send({ t: 'signal', to: mb.id, data: { from: 'B' } });
    await wait(() => mb.got.some((x) => x.t === 'signal'));
    await sleep(100);
    expect(mb.got.filter((x) => x.t === 'signal')).toEqual([{ t: 'signal', from: 'host', data: { from: 'B' } }]);
    expect(hostA.got.filter((x) => x.t === 'signal')).toEqual([{ t: 'signal', from: ma.id, data: { from: 'ma' } }]);
    expect(hostB.got.filter((x) => x.t === 'signal')).toEqual([{ t: 'signal', from: mb2.id, data: { from: 'mb2' } }]);
    // relayed bytes from a member that never asked for the relay are refused
    (mb.c as unknown as { ws: WebSocket }).ws.send(new Uint8Array(8));
    expect(await mb.c.closed).toMatch(/relay data without asking/);
  });

  it('enforces the member limit, drops silent connections, and closes members when the host leaves', async () => {
    const { s, log } = await start({ maxPeersPerRoom: 1, heartbeatMs: 100 });
    const room = s.createRoom();
    const host = await hosted(s.wsUrl, room);
    const first = await member(s.wsUrl, room.token);
    const second = await member(s.wsUrl, room.token);
    expect(second.got).toContainEqual({ t: 'rejected', reason: 'the room is full' });
    // a connection that stops answering pings is dropped
    const silent = new WebSocket(s.wsUrl);
    await new Promise((r) => silent.once('open', r));
    silent.pause(); // reads nothing, so answers no ping
    await wait(() => log.some((l) => /heartbeat timeout/.test(l)), 2000);
    expect(host.got.some((x) => x.t === 'peer' && x.name === 'tab')).toBe(true);
    host.c.close();
    expect(await first.c.closed).toBe('the coordinator left');
    expect(first.got).toContainEqual({ t: 'closed', reason: 'the coordinator left' });
  });

  it('expires a room that has had no coordinator for roomIdleMs, and frees its place', async () => {
    const { s, log } = await start({ heartbeatMs: 50, roomIdleMs: 300, maxRooms: 2 });
    const abandoned = s.createRoom(); // never hosted, like a host page closed right after creating it
    const hostedRoom = s.createRoom();
    expect(() => s.createRoom()).toThrow(/room limit reached/);
    const host = await hosted(s.wsUrl, hostedRoom);
    await wait(() => log.some((l) => l.includes(`[room ${abandoned.label}] expired: no coordinator`)), 3000);
    expect(s.rooms.size).toBe(1); // the hosted one stays
    s.createRoom(); // the place is free again
    expect(s.rooms.size).toBe(2);
    expect((await member(s.wsUrl, abandoned.token)).got).toContainEqual({
      t: 'rejected',
      reason: expect.stringMatching(/unknown room|no such room|room/),
    });
    // once its coordinator leaves, the hosted room expires too
    host.c.close();
    await wait(() => log.some((l) => l.includes(`[room ${hostedRoom.label}] expired`)), 3000);
  });
});
