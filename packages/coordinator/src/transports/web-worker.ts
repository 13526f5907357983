/**
 * Local workers in a browser: one module Web Worker each (the worker bundle, apps/demo/dist/worker.js),
 * spoken to with comlink. Weights are transferred, not copied. A worker that fails to load or throws
 * at top level fires 'error': the handle then counts as closed and every pending call rejects.
 */
import { settleOnce } from '@gradroom/core';
import type { WorkerApi } from '@gradroom/worker';
import * as Comlink from 'comlink';
import type { WorkerHandle } from '../worker-handle.js';
import { comlinkHandle } from './comlink-handle.js';

let counter = 0;

export interface WebWorkerOptions {
  /** The handle's id (default web-worker-N). */
  id?: string;
  /** The Web Worker's name, shown in devtools (default: the id). */
  name?: string;
}

/**
 * Starts a module Web Worker from `url` (e.g. `new URL('worker.js?data=/data/', location.href)`;
 * the `data` parameter says where the worker fetches mnist.bin) and wraps it as a WorkerHandle.
 */
export function spawnWebWorker(url: string | URL, opts: WebWorkerOptions = {}): WorkerHandle {
  const id = opts.id ?? `web-worker-${++counter}`;
  const worker = new Worker(url, { type: 'module', name: opts.name ?? id });
  const api = Comlink.wrap<WorkerApi>(worker);
  const { promise: closed, settle } = settleOnce();
  let done = false;
  const end = (reason: string) => {
    if (done) return;
    done = true;
    settle(reason);
    api[Comlink.releaseProxy]();
    worker.terminate();
  };
  worker.addEventListener('error', (e: ErrorEvent) => {
    // an ErrorEvent from a worker that failed to load carries no message
    e.preventDefault();
    end(`web worker failed: ${e.message || 'script error (could not load or run the worker script)'}`);
  });
  worker.addEventListener('messageerror', () => end('web worker sent a message that could not be deserialized'));
  return comlinkHandle({ id, kind: 'web-worker', api, closed, end });
}
