/** What a worker can be asked to do (a task of each kind) and what the result gate gives back for it. */
import type { CheckedShard, CheckedUpdate, Compression, Counts, OptimizerConfig } from '@gradroom/core';

/** Exact mode: a shard of one mini-batch, answered with its gradient sum. */
export interface TrainTask {
  kind: 'train';
  iteration: number;
  shardId: number;
  indices: Uint32Array;
  paramCount: number;
}

/** Loss and accuracy over a shard of a split. */
export interface EvalTask {
  kind: 'evaluate';
  shardId: number;
  indices: Uint32Array;
  split: 'train' | 'test';
}

/** Mode local: one worker's part of a round, consecutive mini-batches, one inner step each. */
export interface LocalTask {
  kind: 'local';
  round: number;
  groupId: number;
  batches: Uint32Array[];
  lrs: number[];
  inner: OptimizerConfig;
  compress: Compression;
  /** Send the weights as a compressed change from the worker's view (when it has one). */
  compressWeights: boolean;
  paramCount: number;
  /** Examples of the chunks the worker's next round will need (partitions): fetched meanwhile. */
  prefetch?: Uint32Array;
  /** Overlap: started before its round opened; its round sends it the outer step it missed (catchUp). */
  early?: boolean;
}

export type Task = TrainTask | EvalTask | LocalTask;

/** What the result gate returns for each kind of task. */
export type Checked<T extends Task> = T extends TrainTask ? CheckedShard : T extends LocalTask ? CheckedUpdate : Counts;

export interface ShardOutcome<R> {
  sums: R;
  roundTripMs: number;
  computeMs: number;
  /** Payload bytes this call moved through the coordinator: weights and indices out, sums in. */
  bytesOut: number;
  bytesIn: number;
}
