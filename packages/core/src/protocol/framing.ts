/**
 * Framing: splitting an encoded message into chunks that fit a WebRTC data channel message
 * (RTCSctpTransport.maxMessageSize is 262144 bytes; one byte over silently kills a @roamhq/wrtc
 * channel), and putting them back together from untrusted input.
 *
 * Chunk = 20-byte header + payload. Header, big-endian:
 *   0 magic 0x47 ('G') | 1 frame version 1 | 2..3 reserved, 0 | 4 msgId u32 | 8 chunk index u32 |
 *   12 chunk count u32 | 16 total message bytes u32
 * Every chunk but the last carries the same payload size P; the last carries total - (count-1)*P,
 * between 1 and P. The receiver learns P from the first chunk it sees, so it needs no agreement
 * on the sender's chunk size, and checks every later chunk against it.
 *
 * Memory held by unfinished messages is bounded three ways: per link (maxPendingBytes), per host
 * across all its links (a shared ReassemblyBudget), and in time (maxAgeMs: a partial message that
 * does not complete in time is dropped and reported, so a peer cannot park 64 MiB by heartbeating).
 */
import { GradroomError } from '../errors.js';

export const FRAME_HEADER_BYTES = 20;
export const FRAME_MAGIC = 0x47;
export const FRAME_VERSION = 1;
/**
 * The largest message a WebRTC data channel carries (RTCSctpTransport.maxMessageSize): the chunk
 * size of every link, the relay's largest frame, and the room server's default maxChunk.
 */
export const WEBRTC_MAX_MESSAGE_BYTES = 262144;

/**
 * A limit on unfinished messages was reached: the host's shared budget, or a partial message's
 * age. Unlike a malformed frame this may be load or a slow link rather than a hostile peer.
 */
export class InFlightLimitError extends GradroomError {
  constructor(message: string) {
    super('TOO_LARGE', message);
    this.name = 'InFlightLimitError';
  }
}

/** Bytes of unfinished messages across every link of one host, so N peers cannot hold N x 64 MiB. */
export class ReassemblyBudget {
  private used = 0;
  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new GradroomError('BAD_CONFIG', `reassembly budget must be a non-negative integer, got ${maxBytes}`);
    }
  }
  /** Bytes reserved now. */
  get inFlight(): number {
    return this.used;
  }
  /** Reserves `bytes`; false (and nothing reserved) when that would exceed the budget. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

const U32_MAX = 0xffffffff;

/**
 * Splits `bytes` into chunks of at most `maxChunkBytes` bytes each, header included. Every chunk is
 * a fresh buffer (safe to send or transfer). An empty message still takes one chunk.
 */
export function frameMessage(bytes: Uint8Array, msgId: number, maxChunkBytes: number): Uint8Array[] {
  if (!Number.isInteger(msgId) || msgId < 0 || msgId > U32_MAX) {
    throw new GradroomError('BAD_CONFIG', `frame: msgId must be a u32, got ${msgId}`);
  }
  if (!Number.isInteger(maxChunkBytes) || maxChunkBytes <= FRAME_HEADER_BYTES || maxChunkBytes > U32_MAX) {
    throw new GradroomError('BAD_CONFIG', `frame: maxChunkBytes must be an integer above ${FRAME_HEADER_BYTES}`);
  }
  const total = bytes.length;
  if (total > U32_MAX) throw new GradroomError('TOO_LARGE', `frame: message of ${total} bytes exceeds 2^32-1`);
  const payload = maxChunkBytes - FRAME_HEADER_BYTES;
  const count = Math.max(1, Math.ceil(total / payload));
  const chunks: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const from = i * payload;
    const to = Math.min(total, from + payload);
    const chunk = new Uint8Array(FRAME_HEADER_BYTES + to - from);
    const view = new DataView(chunk.buffer);
    chunk[0] = FRAME_MAGIC;
    chunk[1] = FRAME_VERSION;
    view.setUint32(4, msgId);
    view.setUint32(8, i);
    view.setUint32(12, count);
    view.setUint32(16, total);
    chunk.set(bytes.subarray(from, to), FRAME_HEADER_BYTES);
    chunks[i] = chunk;
  }
  return chunks;
}

export interface ReassemblerLimits {
  /** Largest message accepted, checked against each header before anything is allocated. */
  maxMessageBytes: number;
  /** Partial messages held at once (default 4; an ordered channel needs 1). */
  maxPendingMessages?: number;
  /** Largest chunk accepted, header included (default WEBRTC_MAX_MESSAGE_BYTES). */
  maxChunkBytes?: number;
  /** Bytes reserved by partial messages at once (default 2 x maxMessageBytes). */
  maxPendingBytes?: number;
  /** Shared with the other links of the same host; each partial message reserves its size here too. */
  budget?: ReassemblyBudget;
  /** A partial message older than this is dropped and reported (default: no limit). */
  maxAgeMs?: number;
  /** The clock, ms (default Date.now; tests pass their own). */
  now?: () => number;
}

