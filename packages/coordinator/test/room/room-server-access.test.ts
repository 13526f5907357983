/**
 * Room creation and WebSockets only for requests that name this server: a DNS-rebinding page
 * (Host: evil.example) or a foreign Origin is refused; creations are rate-limited per address.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hostOfHeader, hostOfOrigin, ownHostNames, RefusalLog, refuseForeign } from '../../src/room/access.js';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';

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

/** POST /api/rooms with exactly these headers (fetch will not send a forged Host). */
function post(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; retry?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/rooms', headers, setHost: false },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, retry: res.headers['retry-after'] as string | undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket with these headers; the HTTP status it was refused with, or 101. */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, origin: headers.origin });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('who may create rooms and connect', () => {
  it('refuses a DNS-rebinding request (Host: evil.example) and a foreign Origin, allows its own names', async () => {
    const { s, log } = await start();
    const self = `127.0.0.1:${s.port}`;
    const evil = await post(s.port, { host: `evil.example:${s.port}` });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error).toBe("Host 'evil.example' is not a name of this server");
    expect(s.rooms.size).toBe(0);
    expect((await post(s.port, { host: self, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(s.port, { host: self, origin: 'null' })).status).toBe(403);
    expect([400, 403]).toContain((await post(s.port, {})).status); // no Host at all (Node answers 400 itself)
    expect(log.some((l) => /rejected a room creation from .*evil\.example' is not a name of this server/.test(l))).toBe(
      true,
    );
    // its own names, with and without an Origin of its own
    for (const host of [self, `localhost:${s.port}`, `LOCALHOST.:${s.port}`, `[::1]:${s.port}`]) {
      expect((await post(s.port, { host })).status, host).toBe(201);
    }
    const same = await post(s.port, { host: self, origin: `http://${self}` });
    expect(same.status).toBe(201);
    // the join link names the server the way the creator reached it
    expect(JSON.parse(same.body).joinUrl).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/volunteer\\.html#room=`),
    );
    // WebSockets: the same rule
    expect(await upgrade(s.wsUrl, { host: `evil.example:${s.port}` })).toBe(403);
    expect(await upgrade(s.wsUrl, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(s.wsUrl, { origin: `http://localhost:${s.port}` })).toBe(101);
    expect(await upgrade(s.wsUrl, {})).toBe(101);
  });

  it('takes its names from the configuration: publicUrl, allowedHosts, or * for none', async () => {
    const pub = await start({ publicUrl: 'https://rooms.example.org/' });
    const r = await post(pub.s.port, { host: 'rooms.example.org', origin: 'https://rooms.example.org' });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body)).toMatchObject({
      joinUrl: expect.stringMatching(/^https:\/\/rooms\.example\.org\/volunteer\.html#room=/),
      wsUrl: 'wss://rooms.example.org/ws',
    });
    const only = await start({ allowedHosts: ['gradroom.lan'] });
    expect((await post(only.s.port, { host: `127.0.0.1:${only.s.port}` })).status).toBe(403);
    expect((await post(only.s.port, { host: 'gradroom.lan:8080' })).status).toBe(201);
    const any = await start({ allowedHosts: ['*'] });
    const anyRoom = await post(any.s.port, { host: 'whatever.example' });
    expect(anyRoom.status).toBe(201);
    // with the check off, the link is not built from the request's Host
    expect(JSON.parse(anyRoom.body).joinUrl.startsWith(any.s.url)).toBe(true);
  });

  it('limits room creation per address: a burst, then a rate, and open rooms per address', async () => {
    const { s } = await start({ createRate: { perSecond: 0.01, burst: 3 }, maxRoomsPerAddress: 100 });
    const host = `127.0.0.1:${s.port}`;
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await post(s.port, { host }));
    expect(statuses.map((r) => r.status)).toEqual([201, 201, 201, 429, 429]);
    expect(Number(statuses[3].retry)).toBeGreaterThan(0);
    // the server's own createRoom (a room hosted from Node) is not an HTTP client
    s.createRoom();
    const few = await start({ maxRoomsPerAddress: 2 });
    const h = `127.0.0.1:${few.s.port}`;
    expect([(await post(few.s.port, { host: h })).status, (await post(few.s.port, { host: h })).status]).toEqual([
      201, 201,
    ]);
    const third = await post(few.s.port, { host: h });
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body).error).toBe('2 rooms from this address are open already');
  });

  it('limits open WebSockets per address, and refusals in the log', async () => {
    const { s, log } = await start({ maxConnectionsPerAddress: 3 });
    const open = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<WebSocket>((resolve) => {
            const ws = new WebSocket(s.wsUrl);
            ws.once('open', () => resolve(ws));
          }),
      ),
    );
    expect(await upgrade(s.wsUrl, {})).toBe(429);
    expect(log.some((l) => /refused a WebSocket upgrade from .*: 3 connections from it are open/.test(l))).toBe(true);
    open[0].close();
    await new Promise((r) => open[0].once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    expect(await upgrade(s.wsUrl, {})).toBe(101);
    for (const ws of open) ws.close();

    // a flood of refusals writes a burst of lines, then counts what it left out
    const lines: string[] = [];
    const refusals = new RefusalLog((l) => lines.push(l), { perSecond: 10, burst: 5 });
    for (let i = 0; i < 50; i++) refusals.line('203.0.113.9', `refused #${i}`);
    refusals.line('198.51.100.1', 'another address is not held back');
    expect(lines).toEqual([
      'refused #0',
      'refused #1',
      'refused #2',
      'refused #3',
      'refused #4',
      'another address is not held back',
    ]);
    await new Promise((r) => setTimeout(r, 150));
    refusals.line('203.0.113.9', 'refused again');
    expect(lines.at(-1)).toBe('refused again (and 45 earlier refusals from 203.0.113.9 not logged)');
  });

  it('parses Host and Origin headers strictly', () => {
    expect(hostOfHeader('Example.ORG.:80')).toBe('example.org');
    expect(hostOfHeader('[::1]:8080')).toBe('::1');
    for (const bad of [undefined, '', 'a b', 'x/y', 'user@host', 'h?x', 'x'.repeat(400)])
      expect(hostOfHeader(bad)).toBe(null);
    expect(hostOfOrigin('http://localhost:8080')).toBe('localhost');
    for (const bad of ['null', 'file:///x', 'http://h/path', 'javascript:1']) expect(hostOfOrigin(bad)).toBe(null);
    const allowed = new Set(ownHostNames('127.0.0.1'));
    expect([...allowed].sort()).toEqual(['127.0.0.1', '::1', 'localhost']);
    expect(refuseForeign({ host: 'localhost', origin: ['http://localhost', 'http://localhost'] }, allowed)).toBe(
      'one Origin header at most',
    );
    // on every interface, the machine's addresses count as its names
    expect(ownHostNames('0.0.0.0')).toContain('127.0.0.1');
    expect(ownHostNames('0.0.0.0', 'http://gradroom.example:9000')).toContain('gradroom.example');
  });
});
