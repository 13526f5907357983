/**
 * The coordinator's side of a room: connects to the room server as the room's host, answers each
 * volunteer's WebRTC offer (or takes its traffic over the server's relay), checks its hello (the
 * room token again, in constant time), and hands it to the trainer as a WorkerHandle.
 *
 * Environment-agnostic: the WebSocket and simple-peer constructors (and wrtc in Node) are passed
 * in, so the same code hosts a room from Node (see node.ts) or from a browser tab.
 */

import type { ShareMessage } from '@gradroom/core';
import {
  type CodecLimits,
  cleanText,
  FramedLink,
  GradroomError,
  type IceServer,
  InFlightLimitError,
  type Message,
  msg,
  type RawChannel,
  ReassemblyBudget,
  type RtcDeps,
  type ServerMessage,
  SignalClient,
  type SimplePeerLike,
  simplePeerChannel,
  type TaskSpec,
  type TensorShape,
  WEBRTC_MAX_MESSAGE_BYTES,
  type WebSocketCtor,
} from '@gradroom/core';
import { Emitter } from '../emitter.js';
import type { IterationEvent } from '../events.js';
import { type PeerWorkerHandle, peerWorkerHandle } from '../transports/peer.js';
import type { WorkerHandle } from '../worker-handle.js';
import { constantTimeEqual } from './tokens.js';

/** A peer hears its progress ('share') at most this often while nothing about its part changes, ms. */
export const SHARE_EVERY_MS = 1000;

/**
 * A room's volunteers load the data set themselves, so app arrays (which only this process holds)
 * cannot be trained in one: refused before any volunteer is, with what to do instead.
 */
export function checkRoomDataset(trainer: TrainerLike): void {
  if (trainer.job?.dataset.kind === 'arrays')
    throw new GradroomError(
      'BAD_CONFIG',
      "a room cannot train on an 'arrays' data set (tensors and tf.data become one), which only this process holds: pack it into a file with encodePacked from @gradroom/worker/data (or `gradroom pack-data --csv`), serve it, and give the trainer { kind: 'url', url, sha256 }",
    );
}

/** What the host needs from a Trainer. */
export interface TrainerLike {
  /** The run's job: its data set must be one a volunteer can load (checked by attach). */
  readonly job?: { readonly dataset: { readonly kind: string } };
  addWorker(handle: WorkerHandle): Promise<unknown>;
  on(type: 'iteration', fn: (e: IterationEvent) => void): () => void;
  /** The run's state changes (paused, stopped, done...), told to every volunteer. */
  on(type: 'state', fn: (e: { state: NonNullable<ShareMessage['state']>; reason?: string }) => void): () => void;
  on(type: 'epoch', fn: (e: { testAccuracy: number }) => void): () => void;
  /** The largest message a peer of this run can need to send, bytes (undefined: not known yet). */
  peerMessageBytes?(): number | undefined;
}

export interface RoomHostOptions extends RtcDeps {
  /** The room server's WebSocket URL (RoomServer.wsUrl). */
  url: string;
  token: string;
  hostKey: string;
  WebSocket: WebSocketCtor;
  /** Each accepted peer is added to this trainer (and told its share after every iteration); see attach(). */
  trainer?: TrainerLike;
  /** Called with each accepted peer (in addition to, or instead of, `trainer`). */
  onPeer?: (handle: PeerWorkerHandle, name: string) => void;
  /** Wraps each peer's handle before it goes to `trainer` (instrumentation, fault injection in tests). */
  wrapHandle?: (handle: PeerWorkerHandle, name: string) => WorkerHandle;
  /** Codec limits for what peers send (default core's). */
  limits?: Partial<CodecLimits>;
  /**
   * Bytes of unfinished incoming messages held across all peers at once (default 512 MiB); a peer
   * whose message would go over is disconnected (not banned: it may only be unlucky).
   */
  reassemblyBytes?: number;
  /** A peer's message unfinished after this long disconnects it (default 60 s). */
  partialTimeoutMs?: number;
  /** Time from joining the room to a valid hello (default 30 s). */
  helloTimeoutMs?: number;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  log?: (line: string) => void;
  /** Sees every decoded message a peer sends, before anything handles it (audits, tests). Must not throw. */
  tap?: (peerId: string, m: Message) => void;
  /** See PeerHandleOptions.layoutFor. */
  layoutFor?: (task: TaskSpec) => Promise<TensorShape[]>;
  /** See PeerHandleOptions.packed (default true). */
  packed?: boolean;
}

