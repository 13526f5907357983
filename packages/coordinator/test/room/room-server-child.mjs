#!/usr/bin/env node
// A room server in its own process, for tests that change its limits (ulimit -n) or may kill it.
// Usage: node room-server-child.mjs '{"dist":"/path"}'; prints "PORT n", then the server's log.
import { RoomServer } from '../../dist/room/server.js';

const o = JSON.parse(process.argv[2] ?? '{}');
const server = await RoomServer.start({ port: 0, ...o, log: (l) => console.log(l) });
console.log(`PORT ${server.port}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
