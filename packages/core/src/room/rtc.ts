/**
 * WebRTC data channels through simple-peer 9.11.1, in Node (its `wrtc` option set to @roamhq/wrtc)
 * and in browsers (native RTCPeerConnection). The simple-peer constructor is passed in, so this
 * module runs in both without importing either build.
 */
import { settleOnce } from '../once.js';
import { WEBRTC_MAX_MESSAGE_BYTES } from '../protocol/framing.js';
import { pollLow, type RawChannel } from './channel.js';

/** The parts of a simple-peer instance used here. */
export interface SimplePeerLike {
  signal(data: unknown): void;
  send(chunk: Uint8Array): void;
  destroy(err?: Error): void;
  on(event: 'signal', fn: (data: unknown) => void): void;
  on(event: 'connect' | 'close', fn: () => void): void;
  on(event: 'data', fn: (data: Uint8Array) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  readonly destroyed: boolean;
  /** simple-peer's own getter is `bufferSize`; the channel's bufferedAmount is read directly. */
  _channel?: { bufferedAmount?: number; bufferedAmountLowThreshold?: number; readyState?: string };
  _pc?: { sctp?: { maxMessageSize?: number } | null };
  _onChannelBufferedAmountLow?: () => void;
}

export type SimplePeerCtor = new (opts: {
  initiator: boolean;
  wrtc?: unknown;
  /** iceTransportPolicy 'relay': only TURN-relayed candidates (a volunteer behind a strict firewall, tests). */
  config?: { iceServers?: IceServer[]; iceTransportPolicy?: 'all' | 'relay' };
  trickle?: boolean;
  channelConfig?: { ordered?: boolean };
}) => SimplePeerLike;

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface RtcDeps {
  SimplePeer: SimplePeerCtor;
  /** Node: require('@roamhq/wrtc'); browsers: leave out. */
  wrtc?: unknown;
}

/**
 * Wraps a connected simple-peer as a RawChannel. Received data is handed on as Uint8Array;
 * bufferedamountlow drives backpressure (polling as a fallback where the event does not fire).
 */
export function simplePeerChannel(peer: SimplePeerLike): RawChannel {
  const closed = settleOnce();
  const sctpMax = peer._pc?.sctp?.maxMessageSize;
  const maxMessageSize =
    typeof sctpMax === 'number' && Number.isFinite(sctpMax) && sctpMax >= 16384
      ? Math.min(sctpMax, WEBRTC_MAX_MESSAGE_BYTES)
      : WEBRTC_MAX_MESSAGE_BYTES;
  let onData: (c: Uint8Array) => void = () => {};
  const buffered = () => peer._channel?.bufferedAmount ?? 0;
  const waiters: { low: number; resolve: () => void }[] = [];
  const wake = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (closed.settled() || buffered() <= waiters[i].low) waiters.splice(i, 1)[0].resolve();
    }
  };
  // simple-peer calls this from the channel's onbufferedamountlow; keep its own behaviour too
  const original = peer._onChannelBufferedAmountLow?.bind(peer);
  peer._onChannelBufferedAmountLow = () => {
    original?.();
    wake();
  };
  peer.on('data', (d) => onData(d instanceof Uint8Array ? d : new Uint8Array(d as ArrayBuffer)));
  peer.on('close', () => {
    closed.settle('data channel closed');
    wake();
  });
  peer.on('error', (e) => {
    closed.settle(`data channel error: ${e.message}`);
    wake();
  });
  return {
    maxMessageSize,
    get bufferedAmount() {
      return buffered();
    },
    send(chunk) {
      if (closed.settled() || peer.destroyed) throw new Error('data channel is closed');
      peer.send(chunk);
    },
    waitLow(low) {
      if (closed.settled() || buffered() <= low) return Promise.resolve();
      if (peer._channel && typeof peer._channel.bufferedAmountLowThreshold === 'number') {
        peer._channel.bufferedAmountLowThreshold = low;
        // the event is the fast path; polling catches a missed or unsupported event
        return Promise.race([
          new Promise<void>((resolve) => waiters.push({ low, resolve })),
          pollLow(buffered, low, closed.settled, 20),
        ]);
      }
      return pollLow(buffered, low, closed.settled);
    },
    onMessage(fn) {
      onData = fn;
    },
    closed: closed.promise,
    close(reason) {
      closed.settle(reason);
      wake();
      if (!peer.destroyed) peer.destroy();
    },
  };
}
