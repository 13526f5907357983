/**
 * WebRTC for a coordinator that runs in a Web Worker. Chromium exposes no RTCPeerConnection in
 * workers, so the page keeps the simple-peer endpoints and the worker gets a stand-in with the
 * same surface (SimplePeerLike): signalling and bytes cross one MessagePort, bytes as transferred
 * ArrayBuffers. The page never decodes a byte; it only moves them between the port and the channel.
 *
 * Backpressure: the worker counts bytes it posted that the page has not yet handed to the channel,
 * plus the channel's own bufferedAmount as the page last reported it.
 */
import type { SimplePeerCtor, SimplePeerLike } from '@gradroom/core';

type PeerOpts = ConstructorParameters<SimplePeerCtor>[0];

/** Worker -> page. */
export type ToPage =
  | { t: 'new'; id: number; opts: Omit<PeerOpts, 'wrtc'> }
  | { t: 'signal'; id: number; data: unknown }
  | { t: 'send'; id: number; buf: ArrayBuffer }
  | { t: 'threshold'; id: number; low: number }
  | { t: 'destroy'; id: number; reason?: string };

/** Page -> worker. */
export type ToWorker =
  | { t: 'signal'; id: number; data: unknown }
  | { t: 'connect'; id: number; maxMessageSize?: number }
  | { t: 'data'; id: number; buf: ArrayBuffer }
  | { t: 'sent'; id: number; n: number; buffered: number }
  | { t: 'low'; id: number; buffered: number }
  | { t: 'error'; id: number; message: string }
  | { t: 'close'; id: number };

/** Copies a view into a buffer of its own, so it can be transferred without detaching the sender's. */
function own(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) {
    return b.buffer;
  }
  return b.slice().buffer as ArrayBuffer;
}

type Listener = (...args: never[]) => void;

/** The worker side: returns a SimplePeer constructor whose instances live on the page. */
export function bridgedSimplePeer(port: MessagePort): SimplePeerCtor {
  const peers = new Map<number, BridgedPeer>();
  let next = 1;

  class BridgedPeer implements SimplePeerLike {
    readonly id = next++;
    destroyed = false;
    private listeners = new Map<string, Listener[]>();
    private inFlight = 0;
    private channelBuffered = 0;
    private low = 0;
    _pc?: { sctp?: { maxMessageSize?: number } | null };
    _onChannelBufferedAmountLow?: () => void;
    readonly _channel: { bufferedAmount: number; bufferedAmountLowThreshold: number };

    constructor(opts: PeerOpts) {
      const self = this;
      this._channel = {
        get bufferedAmount() {
          return self.inFlight + self.channelBuffered;
        },
        get bufferedAmountLowThreshold() {
          return self.low;
        },
        set bufferedAmountLowThreshold(v: number) {
          self.low = v;
          self.post({ t: 'threshold', id: self.id, low: v });
        },
      };
      peers.set(this.id, this);
      const { wrtc: _unused, ...plain } = opts;
      this.post({ t: 'new', id: this.id, opts: plain });
    }

    private post(m: ToPage, transfer: Transferable[] = []): void {
      port.postMessage(m, transfer);
    }

    /**
     * Data that came before anyone listened. simple-peer is a stream: data that arrives before its
     * 'connect' (the far side may send at once) waits in the stream until a 'data' listener comes;
     * the page listens from the start, so the stand-in keeps that promise here.
     */
    private early: Uint8Array[] = [];

    on(event: string, fn: Listener): void {
      const l = this.listeners.get(event) ?? [];
      l.push(fn);
      this.listeners.set(event, l);
      // as a stream resumes: on a later tick, once whoever registered this listener has finished
      // wiring up (simplePeerChannel's consumer attaches just after its 'data' listener)
      if (event === 'data' && this.early.length > 0) queueMicrotask(() => this.flush());
    }

    private flush(): void {
      while (this.early.length > 0) this.emit('data', this.early.shift());
    }

    emit(event: string, ...args: unknown[]): void {
      for (const fn of this.listeners.get(event) ?? []) {
        try {
          (fn as (...a: unknown[]) => void)(...args);
        } catch (e) {
          console.error(`peer bridge: a '${event}' listener threw: ${(e as Error).message}`);
        }
      }
    }

    signal(data: unknown): void {
      if (!this.destroyed) this.post({ t: 'signal', id: this.id, data });
    }

    send(chunk: Uint8Array): void {
      if (this.destroyed) throw new Error('data channel is closed');
      const buf = own(chunk);
      this.inFlight += buf.byteLength;
      this.post({ t: 'send', id: this.id, buf }, [buf]);
    }

    destroy(err?: Error): void {
      if (this.destroyed) return;
      this.destroyed = true;
      this.post({ t: 'destroy', id: this.id, reason: err?.message });
      if (err) this.emit('error', err);
      this.emit('close');
      peers.delete(this.id);
    }

    /** A message from the page about this peer. */
    handle(m: ToWorker): void {
      switch (m.t) {
        case 'signal':
          this.emit('signal', m.data);
          return;
        case 'connect':
          if (m.maxMessageSize) this._pc = { sctp: { maxMessageSize: m.maxMessageSize } };
          this.emit('connect');
          return;
        case 'data':
          // in order: behind anything still waiting for the flush
          if (this.listeners.get('data')?.length && this.early.length === 0) this.emit('data', new Uint8Array(m.buf));
          else if (this.early.length < 4096) this.early.push(new Uint8Array(m.buf));
          else this.destroy(new Error('too much data before the channel was read'));
          return;
        case 'sent':
          this.inFlight -= m.n;
          this.channelBuffered = m.buffered;
          if (this._channel.bufferedAmount <= this.low) this._onChannelBufferedAmountLow?.();
          return;
        case 'low':
          this.channelBuffered = m.buffered;
          if (this._channel.bufferedAmount <= this.low) this._onChannelBufferedAmountLow?.();
          return;
        case 'error':
          this.emit('error', new Error(m.message));
          return;
        case 'close':
          if (this.destroyed) return;
          this.destroyed = true;
          peers.delete(this.id);
          this.emit('close');
          return;
      }
    }
  }

  port.onmessage = (ev: MessageEvent<ToWorker>) => {
    const m = ev.data;
    if (!m || typeof m !== 'object' || typeof m.id !== 'number') return;
    peers.get(m.id)?.handle(m);
  };
  return BridgedPeer as unknown as SimplePeerCtor;
}