export interface PeerEvent {
  type: 'joined' | 'accepted' | 'rejected' | 'left';
  id: string;
  name?: string;
  via?: 'direct' | 'relay';
  reason?: string;
}

interface Entry {
  id: string;
  name: string;
  rtc?: SimplePeerLike;
  link?: FramedLink;
  handle?: PeerWorkerHandle;
  via?: 'direct' | 'relay';
  timer: ReturnType<typeof setTimeout>;
}

/** A peer's name for logs and pages: no control characters, short. */
function cleanName(s: string): string {
  return cleanText(s, 40) || 'volunteer';
}

export class RoomHost extends Emitter<{ peer: PeerEvent; log: string }> {
  readonly peers = new Map<string, Entry>();
  private iceServers: IceServer[] = [];
  private maxChunk = WEBRTC_MAX_MESSAGE_BYTES;
  private trainer?: TrainerLike;
  private offTrainer?: () => void;
  private readonly budget: ReassemblyBudget;

  private constructor(
    private readonly signal: SignalClient,
    private readonly opts: RoomHostOptions,
  ) {
    super();
    this.budget = new ReassemblyBudget(opts.reassemblyBytes ?? 512 * 1024 * 1024);
  }

  /** Bytes of unfinished messages from peers held now, across all of them. */
  get bytesInFlight(): number {
    return this.budget.inFlight;
  }

  /** Connects to the room server and hosts the room. */
  static async open(opts: RoomHostOptions): Promise<RoomHost> {
    if (opts.trainer) checkRoomDataset(opts.trainer);
    const signal = await SignalClient.connect(opts.url, opts.WebSocket, true);
    const host = new RoomHost(signal, opts);
    await new Promise<void>((resolve, reject) => {
      signal.onMessage((m) => {
        if (m.t === 'hosting') {
          host.iceServers = m.iceServers;
          host.maxChunk = m.maxChunk;
          resolve();
        } else if (m.t === 'rejected') reject(new Error(`the room server refused to host: ${m.reason}`));
      });
      signal.closed.then((r) => reject(new Error(`room server closed the connection: ${r}`)));
      signal.send({ t: 'host', token: opts.token, hostKey: opts.hostKey });
    });
    signal.onMessage((m) => host.guard('a room server message', () => host.onServer(m)));
    signal.closed.then((r) => host.shutdown(`room server connection lost: ${r}`));
    if (opts.trainer) host.attach(opts.trainer);
    return host;
  }

  /**
   * Adds each accepted peer to `trainer` from now on, and tells every peer its share after each
   * iteration and the run's state changes. Peers already in the room, set up for no run yet, join it
   * too. A room outlives runs: detach() before attaching the next one.
   */
  attach(trainer: TrainerLike): void {
    if (this.trainer) throw new GradroomError('BAD_STATE', 'the room is attached to a run already: detach() it first');
    checkRoomDataset(trainer);
    this.trainer = trainer;
    // the room's last progress, told again with each state change (a pause sends no iteration)
    let last = { iteration: 0, epoch: 0, loss: 0, workers: 0 };
    let accuracy: number | undefined;
    const shares = new Map<string, number>();
    /**
     * What each peer was last told, and when: its page needs its progress about once a second, and a
     * send costs a host at a fifth of a CPU several ms (every iteration to every peer slowed exact
     * mode's iterations by half in a classroom room), so a peer hears again after SHARE_EVERY_MS,
     * or at once when it starts or stops computing or its reason for standing by changes. A reason
     * is compared without its figures ("its link costs 371 ms a shard ..." is re-measured every
     * iteration): compared whole, every standing-by peer was told every iteration, a third of a
     * testbed host's main-thread CPU with 8 volunteers standing by in exact mode.
     */
    const told = new WeakMap<object, { at: number; active: boolean; standby?: string }>();
    const offs = [
      trainer.on('iteration', (e) => {
        last = { iteration: e.iteration, epoch: e.epoch, loss: e.lossSmoothed, workers: e.workers.length };
        const now = performance.now();
        for (const w of e.workers) {
          shares.set(w.id, w.share);
          const handle = this.peers.get(w.id)?.handle;
          if (!handle) continue;
          const before = told.get(handle);
          const active = w.share > 0;
          const standby = w.standby?.replace(/\d[\d.,]*/g, '#');
          if (before && now - before.at < SHARE_EVERY_MS && before.active === active && before.standby === standby)
            continue;
          told.set(handle, { at: now, active, standby });
          handle.sendShare({
            ...last,
            share: w.share,
            standby: w.standby,
            speed: w.speed > 0 && Number.isFinite(w.speed) ? w.speed : undefined,
          });
        }
      }),
      trainer.on('epoch', (e) => {
        if (Number.isFinite(e.testAccuracy)) accuracy = e.testAccuracy;
      }),
      trainer.on('state', (st) => {
        const ended = st.state === 'done' || st.state === 'stopped';
        for (const p of this.peers.values())
          p.handle?.sendShare({
            ...last,
            share: shares.get(p.id) ?? 0,
            state: st.state,
            testAccuracy: ended && accuracy !== undefined ? accuracy : undefined,
          });
      }),
    ];
    this.offTrainer = () => {
      for (const off of offs) off();
    };
    for (const e of this.peers.values()) if (e.handle) this.addToRun(e.handle, e.name, e.id);
  }

