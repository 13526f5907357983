// comlink ships its Node adapter as node-adapter.mjs with types in node-adapter.d.ts, a pairing
// TypeScript's NodeNext resolution does not join up; this re-export gives it a typed name.

import type { MessagePort, Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
// @ts-expect-error: see above
import adapter from 'comlink/dist/esm/node-adapter.mjs';

export const nodeEndpoint = adapter as (nep: MessagePort | Worker) => Endpoint;
