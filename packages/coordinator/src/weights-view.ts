/**
 * Mode local with compressed weights: the coordinator's copy of the weights one worker started its
 * last round from. The next round's weights go to that worker as the compressed change from this
 * view; the view takes the same decoded change, so what rounding drops now is sent with the next
 * change instead of being lost.
 */
import { type Compression, decodeUpdate, type EncodedUpdate, encodeUpdate, weightsCompression } from '@gradroom/core';
import type { WeightsSnapshot } from './worker-handle.js';

export interface WeightsChange {
  weightsDelta: EncodedUpdate;
  baseVersion: number;
}

/**
 * Changes already encoded towards a snapshot, by the view they started from: in a steady room every
 * member holds the same view, so one encoding serves them all (a host at a fifth of a CPU spent
 * ~15 ms a member on it, on the round's critical path). Dropped with the snapshot.
 */
interface Encoded {
  baseVersion: number;
  base: Float32Array;
  after: Float32Array;
  change: EncodedUpdate;
}
const encodedFor = new WeakMap<WeightsSnapshot, Encoded[]>();
/** Distinct views kept per snapshot: a room of members on many different views encodes the rest itself. */
const MAX_SHARED = 4;

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
    // topk is for what members send back; a member's start must be the room's weights, so the
    // weights go out dense, as int8 (a member's view drifting off the weights costs accuracy)
    const kind = weightsCompression(compress);
    if (!view) {
      this.pending = { version: snapshot.version, weights: snapshot.weights.slice() };
      return undefined;
    }
    const shared = encodedFor.get(snapshot) ?? [];
    const hit = shared.find(
      (x) => x.baseVersion === view.version && x.change.kind === kind && sameValues(x.base, view.weights),
    );
    let e: EncodedUpdate;
    if (hit) {
      e = hit.change;
      view.weights.set(hit.after);
    } else {
      const n = view.weights.length;
      const base = shared.length < MAX_SHARED ? view.weights.slice() : undefined;
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = snapshot.weights[i] - view.weights[i];
      e = encodeUpdate(d, kind);
      const dec = decodeUpdate(e, n);
      for (let i = 0; i < n; i++) view.weights[i] += dec[i];
      if (base) {
        shared.push({ baseVersion: view.version, base, after: view.weights.slice(), change: e });
        encodedFor.set(snapshot, shared);
      }
    }
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
