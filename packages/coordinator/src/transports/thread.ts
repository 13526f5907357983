/** Local workers in Node: one worker_threads thread each, spoken to with comlink. */
import { Worker } from 'node:worker_threads';
import type { WorkerApi } from '@gradroom/worker';
import { nodeEndpoint } from '@gradroom/worker/comlink-node';
import * as Comlink from 'comlink';
import { raceClosed, type WorkerHandle } from '../worker-handle.js';
import { withTransfer } from './transfer.js';

let counter = 0;

export interface ThreadOptions {
  /** Where tfjs's chatter on stdout goes: the thread's stdout is piped to this stream (default stderr). */
  stdout?: NodeJS.WritableStream;
}

export function spawnThreadWorker(opts: ThreadOptions = {}): WorkerHandle {
  const id = `thread-${++counter}`;
  const url = new URL(import.meta.resolve('@gradroom/worker/node-thread'));
  // stdout: true keeps tfjs's banner off our stdout, where --json lines go
  const thread = new Worker(url, { stdout: true });
  thread.stdout.pipe(opts.stdout ?? process.stderr);
  const api = Comlink.wrap<WorkerApi>(nodeEndpoint(thread));
  let resolveClosed: (reason: string) => void = () => {};
  const closed = new Promise<string>((r) => {
    resolveClosed = r;
  });
  thread.on('error', (e) => resolveClosed(`thread crashed: ${e.message}`));
  thread.on('exit', (code) => resolveClosed(`thread exited with code ${code}`));
  const guard = <T>(p: Promise<T>) => raceClosed(id, closed, p);
  return {
    id,
    kind: 'thread',
    inlineWeights: true,
    closed,
    init: (init) => guard(api.init(init)),
    setWeights: (version, w) => guard(api.setWeights(version, Comlink.transfer(w, [w.buffer]))),
    compute: (req) => guard(api.compute(withTransfer(req))),
    evaluate: (req) => guard(api.evaluate(withTransfer(req))),
    memory: () => guard(api.memory()),
    async close(reason: string) {
      resolveClosed(reason);
      api[Comlink.releaseProxy]();
      await thread.terminate();
    },
  };
}
