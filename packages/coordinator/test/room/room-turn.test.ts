/**
 * A volunteer that may only use TURN (iceTransportPolicy 'relay') trains through a real coturn on
 * loopback, with the short-lived credentials the room server mints from the secret it shares with
 * coturn (`use-auth-secret`); the weights equal the serial loop's. Credentials from another secret
 * are refused by coturn, and the volunteer falls back to the room server's relay. coturn comes from Debian (scripts/bootstrap.mjs --turn installs it as root); where
 * it cannot be installed, the test says so and skips.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardWorker } from '@gradroom/worker';
import { readPackedFile } from '@gradroom/worker/node-thread';
import { joinRoom, type Volunteer } from '@gradroom/worker/peer';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { hostRoom, nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { turnCredentials } from '../../src/room/turn.js';
import { Trainer } from '../../src/trainer.js';
import { relativeDifference } from '../reference/serial.js';
import { mnistJob, mnistReference, until } from './helpers.js';

const ITERATIONS = 6;
const SECRET = 'gradroom-test-secret';
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const hasTurnserver = () => spawnSync('turnserver', ['--version'], { stdio: 'ignore' }).status === 0;

/** coturn, installed by the bootstrap if missing; the reason when it cannot be. */
function ensureCoturn(): string | null {
  if (hasTurnserver()) return null;
  const bootstrap = join(import.meta.dirname, '..', '..', '..', '..', 'scripts', 'bootstrap.mjs');
  spawnSync(process.execPath, [bootstrap, '--turn'], { stdio: 'inherit' });
  if (hasTurnserver()) return null;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  return `coturn (turnserver) is not installed and cannot be here (${!apt ? 'no apt-get' : !root ? 'not root' : 'apt-get install coturn failed'})`;
}

/** A free TCP port on loopback (coturn listens on UDP and TCP on it). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startCoturn(port: number): Promise<{ proc: ChildProcess; log: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'gradroom-turn-'));
  const proc = spawn(
    'turnserver',
    [
      '-n', // no config file: everything is here
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--use-auth-secret',
      `--static-auth-secret=${SECRET}`,
      '--realm=gradroom.test',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers', // the volunteer and the host are on this machine
      `--min-port=${49152 + (port % 4000)}`,
      `--max-port=${49152 + (port % 4000) + 200}`,
      `--pidfile=${join(dir, 'turn.pid')}`,
      `--userdb=${join(dir, 'turndb')}`,
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: string[] = [];
  const keep = (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  cleanup.push(() => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
  });
  await until(() => log.some((l) => /Total General servers/.test(l)) || proc.exitCode !== null, 10_000, 'coturn up');
  if (proc.exitCode !== null) throw new Error(`turnserver exited: ${log.join('\n')}`);
  return { proc, log };
}

/** A room whose server mints TURN credentials from `secret`, one volunteer forced to relay through TURN. */
async function room(turnPort: number, secret: string, logs: Record<string, string[]>) {
  const server = await RoomServer.start({
    port: 0,
    log: (l) => logs.server.push(l),
    iceServers: [{ urls: `turn:127.0.0.1:${turnPort}?transport=udp` }],
    turnSecret: secret,
  });
  cleanup.push(() => server.close());
  const r = server.createRoom();
  const trainer = new Trainer(mnistJob(ITERATIONS), { waitForWorkers: true, firstDeadlineMs: 60_000 });
  const host = await hostRoom({
    url: server.wsUrl,
    token: r.token,
    hostKey: r.hostKey,
    trainer,
    log: (l) => logs.host.push(l),
  });
  cleanup.push(() => host.close());
  const volunteer: Volunteer = await joinRoom({
    ...nodeRtc(),
    url: server.wsUrl,
    token: r.token,
    name: 'through-turn',
    engine: new ShardWorker(readPackedFile),
    backends: ['wasm'],
    iceTransportPolicy: 'relay',
    connectTimeoutMs: secret === SECRET ? 30_000 : 3000,
    log: (l) => logs.peer.push(l),
  });
  cleanup.push(() => volunteer.leave('test over'));
  return { trainer, volunteer };
}

describe('a volunteer through a real TURN server (coturn on loopback)', () => {
  it('forced to relay through TURN, it trains MNIST and the weights equal the serial loop', {
    timeout: 120_000,
  }, async (ctx) => {
    const missing = ensureCoturn();
    if (missing) {
      console.log(`[room-turn] skipped: ${missing}`);
      ctx.skip();
    }
    const reference = await mnistReference(ITERATIONS);
    const port = await freePort();
    const turn = await startCoturn(port);
    const logs: Record<string, string[]> = { server: [], host: [], peer: [] };
    onTestFailed(() =>
      console.error(
        ['turn:', ...turn.log.slice(-80), ...Object.entries(logs).flatMap(([k, v]) => [`${k}:`, ...v])].join('\n'),
      ),
    );
    const { trainer, volunteer } = await room(port, SECRET, logs);
    // WebRTC, not the room server's relay: with policy 'relay' that can only be through TURN
    expect(volunteer.status.via).toBe('direct');
    await until(() => turn.log.some((l) => /ALLOCATE processed, success/i.test(l)), 10_000, 'a TURN allocation');
    expect(turn.log.some((l) => /CREATE_PERMISSION processed, success|CHANNEL_BIND processed, success/i.test(l))).toBe(
      true,
    );
    const result = await trainer.run();
    expect(result.position.iteration).toBe(ITERATIONS);
    expect(relativeDifference(result.weights, reference)).toBeLessThanOrEqual(1e-5);

    // credentials from a secret coturn does not share: no TURN path, so the room server's relay
    const other = await room(port, 'not-the-secret', { server: [], host: [], peer: [] });
    expect(other.volunteer.status.via).toBe('relay');
    // and the credentials look as coturn expects: "expiry:name", base64 of a 20-byte HMAC-SHA1
    const c = turnCredentials(SECRET, 'p1', 600, 1_700_000_000_000);
    expect(c.username).toBe('1700000600:p1');
    expect(Buffer.from(c.credential, 'base64')).toHaveLength(20);
  });
});
