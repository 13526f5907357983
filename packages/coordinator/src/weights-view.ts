/**
 * Mode local with compressed weights: the coordinator's copy of the weights one worker started its
 * last round from. The next round's weights go to that worker as the compressed change from this
 * view; the view takes the same decoded change, so what rounding drops now is sent with the next
 * change instead of being lost.
 */
import { type Compression, decodeUpdate, type EncodedUpdate, encodeUpdate } from '@gradroom/core';
import type { WeightsSnapshot } from './worker-handle.js';

export interface WeightsChange {
  weightsDelta: EncodedUpdate;
  baseVersion: number;
}

export class WeightsView {
  private view?: { version: number; weights: Float32Array };
  /** The view while a round is out: unknown until it succeeds. */
  private pending?: { version: number; weights: Float32Array };

  /**
   * Starts a round on `snapshot`: the compressed change to send, or undefined when the worker has no
   * view yet (or nothing is compressed) and takes the full weights.
   */
  begin(snapshot: WeightsSnapshot, compress: Compression, compressWeights: boolean): WeightsChange | undefined {
    const view = this.view;
    this.view = undefined;
    this.pending = undefined;
    if (!compressWeights || compress === 'none') return undefined;
    if (!view) {
      this.pending = { version: snapshot.version, weights: snapshot.weights.slice() };
      return undefined;
    }
    const n = view.weights.length;
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = snapshot.weights[i] - view.weights[i];
    const e = encodeUpdate(d, compress);
    const dec = decodeUpdate(e, n);
    for (let i = 0; i < n; i++) view.weights[i] += dec[i];
    const change = { weightsDelta: e, baseVersion: view.version };
    view.version = snapshot.version;
    this.pending = view;
    return change;
  }

  /** The round succeeded: the worker keeps the weights it started from as its view. */
  commit(): void {
    this.view = this.pending;
    this.pending = undefined;
  }
}
