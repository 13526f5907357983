/**
 * Message channels between a coordinator and a peer, over a WebRTC data channel or the room
 * server's WebSocket relay.
 *
 * RawChannel is the transport: binary messages of at most maxMessageSize bytes, a bufferedAmount,
 * and a way to wait until it drains. FramedLink puts protocol messages on it: encode (with limits),
 * frame into chunks that fit (262144 bytes in Chromium; one byte over silently closes a @roamhq/wrtc
 * channel), queue and send with backpressure (never more than highWater bytes buffered in the
 * channel, far below the browser's 16 MiB cap), and on the way in reassemble and decode untrusted
 * chunks. Anything bad that arrives is reported once through onError and the link stops reading.
 */
import { GradroomError } from '../errors.js';
import { decodeMessage, encodeMessage } from '../protocol/codec.js';
import { frameMessage, Reassembler, type ReassemblyBudget } from '../protocol/framing.js';
import type { Message } from '../protocol/messages.js';
import { type CodecLimits, resolveLimits } from '../protocol/validate.js';

/**
 * Called when one of our own listeners throws (a bug here, not the peer's doing): it must not
 * escape into the transport's event loop, where it would end the process. Default: console.error.
 */
export function reportListenerError(where: string, e: unknown): void {
  listenerErrorSink(where, e);
}
let listenerErrorSink = (where: string, e: unknown): void =>
  console.error(`gradroom: a ${where} listener threw: ${(e as Error)?.stack ?? e}`);
/** Where reportListenerError goes (a host's log, a test's array). */
export function onListenerError(fn: (where: string, e: unknown) => void): void {
  listenerErrorSink = fn;
}

export interface RawChannel {
  /** The largest message the transport carries. */
  readonly maxMessageSize: number;
  readonly bufferedAmount: number;
  /** Throws when the channel is closed. */
  send(chunk: Uint8Array): void;
  /** Resolves once bufferedAmount <= lowWater (or the channel closed). */
  waitLow(lowWater: number): Promise<void>;
  onMessage(fn: (chunk: Uint8Array) => void): void;
  /** Settles with the reason once the channel is closed, for whatever cause. */
  readonly closed: Promise<string>;
  close(reason: string): void;
}

export interface FramedLinkOptions {
  limits?: Partial<CodecLimits>;
  /** Bytes buffered in the channel above which sending waits (default 2 MiB). */
  highWater?: number;
  /** Sending resumes when the channel's buffer is down to this (default 512 KiB). */
  lowWater?: number;
  /** Bytes queued here, not yet handed to the channel, before send() refuses (default 2 x maxMessageBytes). */
  maxQueueBytes?: number;
  /** Shared by every link of one host: bytes of unfinished incoming messages across all of them. */
  budget?: ReassemblyBudget;
  /** An incoming message unfinished after this long fails the link (default 60 s). */
  partialTimeoutMs?: number;
  /**
   * The largest message the other end may send (default limits.maxMessageBytes). A host sets it to
   * what a peer of its run can need (a result of this model's size): a chunk declaring more is a
   * violation at once, before anything is held for it.
   */
  maxIncomingBytes?: number;
}

interface Queued {
  chunks: Uint8Array[];
  bytes: number;
  done: () => void;
  fail: (e: unknown) => void;
}

export class FramedLink {
  readonly limits: CodecLimits;
  private readonly reassembler: Reassembler;
  private readonly chunkSize: number;
  private readonly highWater: number;
  private readonly lowWater: number;
  private readonly maxQueueBytes: number;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private pumping = false;
  /**
   * At least the channel's bufferedAmount: the last figure read plus what was sent since (it only
   * drains between our sends). Reading it is a call into WebRTC's own thread (wrtc), as dear as a
   * send on a host at a fifth of a CPU, so it is read only when this bound nears the high-water mark.
   */
  private bufferedBound = Number.POSITIVE_INFINITY;
  /** Messages sent at the last heartbeat tick (see quiet). */
  private sentAtTick = 0;
  private nextId = 0;
  private failure_?: GradroomError;
  private expiryTimer?: ReturnType<typeof setInterval>;
  private handler: (m: Message) => void = () => {};
  private errorHandler: (e: GradroomError) => void = () => {};
  /** Bytes and messages moved, for status displays and benchmarks. */
  readonly stats = { sentBytes: 0, receivedBytes: 0, sentMessages: 0, receivedMessages: 0 };

  constructor(
    readonly raw: RawChannel,
    opts: FramedLinkOptions = {},
  ) {
    this.limits = resolveLimits(opts.limits);
    this.chunkSize = raw.maxMessageSize;
    this.highWater = opts.highWater ?? 2 * 1024 * 1024;
    this.lowWater = opts.lowWater ?? 512 * 1024;
    this.maxQueueBytes = opts.maxQueueBytes ?? 2 * this.limits.maxMessageBytes;
    const maxAgeMs = opts.partialTimeoutMs ?? 60_000;
    this.reassembler = new Reassembler({
      maxMessageBytes: Math.min(this.limits.maxMessageBytes, opts.maxIncomingBytes ?? Number.POSITIVE_INFINITY),
      maxChunkBytes: this.chunkSize,
      maxPendingMessages: 1, // an ordered channel completes one message before the next begins
      budget: opts.budget,
      maxAgeMs,
    });
    // push() expires old partial messages when chunks arrive; this catches a peer gone quiet mid-message
    this.expiryTimer = setInterval(
      () => {
        const e = this.reassembler.expire();
        if (e) this.fail(e);
      },
      Math.min(5000, Math.max(10, maxAgeMs / 2)),
    );
    (this.expiryTimer as { unref?: () => void }).unref?.();
    raw.onMessage((chunk) => this.receive(chunk));
    raw.closed.then(() => {
      clearInterval(this.expiryTimer);
      this.reassembler.clear();
      const gone = new GradroomError('BAD_STATE', 'channel closed');
      for (const q of this.queue.splice(0)) q.fail(gone);
      this.queuedBytes = 0;
    });
  }

