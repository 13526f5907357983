/**
 * The page's side of a Web Worker running the worker bundle: started (or taken as given), wrapped
 * with comlink, and watched, so a worker that fails to load, throws at top level or sends what cannot
 * be deserialized settles `failed` once. Shared by the coordinator's local Web Workers and a
 * volunteer tab's compute engine. No tfjs here: this runs on the page's main thread.
 */
import { settleOnce } from '@gradroom/core';
import * as Comlink from 'comlink';
import type { WorkerApi } from './api.js';
import { registerComlinkErrors } from './comlink-errors.js';

/**
 * Where the worker comes from: its script's URL (started as a module worker), a Worker a bundler
 * made (`new Worker(new URL('./w.ts', import.meta.url), { type: 'module' })`, which Vite and webpack
 * detect), or a function that makes one.
 */
export type WorkerSource = string | URL | Worker | (() => Worker);

export interface OpenedWorker {
  api: Comlink.Remote<WorkerApi>;
  /** Settles with the reason once the worker failed or was ended. */
  failed: Promise<string>;
  /** Ends the worker (idempotent); `failed` settles with `reason`. */
  end(reason: string): void;
}

export function openWebWorker(source: WorkerSource, name?: string): OpenedWorker {
  const worker =
    typeof source === 'string' || source instanceof URL
      ? new Worker(source, { type: 'module', name })
      : typeof source === 'function'
        ? source()
        : source;
  registerComlinkErrors();
  const api = Comlink.wrap<WorkerApi>(worker);
  const { promise: failed, settle } = settleOnce();
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
  return { api, failed, end };
}
