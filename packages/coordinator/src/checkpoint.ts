/**
 * Checkpoints: everything needed to continue a run exactly as if it had never stopped (weights,
 * optimizer state, schedule position and manual changes, planner position, seed, loss average).
 * Encoded with msgpackr so typed arrays stay binary; written atomically by the stores.
 */
import {
  type EwaState,
  GradroomError,
  type ManualChange,
  type OptimizerState,
  type Position,
  type TensorShape,
} from '@gradroom/core';
import { Packr } from 'msgpackr';
import type { JobConfig } from './job.js';

export const CHECKPOINT_FORMAT = 'gradroom-checkpoint/1';

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  job: JobConfig;
  layout: TensorShape[];
  weights: Float32Array;
  optimizer: OptimizerState;
  /** The next iteration to run. */
  position: Position;
  manual: ManualChange[];
  lossEwa: EwaState;
  savedAt: string;
}

/** Where checkpoints go: a file in Node (checkpoint-file.ts), IndexedDB in a browser (browser.ts). */
export interface CheckpointStore {
  save(bytes: Uint8Array): Promise<void>;
  /** null when nothing was saved yet. */
  load(): Promise<Uint8Array | null>;
}

const packr = new Packr({ moreTypes: true });

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return packr.pack(c);
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  let c: Checkpoint;
  try {
    c = packr.unpack(bytes) as Checkpoint;
  } catch (e) {
    throw new GradroomError('BAD_STATE', `checkpoint is unreadable: ${(e as Error).message}`);
  }
  if (c?.format !== CHECKPOINT_FORMAT)
    throw new GradroomError('BAD_STATE', 'not a gradroom checkpoint (format field missing or unknown)');
  if (!(c.weights instanceof Float32Array)) throw new GradroomError('BAD_STATE', 'checkpoint weights are missing');
  // msgpackr may hand back typed arrays that view a shared buffer; own copies keep later writes apart
  c.weights = new Float32Array(c.weights);
  for (const k of Object.keys(c.optimizer.slots)) c.optimizer.slots[k] = new Float32Array(c.optimizer.slots[k]);
  return c;
}

/** An in-memory store, for tests and for a host page that only needs pause/resume. */
export class MemoryCheckpointStore implements CheckpointStore {
  private bytes: Uint8Array | null = null;
  async save(bytes: Uint8Array): Promise<void> {
    this.bytes = bytes.slice();
  }
  async load(): Promise<Uint8Array | null> {
    return this.bytes?.slice() ?? null;
  }
}
