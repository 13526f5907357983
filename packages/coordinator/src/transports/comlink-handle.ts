/**
 * A WorkerHandle over a comlink proxy: the part Node worker threads and browser Web Workers share.
 * Weights move as transfers; every call races `closed`, since comlink never settles a call whose
 * worker died.
 */
import type { WorkerApi } from '@gradroom/worker';
import { registerComlinkErrors } from '@gradroom/worker/comlink-errors';
import * as Comlink from 'comlink';
import { closeGuard, type WorkerHandle, type WorkerKind } from '../worker-handle.js';

/** Moves a request's weights (a copy made for this call) to the worker instead of cloning them. */
export function withTransfer<R extends { weights?: Float32Array }>(req: R): R {
  return req.weights ? Comlink.transfer(req, [req.weights.buffer]) : req;
}

registerComlinkErrors();

export function comlinkHandle(opts: {
  id: string;
  kind: WorkerKind;
  api: Comlink.Remote<WorkerApi>;
  closed: Promise<string>;
  /** Ends the worker; called by close(). */
  end: (reason: string) => void | Promise<void>;
}): WorkerHandle {
  const { id, api, closed } = opts;
  const guard = closeGuard(id, closed);
  return {
    id,
    kind: opts.kind,
    inlineWeights: true,
    closed,
    init: (init) => guard(api.init(init)),
    setWeights: (snap) => {
      const w = snap.weights.slice(); // transferred: the snapshot stays whole for the others
      return guard(api.setWeights(snap.version, Comlink.transfer(w, [w.buffer]))).then(() => undefined);
    },
    compute: (req) => guard(api.compute(withTransfer(req))),
    evaluate: (req) => guard(api.evaluate(withTransfer(req))),
    trainLocal: (req) => guard(api.trainLocal(withTransfer(req))),
    prefetch: (examples) => {
      // a hint: a fetch that fails is tried again when a task needs the chunk
      guard(api.prefetch(examples)).catch(() => {});
    },
    catchUp: (req) => {
      guard(api.catchUp(req)).catch(() => {}); // too late, or the worker ended: counted as is
    },
    memory: () => guard(api.memory()),
    close: async (reason) => {
      await opts.end(reason);
    },
  };
}
