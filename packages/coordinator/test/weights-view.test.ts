/**
 * WeightsView: the coordinator's copy of what each worker started its last round from. A change to
 * the next snapshot is encoded once for every worker holding the same view, and each view ends where
 * encoding it alone would have put it (the worker applies the same decoded change).
 */
import { decodeUpdate } from '@gradroom/core';
import { describe, expect, it } from 'vitest';
import { WeightsView } from '../src/weights-view.js';
import { WeightsSnapshot } from '../src/worker-handle.js';

const N = 1000;
const weights = (seed: number) => Float32Array.from({ length: N }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

/** The view a worker holds after `changes`: its start, plus each decoded change. */
function replay(start: Float32Array, changes: readonly ReturnType<WeightsView['begin']>[]): Float32Array {
  const w = start.slice();
  for (const c of changes) {
    if (!c) continue;
    const d = decodeUpdate(c.weightsDelta, N);
    for (let i = 0; i < N; i++) w[i] += d[i];
  }
  return w;
}

describe('WeightsView', () => {
  for (const compress of ['fp16', 'int8'] as const) {
    it(`${compress}: workers on the same view share one encoding; a worker on another view gets its own`, () => {
      const s0 = new WeightsSnapshot(0, weights(0));
      const [a, b, c] = [new WeightsView(), new WeightsView(), new WeightsView()];
      for (const v of [a, b]) {
        expect(v.begin(s0, compress, true)).toBeUndefined(); // no view yet: the full weights
        v.commit();
      }
      // c starts a version later, so its view differs from a's and b's
      const s1 = new WeightsSnapshot(1, weights(1));
      const c1 = c.begin(s1, compress, true);
      c.commit();
      expect(c1).toBeUndefined();
      const a1 = a.begin(s1, compress, true);
      a.commit();
      const b1 = b.begin(s1, compress, true);
      b.commit();
      expect(a1?.weightsDelta).toBe(b1?.weightsDelta); // encoded once
      const s2 = new WeightsSnapshot(2, weights(2));
      const a2 = a.begin(s2, compress, true);
      a.commit();
      const c2 = c.begin(s2, compress, true);
      c.commit();
      const b2 = b.begin(s2, compress, true);
      b.commit();
      expect(a2?.weightsDelta).toBe(b2?.weightsDelta);
      expect(c2?.weightsDelta).not.toBe(a2?.weightsDelta);
      // each worker's replayed view is the coordinator's, so the next change is from the right base
      const s3 = new WeightsSnapshot(3, weights(3));
      for (const [v, start, changes] of [
        [a, s0.weights, [a1, a2]],
        [b, s0.weights, [b1, b2]],
        [c, s1.weights, [c2]],
      ] as const) {
        const held = replay(start, changes);
        const next = v.begin(s3, compress, true);
        v.commit();
        const d = decodeUpdate(next?.weightsDelta ?? { kind: 'fp16', length: 0, data: new Uint16Array() }, N);
        // held + the change lands within one rounding step of the snapshot
        let worst = 0;
        for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(held[i] + d[i] - s3.weights[i]));
        expect(worst).toBeLessThan(compress === 'fp16' ? 1e-3 : 1e-2);
      }
    });
  }
});
