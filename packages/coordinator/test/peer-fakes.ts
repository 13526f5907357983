/** Real threads presented as volunteer peers (untrusted), with their answers changed by a test. */
import type { LocalResultData } from '@gradroom/worker';
import type { WorkerHandle } from '../src/worker-handle.js';

export interface PeerEdits {
  info?: (i: Awaited<ReturnType<WorkerHandle['init']>>) => Awaited<ReturnType<WorkerHandle['init']>>;
  /** The gradient sum of its `call`-th shard (1-based). */
  result?: (call: number, g: Float32Array) => Float32Array;
  /** Its `call`-th local round's answer. */
  local?: (call: number, r: LocalResultData) => LocalResultData;
}

export function asPeer(inner: WorkerHandle, edit: PeerEdits = {}): WorkerHandle {
  let calls = 0;
  let rounds = 0;
  const trainLocal = inner.trainLocal;
  return {
    ...inner,
    kind: 'peer',
    init: async (init) => (edit.info ?? ((i) => i))(await inner.init(init)),
    compute: async (req) => {
      const r = await inner.compute(req);
      calls++;
      return edit.result ? { ...r, gradSum: edit.result(calls, r.gradSum) } : r;
    },
    trainLocal: trainLocal
      ? async (req) => {
          const r = await trainLocal(req);
          rounds++;
          return edit.local ? edit.local(rounds, r) : r;
        }
      : undefined,
  };
}