/** What the page needs of simple-peer's browser build beyond SimplePeerLike. */
interface PagePeer extends SimplePeerLike {
  _channel?: { bufferedAmount?: number; bufferedAmountLowThreshold?: number; readyState?: string };
}

/**
 * The page side: creates the real simple-peer instances the worker asks for and moves their
 * signalling and bytes across `port`. Returns a function that destroys every peer.
 */
export function servePeerBridge(port: MessagePort, SimplePeer: SimplePeerCtor): () => void {
  const peers = new Map<number, PagePeer>();
  const post = (m: ToWorker, transfer: Transferable[] = []) => port.postMessage(m, transfer);
  port.onmessage = (ev: MessageEvent<ToPage>) => {
    const m = ev.data;
    if (!m || typeof m !== 'object' || typeof m.id !== 'number') return;
    const echo = m as unknown as { t: string; port?: MessagePort };
    if (echo.t === 'echo-port' && echo.port) {
      // the bench's measure of the bridge: every buffer goes straight back, transferred
      const p = echo.port;
      p.onmessage = (e: MessageEvent<ArrayBuffer>) => p.postMessage(e.data, [e.data]);
      return;
    }
    try {
      if (m.t === 'new') {
        const peer = new SimplePeer(m.opts) as PagePeer;
        peers.set(m.id, peer);
        peer.on('signal', (data) => post({ t: 'signal', id: m.id, data: JSON.parse(JSON.stringify(data)) }));
        peer.on('connect', () => {
          const max = peer._pc?.sctp?.maxMessageSize;
          // bufferedamountlow reaches the worker as a fresh figure
          const ch = peer._channel as (RTCDataChannel & PagePeer['_channel']) | undefined;
          ch?.addEventListener?.('bufferedamountlow', () =>
            post({ t: 'low', id: m.id, buffered: ch.bufferedAmount ?? 0 }),
          );
          post({ t: 'connect', id: m.id, maxMessageSize: typeof max === 'number' ? max : undefined });
        });
        peer.on('data', (d) => {
          const buf = own(d);
          post({ t: 'data', id: m.id, buf }, [buf]);
        });
        peer.on('error', (e) => post({ t: 'error', id: m.id, message: e.message }));
        peer.on('close', () => {
          peers.delete(m.id);
          post({ t: 'close', id: m.id });
        });
        return;
      }
      const peer = peers.get(m.id);
      if (!peer) {
        if (m.t === 'send') post({ t: 'sent', id: m.id, n: m.buf.byteLength, buffered: 0 });
        return;
      }
      switch (m.t) {
        case 'signal':
          peer.signal(m.data);
          return;
        case 'send': {
          const n = m.buf.byteLength;
          try {
            peer.send(new Uint8Array(m.buf));
          } finally {
            post({ t: 'sent', id: m.id, n, buffered: peer._channel?.bufferedAmount ?? 0 });
          }
          return;
        }
        case 'threshold':
          if (peer._channel) peer._channel.bufferedAmountLowThreshold = m.low;
          return;
        case 'destroy':
          peers.delete(m.id);
          peer.destroy();
          return;
      }
    } catch (e) {
      post({ t: 'error', id: m.id, message: (e as Error).message });
    }
  };
  return () => {
    for (const p of peers.values()) p.destroy();
    peers.clear();
  };
}
