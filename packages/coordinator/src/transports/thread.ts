/** Local workers in Node: one worker_threads thread each, spoken to with comlink. */
import { Worker } from 'node:worker_threads';
import { settleOnce } from '@gradroom/core';
import type { LocalData, WorkerApi } from '@gradroom/worker';
import { nodeEndpoint } from '@gradroom/worker/comlink-node';
import * as Comlink from 'comlink';
import type { WorkerHandle } from '../worker-handle.js';
import { comlinkHandle } from './comlink-handle.js';

let counter = 0;

export interface ThreadOptions {
  /** Where tfjs's chatter on stdout goes: the thread's stdout is piped to this stream (default stderr). */
  stdout?: NodeJS.WritableStream;
  /**
   * The host of a room: the data set's folder and the URL its room server serves it under. The
   * thread reads those files from disk (still checked against their SHA-256), not over HTTP from
   * its own server on the same CPU.
   */
  localData?: LocalData;
}

export function spawnThreadWorker(opts: ThreadOptions = {}): WorkerHandle {
  const id = `thread-${++counter}`;
  const url = new URL(import.meta.resolve('@gradroom/worker/node-thread'));
  // stdout: true keeps tfjs's banner off our stdout, where --json lines go
  const thread = new Worker(url, {
    stdout: true,
    ...(opts.localData ? { workerData: { localData: opts.localData } } : {}),
  });
  thread.stdout.pipe(opts.stdout ?? process.stderr);
  const api = Comlink.wrap<WorkerApi>(nodeEndpoint(thread));
  const { promise: closed, settle } = settleOnce();
  thread.on('error', (e) => settle(`thread crashed: ${e.message}`));
  thread.on('exit', (code) => settle(`thread exited with code ${code}`));
  return comlinkHandle({
    id,
    kind: 'thread',
    api,
    closed,
    end: async (reason) => {
      settle(reason);
      api[Comlink.releaseProxy]();
      await thread.terminate();
    },
  });
}
