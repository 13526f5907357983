/**
 * Wire <-> object, in one place for both ends of a room: the fields a compressed update takes in a
 * 'local' / 'local-result' message, and a result without its envelope. The coordinator's peer
 * handle and the volunteer both use these, so a field renamed here is renamed for both.
 */
import type { EncodedUpdate } from '../compress.js';
import { GradroomError } from '../errors.js';
import type { LocalMessage, LocalResultMessage, ResultMessage } from './messages.js';
import { packFloats, unpackFloats } from './packed-floats.js';

/** A compressed pseudo-gradient as a 'local-result' message's fields (`delta` when not compressed). */
export function updateFields(
  e: EncodedUpdate | undefined,
  delta: Float32Array | undefined,
): Pick<LocalResultMessage, 'delta' | 'half' | 'q8' | 'scales' | 'block' | 'places' | 'keep' | 'values'> {
  if (e?.kind === 'fp16') return { half: e.data };
  if (e?.kind === 'topk')
    return { q8: e.data, scales: e.scales, block: e.block, keep: e.keep, places: e.index, values: e.length };
  if (e?.kind === 'int8') return { q8: e.data, scales: e.scales, block: e.block };
  return { delta };
}

/** The compressed pseudo-gradient a 'local-result' message carries, if any. */
export function updateFrom(
  m: Pick<LocalResultMessage, 'half' | 'q8' | 'scales' | 'block' | 'places' | 'keep' | 'values'>,
): EncodedUpdate | undefined {
  if (m.half) return { kind: 'fp16', length: m.half.length, data: m.half };
  // the gate (decodeUpdate) checks that the counts agree with each other and with the task
  if (m.places && m.keep && m.values !== undefined && m.q8 && m.scales && m.block)
    return {
      kind: 'topk',
      length: m.values,
      block: m.block,
      keep: m.keep,
      index: m.places,
      data: m.q8,
      scales: m.scales,
    };
  if (m.q8 && m.scales && m.block)
    return { kind: 'int8', length: m.q8.length, block: m.block, data: m.q8, scales: m.scales };
  return undefined;
}

/** A compressed weights change as a 'local' message's fields (none without a base version). */
export function weightsChangeFields(
  e: EncodedUpdate | undefined,
  baseVersion: number | undefined,
): Pick<LocalMessage, 'baseVersion' | 'whalf' | 'wq8' | 'wscales' | 'wblock'> {
  if (!e || baseVersion === undefined) return {};
  return e.kind === 'fp16'
    ? { baseVersion, whalf: e.data }
    : { baseVersion, wq8: e.data, wscales: e.scales, wblock: e.block };
}

/** The compressed weights change a 'local' message carries, if any. */
export function weightsChangeFrom(
  m: Pick<LocalMessage, 'whalf' | 'wq8' | 'wscales' | 'wblock'>,
): EncodedUpdate | undefined {
  if (m.whalf) return { kind: 'fp16', length: m.whalf.length, data: m.whalf };
  if (m.wq8 && m.wscales && m.wblock)
    return { kind: 'int8', length: m.wq8.length, block: m.wblock, data: m.wq8, scales: m.wscales };
  return undefined;
}

/** A shard's result without its envelope: what a worker's compute() returns (the sum unpacked). */
export type ResultData = Omit<ResultMessage, 'v' | 'type' | 'gradSum' | 'gradPacked'> & {
  gradSum: Float32Array;
  /** The bytes the sum took on the wire, where it came packed (not a wire field). */
  packedBytes?: number;
};

/**
 * A result message's data, field by field (nothing else rides along), its gradient sum unpacked.
 * A validated message holds exactly one of gradSum and gradPacked.
 */
export function resultData(m: Omit<ResultMessage, 'v' | 'type'>): ResultData {
  return {
    iteration: m.iteration,
    version: m.version,
    shardId: m.shardId,
    gradSum: gradOf(m),
    ...(m.gradPacked ? { packedBytes: m.gradPacked.byteLength } : {}),
    lossSum: m.lossSum,
    correct: m.correct,
    count: m.count,
    computeMs: m.computeMs,
    backend: m.backend,
  };
}

function gradOf(m: Pick<ResultMessage, 'gradSum' | 'gradPacked'>): Float32Array {
  if (m.gradSum) return m.gradSum;
  if (m.gradPacked) return unpackFloats(m.gradPacked);
  throw new GradroomError('BAD_MESSAGE', 'result holds neither gradSum nor gradPacked');
}

/** A result's fields for the wire: its gradient sum packed when the assign asked (`pack`). */
export function resultFields(r: ResultData, pack: boolean | undefined): Omit<ResultMessage, 'v' | 'type'> {
  const { gradSum, packedBytes: _, ...rest } = resultData(r);
  return pack ? { ...rest, gradPacked: packFloats(gradSum) } : { ...rest, gradSum };
}
