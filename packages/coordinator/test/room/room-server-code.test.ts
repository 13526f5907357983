/**
 * Short room codes: GET /j/CODE sends a student to the room's join link (the code is typed in
 * any case), a wrong code is the same 404 as any unknown path, the code goes with its room, and
 * wrong codes are rate-limited per address like room creation: once spent, a right code from that
 * address is refused too, so guessing finds rooms no faster than the rate allows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RoomServer, type RoomServerOptions } from '../../src/room/server.js';
import { CODE_ALPHABET, normalizeCode, randomCode } from '../../src/room/tokens.js';

const servers: RoomServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: RoomServerOptions = {}) {
  const s = await RoomServer.start({ port: 0, log: () => {}, ...opts });
  servers.push(s);
  return s;
}

const get = (s: RoomServer, path: string) => fetch(`${s.url}${path}`, { redirect: 'manual' });

/** A valid code that is not `code` (one letter changed). */
function other(code: string): string {
  const i = CODE_ALPHABET.indexOf(code[0]);
  return CODE_ALPHABET[(i + 1) % CODE_ALPHABET.length] + code.slice(1);
}

describe('short room codes', () => {
  it('are 6 characters without ambiguous letters, and read back as typed', () => {
    for (let i = 0; i < 200; i++) expect(randomCode()).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    expect(CODE_ALPHABET).not.toMatch(/[01ILO]/);
    expect(normalizeCode('k7m-2qx')).toBe('K7M2QX');
    expect(normalizeCode(' K7M 2QX ')).toBe('K7M2QX');
    expect(normalizeCode('K7M2Q0')).toBeNull(); // a zero is never in a code
    expect(normalizeCode('K7M2Q')).toBeNull();
  });

  it('redirect to the join link; a wrong code is an ordinary 404; the code goes with its room', async () => {
    const s = await start();
    const room = s.createRoom();
    expect(room.code).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    expect(room.shortUrl).toBe(`${s.url}/j/${room.code}`);
    const res = await get(s, `/j/${room.code.toLowerCase()}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/volunteer.html#room=${room.token}`);
    expect(res.headers.get('cache-control')).toBe('no-store');

    const wrong = await get(s, `/j/${other(room.code)}`);
    const unknownPath = await get(s, '/no-such-page');
    expect(wrong.status).toBe(404);
    expect(await wrong.text()).toBe(await unknownPath.text());
    expect((await get(s, '/j/%E0%A4%A')).status).toBe(404); // a malformed escape, not a 500
    expect((await fetch(`${s.url}/j/${room.code}`, { method: 'POST', redirect: 'manual' })).status).toBe(405);

    s.closeRoom(room.token);
    expect((await get(s, `/j/${room.code}`)).status).toBe(404);
  });

  it('limits wrong codes per address; then a right one is refused too, until the wait is over', async () => {
    const s = await start({ createRate: { perSecond: 0.01, burst: 3 } });
    const room = s.createRoom();
    // right codes never spend the budget (a class of 30 behind one address)
    for (let i = 0; i < 10; i++) expect((await get(s, `/j/${room.code}`)).status).toBe(302);
    for (let i = 0; i < 3; i++) expect((await get(s, `/j/${other(room.code)}`)).status).toBe(404);
    const spent = await get(s, `/j/${other(room.code)}`);
    expect(spent.status).toBe(429);
    expect(Number(spent.headers.get('retry-after'))).toBeGreaterThan(0);
    // a guesser who found the right code now learns nothing from it
    expect((await get(s, `/j/${room.code}`)).status).toBe(429);
  });
});
