/**
 * Behind a reverse proxy every user shares the proxy's address. `trustProxy` lets the server count,
 * limit and ban each user by the address the proxy names in X-Forwarded-For, and only when the
 * request comes from the proxy itself; without it (the default) the header is ignored, so a client
 * cannot pick its own address, and one ban refuses everyone behind that address.
 * Against a real RoomServer on 127.0.0.1, where this test plays the proxy.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FramedLink,
  isGradroomError,
  PROTOCOL_VERSION,
  type ServerMessage,
  SignalClient,
  type WebSocketCtor,
} from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomHost } from '../../src/room/host.js';
import { nodeRtc } from '../../src/room/node.js';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';
import { until } from './helpers.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(opts: RoomServerOptions) {
  const log: string[] = [];
  const server = await RoomServer.start({ port: 0, log: (l) => log.push(l), ...opts });
  cleanup.push(() => server.close());
  return { server, log };
}

/** POST /api/rooms with an X-Forwarded-For header (none when undefined); resolves with the status. */
async function create(server: RoomServer, xff?: string): Promise<number> {
  const res = await fetch(`${server.url}/api/rooms`, {
    method: 'POST',
    headers: xff === undefined ? {} : { 'X-Forwarded-For': xff },
  });
  await res.arrayBuffer();
  return res.status;
}

/** A WebSocket class that sends X-Forwarded-For on its upgrade, as a proxy in front would. */
function forwardedAs(xff: string): WebSocketCtor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { headers: { 'X-Forwarded-For': xff } });
    }
  } as unknown as WebSocketCtor;
}

/** Joins over the relay as `xff`, says hello; returns the refusal ('' when joined) and the link. */
async function peer(server: RoomServer, token: string, xff: string, key: string) {
  const signal = await SignalClient.connect(server.wsUrl, forwardedAs(xff), false);
  cleanup.push(() => signal.close());
  const first = await new Promise<ServerMessage>((resolve) => {
    signal.onMessage(resolve);
    signal.send({ t: 'join', token, name: 'p', key });
  });
  if (first.t !== 'joined') return { refused: first.t === 'rejected' ? first.reason : first.t, signal };
  signal.send({ t: 'relay' });
  const link = new FramedLink(signal.relayChannel(undefined, first.maxChunk));
  await link.send({ v: PROTOCOL_VERSION, type: 'hello', token, name: 'p', backends: [] });
  return { refused: '', signal, link };
}

/** A room with a host; a member joining as `badAddress` breaks the protocol and is banned. */
async function banOne(opts: RoomServerOptions, badAddress: string) {
  const { server } = await start({ banMs: 60_000, ...opts });
  const room = server.createRoom();
  const host = await RoomHost.open({
    ...nodeRtc(),
    url: server.wsUrl,
    token: room.token,
    hostKey: room.hostKey,
    log: () => {},
  });
  cleanup.push(() => host.close());
  const accepted: string[] = [];
  host.on('peer', (e) => e.type === 'accepted' && accepted.push(e.id));
  const bad = await peer(server, room.token, badAddress, 'aaaaaaaaaaaaaaaaaaaaaa');
  await until(() => accepted.length === 1, 5000, 'the peer accepted');
  // a message peers never send: a violation, so the host kicks with a ban
  await bad.link?.send({
    v: PROTOCOL_VERSION,
    type: 'assign',
    iteration: 0,
    version: 0,
    shardId: 0,
    indices: new Uint32Array(1),
  });
  expect(await bad.signal.closed).toMatch(/removed by the coordinator/);
  return { server, room };
}

