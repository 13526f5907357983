/** In-memory classification data with indexed access: what a worker gathers a shard from. */
import { GradroomError } from '@gradroom/core';

export interface Dataset {
  readonly name: string;
  readonly size: number;
  /** Shape of one example, e.g. [784] or [28, 28, 1]. */
  readonly inputShape: number[];
  readonly features: number;
  readonly classes: number;
  /** Features of example i live at x[i*features .. (i+1)*features). */
  readonly x: Float32Array;
  /** Class label of each example. */
  readonly y: Uint8Array;
}

export interface Examples {
  x: Float32Array;
  y: Int32Array;
}

/** Copies the examples at `indices` into contiguous buffers, checking every index. */
export function gather(ds: Dataset, indices: ArrayLike<number>): Examples {
  const f = ds.features;
  const x = new Float32Array(indices.length * f);
  const y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.size) {
      throw new GradroomError('BAD_MESSAGE', `${ds.name}: example index ${i} is outside 0..${ds.size - 1}`);
    }
    x.set(ds.x.subarray(i * f, (i + 1) * f), k * f);
    y[k] = ds.y[i];
  }
  return { x, y };
}

/** Indices 0..n-1, for evaluating on a whole split. */
export function allIndices(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