  /** Stops adding peers to the attached run and telling them its progress; the peers stay in the room. */
  detach(): void {
    this.offTrainer?.();
    this.offTrainer = undefined;
    this.trainer = undefined;
  }

  /** Runs a listener's body; what it throws is logged here instead of escaping into the transport. */
  private guard(what: string, body: () => void, after?: (reason: string) => void): void {
    try {
      body();
    } catch (err) {
      const reason = `handling ${what} failed: ${cleanText((err as Error)?.message ?? String(err), 200)}`;
      this.log(reason);
      after?.(reason);
    }
  }

  private log(line: string): void {
    this.opts.log?.(line);
    this.emit('log', line);
  }

  private onServer(m: ServerMessage): void {
    switch (m.t) {
      case 'peer': {
        // a slow tab is not a rule-breaker: its seat is freed, it is not banned
        const timer = setTimeout(
          () => this.reject(m.peerId, 'no hello in time', 'TIMEOUT', false),
          this.opts.helloTimeoutMs ?? 30_000,
        );
        const name = cleanName(m.name);
        this.peers.set(m.peerId, { id: m.peerId, name, timer });
        this.emit('peer', { type: 'joined', id: m.peerId, name });
        return;
      }
      case 'signal': {
        const e = this.peers.get(m.from);
        if (!e || e.link || e.via === 'relay') return;
        if (!e.rtc) e.rtc = this.answer(e);
        try {
          e.rtc.signal(m.data);
        } catch (err) {
          this.reject(e.id, `bad signalling data: ${(err as Error).message}`);
        }
        return;
      }
      case 'relay': {
        const e = this.peers.get(m.from);
        if (!e || e.link) return;
        e.rtc?.destroy();
        e.rtc = undefined;
        e.via = 'relay';
        this.connect(e, this.signal.relayChannel(e.id, this.maxChunk));
        return;
      }
      case 'gone': {
        const e = this.peers.get(m.peerId);
        // the server removed it already: no kick to send
        if (e) this.forget(e, `left the room: ${cleanText(m.reason, 200)}`, { kick: false });
        return;
      }
    }
  }

  /** Answers a volunteer's offer; the channel is attached once connected. */
  private answer(e: Entry): SimplePeerLike {
    const rtc = new this.opts.SimplePeer({
      initiator: false,
      wrtc: this.opts.wrtc,
      config: { iceServers: this.iceServers },
    });
    rtc.on('signal', (data) => this.signal.send({ t: 'signal', to: e.id, data }));
    rtc.on('connect', () => {
      if (e.rtc !== rtc || e.link) return;
      e.via = 'direct';
      this.connect(e, simplePeerChannel(rtc));
    });
    rtc.on('error', (err) => {
      // before connecting, the volunteer falls back to the relay by itself
      if (!e.link) this.log(`peer ${e.id}: WebRTC failed (${cleanText(err.message, 200)}); waiting for the relay`);
    });
    return rtc;
  }

  private connect(e: Entry, channel: RawChannel): void {
    const link = new FramedLink(channel, {
      limits: this.opts.limits,
      budget: this.budget,
      partialTimeoutMs: this.opts.partialTimeoutMs,
      maxIncomingBytes: this.trainer?.peerMessageBytes?.(),
    });
    e.link = link;
    const tap = this.opts.tap;
    // a link has one message handler (the hello's here, then the peer handle's): wrap whichever is set
    const set = link.onMessage.bind(link);
    if (tap)
      link.onMessage = (fn) =>
        set((m) => {
          this.guard(`the tap on peer ${e.id}`, () => tap(e.id, m));
          fn(m);
        });
    link.onError((err) =>
      this.reject(
        e.id,
        `sent a bad message before hello: ${err.message}`,
        err.code,
        !(err instanceof InFlightLimitError),
      ),
    );
    link.closed.then((r) => {
      if (!e.handle) this.forget(e, `channel closed before hello: ${r}`);
    });
    link.onMessage((m) =>
      this.guard(
        `peer ${e.id}'s hello`,
        () => this.hello(e, link, m),
        (r) => this.forget(e, r),
      ),
    );
  }

