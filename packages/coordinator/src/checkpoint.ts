/**
 * Checkpoints: everything needed to continue a run exactly as if it had never stopped (weights,
 * optimizer state, schedule position and manual changes, planner position, seed, loss average).
 * Encoded with msgpackr so typed arrays stay binary; written atomically by the stores.
 */
import {
  createOptimizer,
  Ewa,
  type EwaState,
  GradroomError,
  type ManualChange,
  type OptimizerState,
  ParamLayout,
  type PartitionProgress,
  type Position,
  specLayout,
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
  /** Mode local over partitions: per chunk, its examples trained in the epoch under way. */
  partition?: PartitionProgress;
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
  if (!c.optimizer || typeof c.optimizer.slots !== 'object' || c.optimizer.slots === null)
    throw new GradroomError('BAD_STATE', 'checkpoint optimizer state is missing');
  // msgpackr may hand back typed arrays that view a shared buffer; own copies keep later writes apart
  c.weights = new Float32Array(c.weights);
  for (const k of Object.keys(c.optimizer.slots)) {
    const slot = c.optimizer.slots[k];
    if (!(slot instanceof Float32Array))
      throw new GradroomError('BAD_STATE', `checkpoint optimizer slot "${k}" is not a Float32Array`);
    c.optimizer.slots[k] = new Float32Array(slot);
  }
  checkFinite(c);
  return c;
}

/**
 * A run resumed from NaN or Inf can only produce NaN (issue 10: it spun forever), so such a
 * checkpoint is refused when loaded, naming where the first bad value is.
 */
function checkFinite(c: Checkpoint): void {
  const refuse = (what: string) => {
    throw new GradroomError(
      'NON_FINITE',
      `checkpoint holds ${what}: the run had diverged when it was saved; start again with a lower learning rate`,
    );
  };
  const bad = firstNonFinite(c.weights);
  if (bad >= 0) refuse(`a non-finite weight (${c.weights[bad]} at index ${bad})`);
  for (const [k, slot] of Object.entries(c.optimizer.slots)) {
    const i = firstNonFinite(slot);
    if (i >= 0) refuse(`a non-finite value in the optimizer's "${k}" state (${slot[i]} at index ${i})`);
  }
  if (!Number.isFinite(c.optimizer.t)) refuse(`a non-finite optimizer step count (${c.optimizer.t})`);
  if (c.lossEwa && !Number.isFinite(c.lossEwa.value)) refuse(`a non-finite loss average (${c.lossEwa.value})`);
  for (const m of c.manual ?? [])
    if (!Number.isFinite(m.lr)) refuse(`a non-finite manual learning rate (${m.lr} at iteration ${m.iteration})`);
}

function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/**
 * A checkpoint at iteration 0 that starts `job` from given weights instead of fresh ones (fine-tuning;
 * `gradroom train --init-model`): `Trainer.fromCheckpoint(encodeCheckpoint(startingCheckpoint(...)))`.
 * The layout must be the job's model's: checked here for a zoo model, by the trainer against what the
 * first worker builds for a layers topology.
 */
export function startingCheckpoint(job: JobConfig, layout: TensorShape[], weights: Float32Array): Checkpoint {
  const given = new ParamLayout(layout);
  given.check(weights);
  const expected = specLayout(job.model);
  if (expected && !given.equals(new ParamLayout(expected))) {
    const show = (l: TensorShape[]) => l.map((t) => `${t.name} [${t.shape.join(',')}]`).join(', ');
    throw new GradroomError(
      'BAD_CONFIG',
      `the given weights do not fit the job's model: they hold ${show(layout)}; the model needs ${show(expected)}`,
    );
  }
  const c: Checkpoint = {
    format: CHECKPOINT_FORMAT,
    job,
    layout: given.shapes(),
    weights: new Float32Array(weights),
    optimizer: createOptimizer(job.optimizer).state(),
    position: { epoch: 0, batch: 0, iteration: 0 },
    manual: [],
    lossEwa: new Ewa(0.9).state(),
    savedAt: new Date().toISOString(),
  };
  checkFinite(c);
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
