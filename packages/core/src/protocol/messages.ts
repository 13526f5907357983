/**
 * The wire protocol between a coordinator and its workers (remote peers and local workers alike).
 * Every message carries the protocol version in `v`; typed arrays travel as binary (msgpackr).
 *
 * Vocabulary (DESIGN.md): an iteration is one mini-batch and one optimizer update; `version` is the
 * weights version a computation used. A result for another version or iteration is discarded.
 */
import type { DatasetSpec, ModelSpec, TensorShape } from '../specs.js';

/**
 * 2: draw to train (drawings, class-eval, class-evaluated, local-result.ownExamples).
 * 3: exact mode's packed floats (weights-change, assign.pack, result.gradPacked).
 */
export const PROTOCOL_VERSION = 3;

/** What a worker needs to start: model, data and the parameter layout it must agree with. */
export interface TaskSpec {
  model: ModelSpec;
  dataset: DatasetSpec;
  layout: TensorShape[];
  paramCount: number;
}

/** peer -> coordinator: first message; `token` is the room token. */
export interface HelloMessage {
  v: number;
  type: 'hello';
  token: string;
  name: string;
  backends: string[];
}

/** coordinator -> peer: accepted; the peer then sets up the task. */
export interface WelcomeMessage {
  v: number;
  type: 'welcome';
  peerId: string;
  task: TaskSpec;
}

/** coordinator -> peer: the task changed (a new run in the same room). */
export interface TaskMessage {
  v: number;
  type: 'task';
  task: TaskSpec;
}

/** coordinator -> peer: the weights of `version`. */
export interface WeightsMessage {
  v: number;
  type: 'weights';
  version: number;
  weights: Float32Array;
}

/**
 * coordinator -> peer: the weights of `version` as a change from those of `base`, the last weights
 * message this peer was sent: their bits XORed, packed losslessly (packed-floats.ts).
 */
export interface WeightsChangeMessage {
  v: number;
  type: 'weights-change';
  version: number;
  base: number;
  packed: Uint8Array;
}

/** coordinator -> peer: compute sums over these example indices against weights `version`. */
export interface AssignMessage {
  v: number;
  type: 'assign';
  iteration: number;
  version: number;
  shardId: number;
  indices: Uint32Array;
  /**
   * The shard's examples themselves, for a peer that has not fetched them (exact mode over a chunked
   * image data set, TrainerOptions.shardExamples): each example's bytes in the order of `indices`,
   * features per example at a time, and its class label. Both or neither.
   */
  pixels?: Uint8Array;
  labels?: Uint8Array;
  /** Answer with the gradient sum packed losslessly (result.gradPacked), not as float32. */
  pack?: boolean;
}

/**
 * peer -> coordinator: the sums over one shard (never means, DESIGN.md contract 2). The gradient sum
 * as exactly one of `gradSum` or `gradPacked` (packed-floats.ts; when the assign asked for it).
 */
export interface ResultMessage {
  v: number;
  type: 'result';
  iteration: number;
  version: number;
  shardId: number;
  gradSum?: Float32Array;
  gradPacked?: Uint8Array;
  lossSum: number;
  correct: number;
  count: number;
  computeMs: number;
  backend: string;
}

/** both ways: liveness; `t` is the sender's clock in ms, echoed by the reply in `echo`. */
export interface HeartbeatMessage {
  v: number;
  type: 'heartbeat';
  t: number;
  echo?: number;
}

/** both ways: the sender is going away on purpose. */
export interface LeaveMessage {
  v: number;
  type: 'leave';
  reason: string;
}

/** both ways: something the receiver sent was refused. */
export interface ErrorMessage {
  v: number;
  type: 'error';
  code: string;
  message: string;
}

/** peer -> coordinator: the task is set up (backend, model layout, data sizes). */
export interface ReadyMessage {
  v: number;
  type: 'ready';
  backend: string;
  device?: string;
  layout: TensorShape[];
  paramCount: number;
  trainSize: number;
  testSize: number;
}

/** coordinator -> peer: loss and accuracy sums over `indices` of a split, against weights `version`. */
export interface EvaluateMessage {
  v: number;
  type: 'evaluate';
  evalId: number;
  version: number;
  split: 'train' | 'test';
  indices: Uint32Array;
}

/** peer -> coordinator: the sums an evaluate asked for. */
export interface EvaluatedMessage {
  v: number;
  type: 'evaluated';
  evalId: number;
  lossSum: number;
  correct: number;
  count: number;
}

/** coordinator -> peer: the room's progress and this peer's share of the last mini-batch, for its page. */
export interface ShareMessage {
  v: number;
  type: 'share';
  /** Iterations done, and the epoch the last one belonged to (0-based). */
  iteration: number;
  epoch: number;
  /** The room's training loss, EWA-smoothed with bias correction. */
  loss: number;
  share: number;
  workers: number;
  /** Why the planner leaves this peer out for now ('standing by: its link costs ...'), with the figures. */
  standby?: string;
  /** The run's state when it changes (paused by the teacher, stopped, finished, ...). */
  state?: 'running' | 'paused' | 'waiting' | 'stopped' | 'done' | 'failed';
  /** With state 'done' or 'stopped': the run's last test accuracy. */
  testAccuracy?: number;
  /** This peer's examples/s as the coordinator measures it: the figure the host's table shows. */
  speed?: number;
}

/**
 * coordinator -> peer, mode local: one inner step on each mini-batch (the `sizes` split `indices`
 * into them, in order) with learning rate `lrs[k]`, from the weights of `version`; answer with the
 * pseudo-gradient w_start - w_end.
 */