  /** The first message on a peer's channel: a hello with the room's token, or the peer is refused. */
  private hello(e: Entry, link: FramedLink, m: Message): void {
    // a refused peer's link stays open a moment (to carry the reason): nothing on it counts any more
    if (e.handle || this.peers.get(e.id) !== e) return;
    if (m.type !== 'hello') {
      this.reject(e.id, `sent '${m.type}' before hello`);
      return;
    }
    if (!constantTimeEqual(m.token, this.opts.token)) {
      this.reject(e.id, 'wrong room token', 'UNAUTHORIZED');
      return;
    }
    clearTimeout(e.timer);
    const handle = peerWorkerHandle({
      id: e.id,
      name: cleanText(m.name, 40) || undefined,
      link,
      heartbeatMs: this.opts.heartbeatMs,
      heartbeatTimeoutMs: this.opts.heartbeatTimeoutMs,
      layoutFor: this.opts.layoutFor,
      packed: this.opts.packed,
      log: (line) => this.log(line),
    });
    e.handle = handle;
    // however the handle closes (it found a violation, the peer went silent, the trainer dropped
    // it), the server is told, so the seat is freed; a violation also bans
    handle.closed.then((reason) =>
      this.forget(e, reason, {
        ban: handle.violation !== undefined && !(link.failure instanceof InFlightLimitError),
      }),
    );
    const name = cleanName(m.name);
    e.name = name;
    const backends = m.backends.map((b) => cleanText(b, 24)).join(', ');
    this.log(`peer ${e.id} (${name}) accepted via ${e.via}, backends [${backends}]`);
    this.emit('peer', { type: 'accepted', id: e.id, name, via: e.via });
    this.addToRun(handle, name, e.id);
    this.opts.onPeer?.(handle, name);
  }

  /** Adds an accepted peer to the attached run, if any. */
  private addToRun(handle: PeerWorkerHandle, name: string, id: string): void {
    this.trainer
      ?.addWorker(this.opts.wrapHandle ? this.opts.wrapHandle(handle, name) : handle)
      .catch((err) => this.log(`peer ${id} could not be set up: ${cleanText((err as Error).message, 300)}`));
  }

  /**
   * Refuses a peer: logged, told why, disconnected, and removed from the room by the server; banned
   * there too unless `ban` is false (it broke no rule, e.g. it was only slow).
   */
  private reject(id: string, reason: string, code = 'BAD_MESSAGE', ban = true): void {
    const e = this.peers.get(id);
    if (!e) return;
    reason = cleanText(reason, 300);
    this.log(`peer ${id} rejected: ${reason}`);
    this.emit('peer', { type: 'rejected', id, name: e.name, reason });
    const link = e.link;
    if (link && !e.handle) {
      void link
        .send(msg({ type: 'error', code, message: reason }))
        .catch(() => {})
        .finally(() => setTimeout(() => link.close(reason), 100));
    }
    this.forget(e, reason, { announce: false, ban });
  }

  /**
   * Drops a peer here and, unless the server removed it itself (`kick: false`), asks the server to
   * remove it too, so that its seat is free; `ban` when it broke the rules.
   */
  private forget(e: Entry, reason: string, o: { announce?: boolean; kick?: boolean; ban?: boolean } = {}): void {
    if (this.peers.get(e.id) !== e) return;
    this.peers.delete(e.id);
    reason = cleanText(reason, 300);
    if (o.kick !== false)
      this.signal.send({ t: 'kick', peer: e.id, reason: cleanText(reason, 200), ban: o.ban === true });
    clearTimeout(e.timer);
    e.rtc?.destroy();
    void e.handle?.close(reason);
    if (!e.handle) e.link?.close(reason);
    if (o.announce !== false) this.emit('peer', { type: 'left', id: e.id, name: e.name, reason });
  }

  private shutdown(reason: string): void {
    this.detach();
    // the server connection is gone or closing: it drops the members itself
    for (const e of [...this.peers.values()]) this.forget(e, reason, { kick: false });
  }

  /** Leaves the room: every peer is closed. */
  close(reason = 'the coordinator closed the room'): void {
    this.shutdown(reason);
    this.signal.close(1000, reason);
  }
}