  /**
   * Nothing sent since the last tick(): a heartbeat (or an echo) is due only then, since any message
   * says its sender is alive and a send costs a laptop at a fifth of a CPU about 9 ms.
   */
  get quiet(): boolean {
    return this.stats.sentMessages === this.sentAtTick;
  }

  /** A heartbeat tick: `quiet` counts from here. */
  tick(): void {
    this.sentAtTick = this.stats.sentMessages;
  }

  get closed(): Promise<string> {
    return this.raw.closed;
  }

  onMessage(fn: (m: Message) => void): void {
    this.handler = fn;
  }

  /** Bad input from the other side (malformed, oversized, wrong version...): reported once. */
  onError(fn: (e: GradroomError) => void): void {
    this.errorHandler = fn;
  }

  /** What stopped this link reading, if anything did (an InFlightLimitError is load, not malice). */
  get failure(): GradroomError | undefined {
    return this.failure_;
  }

  /** Bytes of unfinished incoming messages held now. */
  get bytesPending(): number {
    return this.reassembler.bytesPending;
  }

  /** Stops reading: frees what is half-received and reports `e` once. */
  private fail(e: GradroomError): void {
    if (this.failure_) return;
    this.failure_ = e;
    clearInterval(this.expiryTimer);
    this.reassembler.clear();
    try {
      this.errorHandler(e);
    } catch (err) {
      reportListenerError('link error', err);
    }
  }

  /** Encodes and queues a message; resolves when its last chunk was handed to the channel. */
  send(m: Message): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(m, this.limits);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendEncoded(bytes);
  }

  /** Frames and queues a message encoded elsewhere: one encoding of the weights serves every peer. */
  sendEncoded(bytes: Uint8Array): Promise<void> {
    let chunks: Uint8Array[];
    try {
      chunks = frameMessage(bytes, this.nextId, this.chunkSize);
      this.nextId = (this.nextId + 1) >>> 0;
    } catch (e) {
      return Promise.reject(e);
    }
    return this.sendChunks(chunks);
  }

  /** Queues already framed chunks (benchmarks send the same bytes raw and framed). */
  sendChunks(chunks: Uint8Array[]): Promise<void> {
    const bytes = chunks.reduce((a, c) => a + c.length, 0);
    if (this.queuedBytes + bytes > this.maxQueueBytes) {
      return Promise.reject(new GradroomError('TOO_LARGE', `send queue would exceed ${this.maxQueueBytes} bytes`));
    }
    return new Promise<void>((done, fail) => {
      this.queue.push({ chunks, bytes, done, fail });
      this.queuedBytes += bytes;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const q = this.queue[0];
        try {
          for (let i = 0; i < q.chunks.length; i++) {
            if (this.bufferedBound + q.chunks[i].length > this.highWater) {
              this.bufferedBound = this.raw.bufferedAmount;
              if (this.bufferedBound > this.highWater) {
                await this.raw.waitLow(this.lowWater);
                this.bufferedBound = this.raw.bufferedAmount;
              }
            }
            this.raw.send(q.chunks[i]);
            this.bufferedBound += q.chunks[i].length;
            this.stats.sentBytes += q.chunks[i].length;
          }
          this.stats.sentMessages++;
          q.done();
        } catch (e) {
          q.fail(e);
        }
        if (this.queue[0] === q) {
          this.queue.shift();
          this.queuedBytes -= q.bytes;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private receive(chunk: Uint8Array): void {
    if (this.failure_) return;
    this.stats.receivedBytes += chunk.length;
    let m: Message | null = null;
    try {
      const bytes = this.reassembler.push(chunk);
      if (bytes === null) return;
      m = decodeMessage(bytes, this.limits);
    } catch (e) {
      this.fail(e instanceof GradroomError ? e : new GradroomError('BAD_MESSAGE', String((e as Error)?.message ?? e)));
      return;
    }
    this.stats.receivedMessages++;
    try {
      this.handler(m);
    } catch (e) {
      reportListenerError('link message', e);
    }
  }

  close(reason: string): void {
    this.raw.close(reason);
  }
}

/** Polls `amount()` until it is <= low (the fallback where no bufferedamountlow event fires). */
export function pollLow(amount: () => number, low: number, closed: () => boolean, everyMs = 5): Promise<void> {
  return new Promise((resolve) => {
    const tick = () => {
      if (closed() || amount() <= low) resolve();
      else setTimeout(tick, everyMs);
    };
    tick();
  });
}
