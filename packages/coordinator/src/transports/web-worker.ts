/**
 * Local workers in a browser: one module Web Worker each (the worker bundle, apps/demo/dist/worker.js),
 * spoken to with comlink. Weights are transferred, not copied. A worker that fails to load or throws
 * at top level fires 'error': the handle then counts as closed and every pending call rejects.
 */
import { openWebWorker, type WorkerSource } from '@gradroom/worker/web-worker-client';
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
 * Starts a module Web Worker from `source` and wraps it as a WorkerHandle. `source` is the worker
 * script's URL (e.g. `new URL('worker.js?data=/data/', location.href)`; the `data` parameter says
 * where the worker fetches mnist.bin), or a Worker your bundler made, or a function making one:
 * `spawnWebWorker(() => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }))`,
 * the form Vite and webpack detect and bundle.
 */
export function spawnWebWorker(source: WorkerSource, opts: WebWorkerOptions = {}): WorkerHandle {
  const id = opts.id ?? `web-worker-${++counter}`;
  const { api, failed: closed, end } = openWebWorker(source, opts.name ?? id);
  return comlinkHandle({ id, kind: 'web-worker', api, closed, end });
}
