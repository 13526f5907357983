/**
 * One worker as the trainer sees it, whatever carries its messages: a Node worker thread, a Web
 * Worker, or a volunteer peer over WebRTC. A handle whose worker is gone settles `closed` and
 * rejects every pending call, so the trainer can plan the lost shard again.
 */
import type {
  EvalRequest,
  EvalResultData,
  ShardRequest,
  ShardResultData,
  WorkerInfo,
  WorkerInit,
} from '@gradroom/worker';

export type WorkerKind = 'thread' | 'web-worker' | 'peer';

export interface WorkerHandle {
  readonly id: string;
  readonly kind: WorkerKind;
  /** compute/evaluate take `weights` in the request itself (one message instead of two). */
  readonly inlineWeights?: boolean;
  init(init: WorkerInit): Promise<WorkerInfo>;
  /** The handle may transfer the buffer it is given; callers pass a copy they no longer need. */
  setWeights(version: number, weights: Float32Array): Promise<void>;
  compute(req: ShardRequest): Promise<ShardResultData>;
  evaluate(req: EvalRequest): Promise<EvalResultData>;
  memory(): Promise<{ numTensors: number; numBytes: number }>;
  /** Ends the worker; pending calls reject. */
  close(reason: string): Promise<void>;
  /** Settles with the reason once the worker is gone, for whatever cause. */
  readonly closed: Promise<string>;
}

/** Raised for calls on a worker that went away. */
export class WorkerGoneError extends Error {
  constructor(
    readonly workerId: string,
    readonly reason: string,
  ) {
    super(`worker ${workerId} is gone: ${reason}`);
    this.name = 'WorkerGoneError';
  }
}

/**
 * Wraps a remote call so that it rejects as soon as the worker is closed: comlink never settles a
 * call whose worker died, so every call races the `closed` promise.
 */
export function raceClosed<T>(id: string, closed: Promise<string>, call: Promise<T>): Promise<T> {
  return Promise.race([
    call,
    closed.then((reason) => {
      throw new WorkerGoneError(id, reason);
    }),
  ]);
}