describe('X-Forwarded-For', () => {
  it('is ignored by default: every creation counts against the socket address', async () => {
    const { server, log } = await start({ maxRoomsPerAddress: 1 });
    expect(await create(server, '203.0.113.1')).toBe(201);
    expect(await create(server, '203.0.113.2')).toBe(429);
    expect(log.some((l) => /created for 127\.0\.0\.1$/.test(l))).toBe(true);
    expect(log.some((l) => /203\.0\.113/.test(l))).toBe(false);
  });

  it('is ignored from a socket that is not a trusted proxy', async () => {
    const { server } = await start({ maxRoomsPerAddress: 1, trustProxy: ['10.9.9.9'] });
    expect(await create(server, '203.0.113.1')).toBe(201);
    expect(await create(server, '203.0.113.2')).toBe(429);
  });

  it("from a trusted proxy, names the client: the rightmost address that is not a proxy's", async () => {
    const { server, log } = await start({ maxRoomsPerAddress: 1, trustProxy: ['127.0.0.1'] });
    expect(await create(server, '203.0.113.1')).toBe(201);
    expect(log.at(-1)).toMatch(/created for 203\.0\.113\.1$/);
    expect(await create(server, '203.0.113.2')).toBe(201);
    // what the client wrote itself (left of what the proxy appended) does not count
    expect(await create(server, '198.51.100.9, 203.0.113.1')).toBe(429);
    // a chain through the trusted proxy twice still names the client
    expect(await create(server, '203.0.113.2, 127.0.0.1')).toBe(429);
    // no header, or a malformed one: the proxy's own address
    expect(await create(server)).toBe(201);
    expect(log.at(-1)).toMatch(/created for 127\.0\.0\.1$/);
    expect(await create(server, 'not-an-address')).toBe(429);
    expect(await create(server, '203.0.113.3:4444')).toBe(429);
  });

  it('without trustProxy, a ban behind one shared address refuses every user behind it', async () => {
    const { server, room } = await banOne({}, '203.0.113.1');
    const classmate = await peer(server, room.token, '203.0.113.2', 'bbbbbbbbbbbbbbbbbbbbbb');
    expect(classmate.refused).toMatch(/^your address was removed from this room; try again in \d+ s$/);
  });

  it('with trustProxy, a ban refuses the rule-breaker only', async () => {
    const { server, room } = await banOne({ trustProxy: ['127.0.0.1'] }, '203.0.113.1');
    const again = await peer(server, room.token, '203.0.113.1', 'cccccccccccccccccccccc');
    expect(again.refused).toMatch(/^your address was removed from this room/);
    const classmate = await peer(server, room.token, '203.0.113.2', 'bbbbbbbbbbbbbbbbbbbbbb');
    expect(classmate.refused).toBe('');
  });

  it('a trusted proxy must be an IP address: the library throws BAD_CONFIG, the CLI exits 2', async () => {
    const err = await RoomServer.start({ port: 0, trustProxy: ['proxy.lan'], log: () => {} }).catch((e) => e);
    expect(isGradroomError(err, 'BAD_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/"proxy\.lan"/);
    const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
    const p = spawn(process.execPath, [cli, 'serve', '--port', '0', '--trust-proxy', '10.0.0.0/8'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    expect(await new Promise((r) => p.once('exit', r))).toBe(2);
    expect(out).toMatch(/--trust-proxy must be an IP address, got "10\.0\.0\.0\/8"/);
  });

  it('gradroom serve --trust-proxy counts a room creation under the forwarded address', async () => {
    const dist = await mkdtemp(join(tmpdir(), 'gradroom-proxy-'));
    await writeFile(join(dist, 'index.html'), '<title>x</title>');
    const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
    const p = spawn(process.execPath, [cli, 'serve', '--port', '0', '--dist', dist, '--trust-proxy', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => p.exitCode === null && p.kill('SIGKILL'));
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out), 10_000, 'the server listening');
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    const res = await fetch(`http://127.0.0.1:${port}/api/rooms`, {
      method: 'POST',
      headers: { 'X-Forwarded-For': '203.0.113.7' },
    });
    expect(res.status).toBe(201);
    await until(() => /created for 203\.0\.113\.7/.test(out), 5000, 'the creation logged');
  });
});