interface Pending {
  total: number;
  count: number;
  /** Payload bytes of every chunk but the last. */
  size: number;
  /** The chunks' payloads received so far, by index: memory grows with what arrived, not with what was declared. */
  parts: (Uint8Array | undefined)[];
  /** Payload bytes received so far (what this message holds of the budget). */
  held: number;
  /** One bit per chunk received. */
  got: Uint8Array;
  received: number;
  /** When its first chunk arrived. */
  started: number;
}

/**
 * Rebuilds messages from chunks (any order, msgIds interleaved). push() returns the whole message
 * when its last chunk arrives, else null. Any bad chunk throws GradroomError (BAD_FRAME, or
 * TOO_LARGE for limits) and discards the partial message it names, so nothing half-checked is
 * kept; the caller should normally drop the channel then. A partial message holds (and charges the
 * shared budget for) the bytes that actually arrived, never its declared size: a peer that declares
 * 64 MiB and sends one chunk costs one chunk. The whole message is put together once, at its end.
 */
export class Reassembler {
  private readonly maxMessageBytes: number;
  private readonly maxPendingMessages: number;
  private readonly maxChunkBytes: number;
  private readonly maxPendingBytes: number;
  private readonly budget?: ReassemblyBudget;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly pending = new Map<number, Pending>();
  private pendingBytes = 0;
  /** Declared sizes of the partial messages (this link's own cap counts what they would take). */
  private declaredBytes = 0;

  constructor(limits: ReassemblerLimits) {
    this.maxMessageBytes = limits.maxMessageBytes;
    this.maxPendingMessages = limits.maxPendingMessages ?? 4;
    this.maxChunkBytes = limits.maxChunkBytes ?? WEBRTC_MAX_MESSAGE_BYTES;
    this.maxPendingBytes = limits.maxPendingBytes ?? 2 * limits.maxMessageBytes;
    this.budget = limits.budget;
    this.maxAgeMs = limits.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.now = limits.now ?? Date.now;
    if (!(this.maxAgeMs > 0)) throw new GradroomError('BAD_CONFIG', 'reassembler: maxAgeMs must be positive');
    const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
    if (!ok(this.maxMessageBytes) || !ok(this.maxPendingMessages) || !ok(this.maxPendingBytes)) {
      throw new GradroomError('BAD_CONFIG', 'reassembler: limits must be non-negative integers');
    }
    if (!ok(this.maxChunkBytes) || this.maxChunkBytes <= FRAME_HEADER_BYTES) {
      throw new GradroomError('BAD_CONFIG', `reassembler: maxChunkBytes must be above ${FRAME_HEADER_BYTES}`);
    }
  }

  /** Partial messages held now. */
  get pendingMessages(): number {
    return this.pending.size;
  }

  /** Bytes reserved by partial messages now. */
  get bytesPending(): number {
    return this.pendingBytes;
  }

  /** Drops every partial message (e.g. when the channel closes) and gives their bytes back. */
  clear(): void {
    this.pending.clear();
    this.budget?.release(this.pendingBytes);
    this.pendingBytes = 0;
    this.declaredBytes = 0;
  }

  /**
   * Drops partial messages older than maxAgeMs; the error that describes the first one, or null.
   * push() calls it; a link also calls it on a timer, for a peer that went quiet mid-message.
   */
  expire(): InFlightLimitError | null {
    let error: InFlightLimitError | null = null;
    const now = this.now();
    for (const [msgId, p] of this.pending) {
      const age = now - p.started;
      if (age <= this.maxAgeMs) continue;
      this.drop(msgId);
      error ??= new InFlightLimitError(
        `frame: message ${msgId} unfinished after ${age} ms (${p.received} of ${p.count} chunks; the limit is ${this.maxAgeMs} ms)`,
      );
    }
    return error;
  }

