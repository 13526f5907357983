/**
 * The seam between the host page and its coordinator worker. Calls go page -> worker through
 * comlink (CoordinatorApi); events go worker -> page as plain messages on a MessagePort (HostEvent),
 * one per trainer or room event, without weights or gradients.
 */
import type {
  ClassAccuracy,
  ClassDataReport,
  EpochEvent,
  EvaluationEvent,
  IterationEvent,
  JobConfig,
  PeerEvent,
  TrainerEvents,
  WorkerEvent,
  WorkerStatus,
} from '@gradroom/coordinator/browser';
import type { BackendName } from '@gradroom/worker/catalog';
import type { CreatedRoom } from '../host/room.js';
import type { PanelResult } from './predictor.js';

export interface SavedRun {
  epoch: number;
  epochs: number;
  iteration: number;
}

export interface RunOptions {
  /** Web Workers the coordinator worker starts for "this tab trains too" (0: none). */
  local: number;
  backends?: BackendName[];
  /** 'all': every worker takes a share, even where its link costs more than it adds (default 'cost'). */
  planning?: 'cost' | 'all';
  /** Test accuracy (0..1) the run is timed to: the test split is scored every `evalEvery` iterations until reached. */
  target?: number;
  evalEvery?: number;
}

/** A local worker's id and the name the table shows for it. */
export interface LocalWorker {
  id: string;
  name: string;
}

export interface RunTruth {
  iterations: number;
  /** Examples over the run's iterations (steps). */
  examples: number;
  last?: IterationEvent;
  epochs: EpochEvent[];
  /** performance.now() in the coordinator worker at each iteration event, from `since` on (bench). */
  times: number[];
}

export type HostEvent =
  | { type: 'iteration'; e: IterationEvent }
  | { type: 'epoch'; e: EpochEvent }
  /** The test split scored mid-epoch (RunOptions.evalEvery), until the target is reached. */
  | { type: 'evaluation'; e: EvaluationEvent }
  | { type: 'worker'; e: WorkerEvent }
  | { type: 'state'; e: TrainerEvents['state'] }
  | { type: 'run'; job: JobConfig; local: LocalWorker[]; resumedFrom?: { epoch: number; iteration: number } }
  /** The pool's view of every worker, sent when it changes (at most a few times a second). */
  | { type: 'workers'; list: WorkerStatus[] }
  | { type: 'peer'; e: PeerEvent }
  | { type: 'log'; line: string }
  /** A checkpoint was saved at this iteration (the page saves its chart history with it). */
  | { type: 'checkpoint'; iteration: number }
  | { type: 'ended'; stopped: boolean; testAccuracy: number; iterations: number; error?: string }
  /** Test digits with the model's predictions after an epoch (epoch counts from 1), or at a stop (stoppedAt: its iteration). */
  | { type: 'predictions'; epoch: number; panel: PanelResult; stoppedAt?: number }
  /** Counts [true class][predicted class] over the test split, at the end of a run (finished or stopped). */
  | { type: 'confusion'; matrix: number[][] }
  /** Draw to train: the class's drawings as counts (thumbnails only of shared ones) and their accuracy. */
  | { type: 'class'; report: ClassDataReport; before?: ClassAccuracy; now?: ClassAccuracy };

export interface ExportedModel {
  modelJson: string;
  weights: ArrayBuffer;
}

export interface CoordinatorApi {
  /** Wires the event port and the WebRTC bridge port; `pageHref` is the host page's address. */
  init(events: MessagePort, peers: MessagePort, pageHref: string): void;
  /** Creates a room, or hosts `again` (a room this tab created before a reload). */
  openRoom(key?: string, again?: CreatedRoom): Promise<CreatedRoom>;
  /** Starts a run; rejects with a readable message for a bad job. */
  start(job: JobConfig, opts: RunOptions): Promise<void>;
  /** Continues the run saved in this browser (IndexedDB). */
  continueSaved(opts: RunOptions): Promise<SavedRun>;
  savedRun(): Promise<SavedRun | null>;
  pause(): void;
  resume(): void;
  stop(): void;
  /** Sets α from the next iteration on; returns that iteration. */
  setLearningRate(lr: number): number;
  /** Class probabilities of a drawn digit with the current weights (features in [0, 1]). */
  classify(pixels: Float32Array): Promise<number[]>;
  /**
   * The run's current weights as a tfjs layers model: model.json (its weights manifest names
   * `model.weights.bin`) and the weights' bytes, ready to download; tf.loadLayersModel loads them.
   */
  exportModel(): Promise<ExportedModel>;
  /** The trainer's own account of the run so far (tests compare the page's figures with it). */
  truth(since?: number): RunTruth;
  /** With `wiretap=1` in the page's address: every message students sent (tests check no drawing is in them). */
  wiretap(): { from: string; m: unknown }[];
  /** Draw to train: evaluates the run's current weights on the class's held-out drawings now. */
  evaluateClass(): Promise<void>;
  /** Worker -> page -> worker through the bridge port: MB/s and ms per 256 KiB chunk, for the bench. */
  measureBridge(megabytes: number): Promise<{ mbPerSec: number; msPerChunk: number }>;
}
