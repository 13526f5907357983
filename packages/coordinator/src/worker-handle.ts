/**
 * One worker as the trainer sees it, whatever carries its messages: a Node worker thread, a Web
 * Worker, or a volunteer peer over WebRTC. A handle whose worker is gone settles `closed` and
 * rejects every pending call, so the trainer can plan the lost shard again.
 */
import { encodeMessage, msg, packFloats, rejectWhenClosed } from '@gradroom/core';
import type { CatchUpRequest, WorkerSurface } from '@gradroom/worker';

export type WorkerKind = 'thread' | 'web-worker' | 'peer';

/** The worker surface (@gradroom/worker's WorkerSurface) as the coordinator reaches it. */
export interface WorkerHandle extends Omit<WorkerSurface, 'trainLocal'> {
  readonly id: string;
  readonly kind: WorkerKind;
  /** A name to show (a volunteer's chosen name); the id when absent. */
  readonly name?: string;
  /** compute/evaluate take `weights` in the request itself (one message instead of two). */
  readonly inlineWeights?: boolean;
  /**
   * Hands the worker the weights of a version (never modified: a handle that transfers copies
   * first); a peer's handle says how many bytes that took on the wire.
   */
  setWeights(snapshot: WeightsSnapshot): Promise<number | undefined>;
  /** Mode `local` (absent: this worker cannot take local rounds). */
  trainLocal?: WorkerSurface['trainLocal'];
  /** A hint to fetch the chunks of these examples now (absent: nothing to fetch ahead). */
  prefetch?(examples: Uint32Array): void;
  /**
   * Overlap: the outer step an early local round missed, for its next inner step (the worker's
   * LocalTrainer.catchUp). Fire and forget: too late, it changes nothing.
   */
  catchUp?(req: CatchUpRequest): void;
  memory(): Promise<{ numTensors: number; numBytes: number }>;
  /** Ends the worker; pending calls reject. */
  close(reason: string): Promise<void>;
  /**
   * An untrusted worker sent something the result gate refused: tell it and disconnect it (peers).
   * Absent for the run's own workers, which are struck instead.
   */
  refuse?(reason: string, code: string): void;
  /** Settles with the reason once the worker is gone, for whatever cause. */
  readonly closed: Promise<string>;
}

/** The weights of an earlier version, which a peer may still hold (a change is sent from them). */
export interface WeightsBase {
  readonly version: number;
  readonly weights: Float32Array;
}

/**
 * One weights version, immutable once made: every worker gets the same snapshot, and the wire
 * messages for peers are encoded once, on first use, and the same bytes go to every peer.
 */
export class WeightsSnapshot {
  private bytes?: Uint8Array;
  private changeBytes?: Uint8Array;
  constructor(
    readonly version: number,
    readonly weights: Float32Array,
    /** The snapshot before this one (its weights only: no chain of older versions stays held). */
    readonly base?: WeightsBase,
  ) {}

  /** The 'weights' message, encoded once. */
  encoded(): Uint8Array {
    this.bytes ??= encodeMessage(msg({ type: 'weights', version: this.version, weights: this.weights }));
    return this.bytes;
  }

  /**
   * The 'weights-change' message from `base` (packed-floats: exact, 0.55-0.6 of the float32 bytes
   * after a few hundred steps), encoded once; undefined without a base.
   */
  encodedChange(): Uint8Array | undefined {
    if (!this.base) return undefined;
    this.changeBytes ??= encodeMessage(
      msg({
        type: 'weights-change',
        version: this.version,
        base: this.base.version,
        packed: packFloats(this.weights, this.base.weights),
      }),
    );
    return this.changeBytes;
  }

  /** This snapshot as the next one's base. */
  asBase(): WeightsBase {
    return { version: this.version, weights: this.weights };
  }
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

/** Makes remote calls on worker `id` reject with WorkerGoneError once it is closed (core's rejectWhenClosed). */
export function closeGuard(id: string, closed: Promise<string>): <T>(call: Promise<T>) => Promise<T> {
  return rejectWhenClosed(closed, (reason) => new WorkerGoneError(id, reason));
}