  push(chunk: Uint8Array): Uint8Array | null {
    if (!(chunk instanceof Uint8Array)) throw new GradroomError('BAD_FRAME', 'frame: chunk must be a Uint8Array');
    if (chunk.length > this.maxChunkBytes) {
      throw new GradroomError('TOO_LARGE', `frame: chunk of ${chunk.length} bytes exceeds ${this.maxChunkBytes}`);
    }
    if (chunk.length < FRAME_HEADER_BYTES) {
      throw new GradroomError('BAD_FRAME', `frame: chunk of ${chunk.length} bytes is shorter than its header`);
    }
    if (chunk[0] !== FRAME_MAGIC || chunk[1] !== FRAME_VERSION || chunk[2] !== 0 || chunk[3] !== 0) {
      throw new GradroomError('BAD_FRAME', 'frame: bad magic, version or reserved bytes');
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, FRAME_HEADER_BYTES);
    const msgId = view.getUint32(4);
    const index = view.getUint32(8);
    const count = view.getUint32(12);
    const total = view.getUint32(16);
    const len = chunk.length - FRAME_HEADER_BYTES;
    const where = `frame: message ${msgId} chunk ${index}/${count}`;
    const expired = this.pending.size > 0 ? this.expire() : null;
    if (expired) throw expired;

    try {
      if (total > this.maxMessageBytes) {
        throw new GradroomError('TOO_LARGE', `${where}: ${total} bytes exceeds the limit of ${this.maxMessageBytes}`);
      }
      if (index >= count) throw new GradroomError('BAD_FRAME', `${where}: index out of range`);
      // Each chunk carries at least one payload byte (an empty message is one empty chunk).
      if (count > Math.max(1, total))
        throw new GradroomError('BAD_FRAME', `${where}: too many chunks for ${total} bytes`);

      let p = this.pending.get(msgId);
      if (p && (p.total !== total || p.count !== count)) {
        throw new GradroomError(
          'BAD_FRAME',
          `${where}: header disagrees with earlier chunks (${p.count} chunks, ${p.total} bytes)`,
        );
      }
      if (!p) {
        if (count === 1) {
          if (len !== total) throw new GradroomError('BAD_FRAME', `${where}: carries ${len} bytes, expected ${total}`);
          return chunk.slice(FRAME_HEADER_BYTES);
        }
        p = this.start(where, index, count, total, len);
        this.pending.set(msgId, p);
      }

      const expected = index < count - 1 ? p.size : total - (count - 1) * p.size;
      if (len !== expected)
        throw new GradroomError('BAD_FRAME', `${where}: carries ${len} bytes, expected ${expected}`);
      const bit = 1 << (index & 7);
      if (p.got[index >>> 3] & bit) throw new GradroomError('BAD_FRAME', `${where}: duplicate chunk`);
      // charged for what arrived: the shared budget, then this link's own
      if (this.budget && !this.budget.tryReserve(len)) {
        throw new InFlightLimitError(
          `${where}: the host holds ${this.budget.inFlight} bytes of unfinished messages already (budget ${this.budget.maxBytes})`,
        );
      }
      p.got[index >>> 3] |= bit;
      p.parts[index] = chunk.slice(FRAME_HEADER_BYTES);
      p.held += len;
      this.pendingBytes += len;
      if (++p.received < count) return null;
      const whole = new Uint8Array(total);
      p.parts.forEach((part, i) => whole.set(part as Uint8Array, i * p.size));
      this.drop(msgId);
      return whole;
    } catch (e) {
      this.drop(msgId);
      throw e;
    }
  }

  /** Checks a new multi-chunk message's geometry and limits, then allocates it. */
  private start(where: string, index: number, count: number, total: number, len: number): Pending {
    if (this.pending.size >= this.maxPendingMessages) {
      throw new GradroomError('TOO_LARGE', `${where}: more than ${this.maxPendingMessages} partial messages pending`);
    }
    if (this.declaredBytes + total > this.maxPendingBytes) {
      throw new GradroomError(
        'TOO_LARGE',
        `${where}: partial messages would hold more than ${this.maxPendingBytes} bytes`,
      );
    }
    // P from this chunk: its own length, or, for the last chunk, what the others must share equally.
    const size = index < count - 1 ? len : (total - len) / (count - 1);
    const last = total - (count - 1) * size;
    if (
      !Number.isInteger(size) ||
      size < 1 ||
      size > this.maxChunkBytes - FRAME_HEADER_BYTES ||
      last < 1 ||
      last > size
    ) {
      throw new GradroomError('BAD_FRAME', `${where}: ${len} bytes does not fit ${count} chunks of ${total} bytes`);
    }
    this.declaredBytes += total;
    return {
      total,
      count,
      size,
      parts: new Array(count),
      held: 0,
      got: new Uint8Array(Math.ceil(count / 8)),
      received: 0,
      started: this.now(),
    };
  }

  private drop(msgId: number): void {
    const p = this.pending.get(msgId);
    if (!p) return;
    this.pending.delete(msgId);
    this.pendingBytes -= p.held;
    this.declaredBytes -= p.total;
    this.budget?.release(p.held);
  }
}