export interface LocalMessage {
  v: number;
  type: 'local';
  round: number;
  version: number;
  indices: Uint32Array;
  sizes: Uint32Array;
  lrs: Float32Array;
  /** The inner optimizer (a core OptimizerConfig; checked by core's own validation). */
  inner: Record<string, unknown>;
  compress: 'none' | 'fp16' | 'int8' | 'topk';
  /**
   * Compressed weights: the change from the peer's view of `baseVersion` (the weights it started
   * its last round from), as fp16 bits (`whalf`) or int8 (`wq8`, `wscales`, `wblock`). Absent: the
   * weights of `version` came in a 'weights' message.
   */
  baseVersion?: number;
  whalf?: Uint16Array;
  wq8?: Int8Array;
  wscales?: Float32Array;
  wblock?: number;
  /**
   * Examples of the peer's next chunks (one per chunk, at most MAX_PREFETCH): it fetches them while
   * it trains this round, so the next round does not wait on the link for its data.
   */
  prefetch?: Uint32Array;
  /** Overlap: sent before its round opened, from weights one outer step old; a 'catchup' for this round will come. */
  early?: boolean;
}

/**
 * coordinator -> peer, mode local's warm start: the examples of the chunks the peer will train first
 * (one per chunk, at most MAX_PREFETCH). It fetches them while it waits, so its first round does not
 * start by waiting on the link. No answer.
 */
export interface PrefetchMessage {
  v: number;
  type: 'prefetch';
  examples: Uint32Array;
}

/**
 * coordinator -> peer, overlap: the outer step the peer's early round `round` missed (the newest
 * weights - the weights it started from), int8 with one float32 scale per `block` values. The peer
 * adds it before its next inner step (before its first, if the round has not started). No answer.
 */
export interface CatchUpMessage {
  v: number;
  type: 'catchup';
  round: number;
  q8: Int8Array;
  scales: Float32Array;
  block: number;
}

/**
 * peer -> coordinator: a local round's pseudo-gradient, as exactly one of `delta` (float32),
 * `half` (fp16 bits) or `q8` with one float32 `scales` entry per `block` values.
 */
export interface LocalResultMessage {
  v: number;
  type: 'local-result';
  round: number;
  version: number;
  delta?: Float32Array;
  half?: Uint16Array;
  q8?: Int8Array;
  scales?: Float32Array;
  block?: number;
  /**
   * Compression topk: q8 holds only the kept values; `places[i]` is the i-th one's place in its
   * block, `keep` how many a block keeps, `values` how many the update stands for.
   */
  places?: Uint8Array;
  keep?: number;
  values?: number;
  lossSum: number;
  correct: number;
  count: number;
  computeMs: number;
  backend: string;
  /**
   * Draw to train: how many of the peer's own examples (its student's drawings, which never leave
   * the tab) its inner steps mixed in this round. A count only; `count` stays the shared examples.
   */
  ownExamples?: number;
  /** Overlap: a 'catchup' reached this round between two of its inner steps (a count for the events). */
  caughtUp?: boolean;
}

/** The classes (digits) a student's drawings may be labelled with: 0..MAX_CLASS_DIGITS-1. */
export const MAX_CLASS_DIGITS = 10;
/** Pixels of one shared thumbnail: 28x28 grey levels, 0 (paper) to 255 (ink). */
export const THUMBNAIL_PIXELS = 28 * 28;
/** Thumbnails one peer may share, and drawings it may report per digit. */
export const MAX_SHARED_THUMBNAILS = 30;
export const MAX_DRAWINGS_PER_DIGIT = 1000;

/**
 * peer -> coordinator, draw to train: what the student's drawings are, as counts per digit (training
 * and held out). Pixels travel only for the drawings the student chose to share (`shared`: one
 * 28x28 grey image after the other, `sharedDigits[k]` the label of the k-th); `named`: the student
 * lets the host show their name under them.
 */
export interface DrawingsMessage {
  v: number;
  type: 'drawings';
  counts: number[];
  heldOut: number[];
  shared?: Uint8Array;
  sharedDigits?: number[];
  named?: boolean;
}

/** coordinator -> peer: the held-out drawings' accuracy under these weights (a federated evaluation). */
export interface ClassEvalMessage {
  v: number;
  type: 'class-eval';
  evalId: number;
  weights: Float32Array;
}

/** peer -> coordinator: per digit, held-out drawings right and in all; never pixels. */
export interface ClassEvaluatedMessage {
  v: number;
  type: 'class-evaluated';
  evalId: number;
  correct: number[];
  count: number[];
}

export type Message =
  | DrawingsMessage
  | ClassEvalMessage
  | ClassEvaluatedMessage
  | LocalMessage
  | PrefetchMessage
  | CatchUpMessage
  | LocalResultMessage
  | HelloMessage
  | ReadyMessage
  | EvaluateMessage
  | EvaluatedMessage
  | ShareMessage
  | WelcomeMessage
  | TaskMessage
  | WeightsMessage
  | WeightsChangeMessage
  | AssignMessage
  | ResultMessage
  | HeartbeatMessage
  | LeaveMessage
  | ErrorMessage;

export type MessageType = Message['type'];

/** A message without its protocol version field. */
export type Unversioned<T> = T extends unknown ? Omit<T, 'v'> : never;

/** A message with `v` set to this protocol version. */
export function msg(m: Unversioned<Message>): Message {
  return { v: PROTOCOL_VERSION, ...m } as Message;
}
