/**
 * `gradroom serve`: the room server. Serves the web app (apps/demo/dist: host page, volunteer page,
 * worker bundle), creates rooms (POST /api/rooms, or --room here), relays signalling and, for
 * peers that cannot connect directly, their traffic. Runs until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IceServer } from '@gradroom/core';
import { GradroomError } from '@gradroom/core';
import { DEFAULT_JOB } from '../job.js';
import { ownHostNames } from '../room/access.js';
import { hostRoom } from '../room/node.js';
import { RoomServer } from '../room/server.js';
import { Trainer } from '../trainer.js';
import { parseInteger } from './job-flags.js';

export const SERVE_HELP = `gradroom serve [flags]

  --host ADDR        interface to listen on (default 127.0.0.1; 0.0.0.0 for a classroom LAN)
  --port N           port (default 8080; 0 picks a free one)
  --dist DIR         the built web app to serve (default apps/demo/dist of this checkout)
  --data DIR         packed data sets (gradroom pack-data) to serve under /datasets/, for jobs that
                     name { kind: 'url', url: '/datasets/NAME.bin', sha256 }
  --ice URL          a STUN/TURN server for volunteers' WebRTC, repeatable
                     (turn:host:3478?user:pass for credentials); default none, enough on one machine or a LAN
  --turn-secret S    coturn's static-auth-secret (use-auth-secret): each member gets its own
                     credentials, valid 12 h, for every --ice turn: URL given without user:pass
                     (or set GRADROOM_TURN_SECRET, which keeps it out of the process list)
  --room-key KEY     require "Authorization: Bearer KEY" to create rooms over HTTP
  --public-url URL   the URL users reach this server by (behind a proxy, or a DNS name): join links
                     use it, and its host name may create rooms and connect
  --allow-host NAME  another host name requests may name (Host/Origin), repeatable; '*' turns the
                     check off. Default: the listen host, localhost, 127.0.0.1, ::1, --public-url's
                     host, and on 0.0.0.0 every interface's address and this machine's name
  --ban-seconds N    after the host bans a rule-breaking volunteer, refuse its address for N s
                     (default 60; 0: only its identity key is refused). Everyone behind one NAT or
                     one reverse proxy shares an address: see --trust-proxy
  --trust-proxy ADDR the IP address of a reverse proxy in front of this server, repeatable: requests
                     from it count as from the address its X-Forwarded-For names, for bans and
                     per-address limits (from anyone else the header is ignored)
  --room             also host a room from this process, training the default job (MNIST, MLP,
                     Adam) on the volunteers who join; prints the join link
  --help
`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  dist: { type: 'string' },
  data: { type: 'string' },
  ice: { type: 'string', multiple: true },
  'room-key': { type: 'string' },
  'public-url': { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'ban-seconds': { type: 'string' },
  'turn-secret': { type: 'string' },
  'trust-proxy': { type: 'string', multiple: true },
  room: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function iceServer(spec: string): IceServer {
  const m = /^(turns?:[^?]+)\?([^:]+):(.+)$/.exec(spec);
  if (m) return { urls: m[1], username: m[2], credential: m[3] };
  if (!/^(stun|turns?):/.test(spec))
    throw new GradroomError('BAD_CONFIG', `--ice "${spec}" must start with stun:, turn: or turns:`);
  return { urls: spec };
}

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const port = values.port === undefined ? 8080 : parseInteger(values.port, 'port', [0, 65535]);
  const dist = values.dist ?? join(import.meta.dirname, '..', '..', '..', '..', 'apps', 'demo', 'dist');
  if (!existsSync(dist)) {
    throw new GradroomError('BAD_CONFIG', `--dist ${dist} does not exist (build the web app with npm run build)`);
  }
  if (values.data !== undefined && !existsSync(values.data)) {
    throw new GradroomError('BAD_CONFIG', `--data ${values.data} does not exist`);
  }
  const banSeconds = values['ban-seconds'] === undefined ? 60 : Number(values['ban-seconds']);
  if (!Number.isFinite(banSeconds) || banSeconds < 0 || banSeconds > 7 * 86400) {
    throw new GradroomError(
      'BAD_CONFIG',
      `--ban-seconds must be a number of seconds in [0, 604800], got "${values['ban-seconds']}"`,
    );
  }
  const publicUrl = values['public-url'];
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(publicUrl)) {
    throw new GradroomError('BAD_CONFIG', `--public-url must be an http:// or https:// URL, got "${publicUrl}"`);
  }
  const trustProxy = values['trust-proxy'] ?? [];
  for (const a of trustProxy) {
    if (isIP(a) === 0) throw new GradroomError('BAD_CONFIG', `--trust-proxy must be an IP address, got "${a}"`);
  }
  const host = values.host ?? '127.0.0.1';
  const extra = values['allow-host'] ?? [];
  const server = await RoomServer.start({
    host,
    port,
    dist,
    data: values.data,
    iceServers: (values.ice ?? []).map(iceServer),
    roomKey: values['room-key'],
    publicUrl,
    allowedHosts: extra.length > 0 ? [...ownHostNames(host, publicUrl), ...extra] : undefined,
    banMs: banSeconds * 1000,
    trustProxy,
    turnSecret: values['turn-secret'] ?? process.env.GRADROOM_TURN_SECRET,
  });
  console.log(`gradroom: serving ${server.publicUrl}/  (volunteer page: ${server.publicUrl}/volunteer.html)`);

  let trainer: Trainer | undefined;
  if (values.room) {
    const room = server.createRoom();
    trainer = new Trainer(DEFAULT_JOB, { waitForWorkers: true });
    const host = await hostRoom({
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      trainer,
      log: (l) => console.log(l),
    });
    trainer.on('iteration', (e) => {
      if (e.iteration % 20 === 0) {
        console.log(
          `epoch ${e.epoch + 1} iteration ${e.iteration}: loss ${e.loss.toFixed(4)}, ${e.workers.length} volunteer(s), ${Math.round(e.examplesPerSec)} examples/s`,
        );
      }
    });
    trainer.on('epoch', (e) =>
      console.log(`epoch ${e.epoch + 1} done: test accuracy ${(e.testAccuracy * 100).toFixed(1)}%`),
    );
    console.log(`room hosted here; volunteers join with ${room.joinUrl}`);
    trainer.run().then(
      (r) => {
        console.log(`training done: test accuracy ${(r.testAccuracy * 100).toFixed(1)}%`);
        host.close('training done');
      },
      (e: unknown) => console.error(`training stopped: ${(e as Error).message}`),
    );
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      trainer?.stop();
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
