/** Test-only wrappers around real worker handles: slow workers, workers killed mid-shard, liars. */
import type { WorkerHandle } from '../src/worker-handle.js';

/** A real worker that computes `msPerExample` slower, like a slower device: it should get smaller shards. */
export function slowed(inner: WorkerHandle, msPerExample: number): WorkerHandle {
  return {
    ...inner,
    id: inner.id,
    kind: inner.kind,
    closed: inner.closed,
    compute: async (req) => {
      const r = await inner.compute(req);
      await new Promise((res) => setTimeout(res, msPerExample * req.indices.length));
      return r;
    },
  };
}

/** A real worker thread that is terminated while computing its `n`-th shard (1-based). */
export function killedAt(inner: WorkerHandle, n: number, onKill?: () => void): WorkerHandle {
  let calls = 0;
  return {
    ...inner,
    closed: inner.closed,
    compute: (req) => {
      calls++;
      const p = inner.compute(req);
      if (calls === n) {
        onKill?.();
        void inner.close('killed by the test mid-iteration');
      }
      return p;
    },
  };
}

/** A worker that computes honestly but corrupts its `n`-th result with `corrupt`. */
export function corruptAt(inner: WorkerHandle, n: number, corrupt: (g: Float32Array) => Float32Array): WorkerHandle {
  let calls = 0;
  return {
    ...inner,
    closed: inner.closed,
    compute: async (req) => {
      const r = await inner.compute(req);
      calls++;
      return calls === n ? { ...r, gradSum: corrupt(r.gradSum) } : r;
    },
  };
}

/** A real worker that stops answering from its `n`-th shard on (a frozen tab): its calls never settle. */
export function hangsFrom(inner: WorkerHandle, n: number): WorkerHandle {
  let calls = 0;
  return {
    ...inner,
    closed: inner.closed,
    compute: (req) => (++calls >= n ? new Promise(() => {}) : inner.compute(req)),
  };
}
