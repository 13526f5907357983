/**
 * Every entry point of the room server (HTTP request, WebSocket upgrade, messages, close) answers
 * odd input and keeps serving: raw request lines that a browser would never send, over plain TCP.
 */
import { connect } from 'node:net';
import { type ServerMessage, SignalClient, type WebSocketCtor } from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';

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

/** Sends raw bytes on a fresh TCP connection; resolves with all the server answered once it closes. */
function raw(port: number, request: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, waitMs);
    sock.on('data', (d) => {
      got += d.toString('latin1');
    });
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.end(request);
  });
}

const upgrade = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

/** A real client joins a hosted room: the server still does its job. */
async function stillServes(s: RoomServer): Promise<void> {
  expect((await fetch(`${s.url}/api/rooms`, { method: 'POST' })).status).toBe(201);
  const room = s.createRoom();
  const host = await SignalClient.connect(s.wsUrl, WS, true);
  const hostReply = new Promise<ServerMessage>((r) => host.onMessage(r));
  host.send({ t: 'host', token: room.token, hostKey: room.hostKey });
  expect((await hostReply).t).toBe('hosting');
  const m = await SignalClient.connect(s.wsUrl, WS, false);
  const reply = new Promise<ServerMessage>((r) => m.onMessage(r));
  m.send({ t: 'join', token: room.token, name: 'after' });
  expect((await reply).t).toBe('joined');
  m.close();
  host.close();
}

describe('the room server answers odd requests and keeps serving', () => {
  it('a WebSocket upgrade for //, //ws, absolute and broken targets gets an HTTP error, not a crash', async () => {
    const { s, log } = await start();
    const answers: Record<string, string> = {};
    for (const target of ['//', '//ws', '/ws/../..//', 'http://evil.example/ws', '*', '/%zz', '\u00ff']) {
      answers[target] = await raw(s.port, upgrade(target));
    }
    for (const [target, answer] of Object.entries(answers)) {
      // each one is refused with a status line (4xx), never a 101 and never silence
      expect(answer, target).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    // a real upgrade that is otherwise broken: ws itself answers 400
    expect(await raw(s.port, upgrade('/ws').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 99'))).toMatch(
      /^HTTP\/1\.1 4\d\d /,
    );
    // a connection reset in the middle of an upgrade
    const sock = connect(s.port, '127.0.0.1');
    sock.on('error', () => {});
    sock.write(upgrade('//'));
    sock.resetAndDestroy();
    await stillServes(s);
    expect(log.some((l) => /refused a WebSocket upgrade/.test(l))).toBe(true);
  });

  it('plain HTTP requests for //, odd paths and methods get an answer', async () => {
    const { s } = await start();
    expect(await raw(s.port, 'GET // HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 404 /,
    );
    expect(await raw(s.port, 'GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 4\d\d /,
    );
    expect(await raw(s.port, 'BREW /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 4\d\d /,
    );
    expect(await raw(s.port, 'not http at all\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    await stillServes(s);
  });
});
