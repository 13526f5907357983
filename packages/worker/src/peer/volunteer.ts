/**
 * The volunteer's side of a room: connect to the room server with the room's token, open a data
 * channel to the coordinator (directly over WebRTC, or through the server's relay when that fails
 * or is asked for), say hello, and answer the coordinator's messages with a compute engine: a
 * ShardWorker in-process (Node), or a Web Worker behind comlink (a browser tab, whose main thread
 * then only moves messages). Messages are handled one at a time, in order; heartbeats both ways.
 */
import {
  cleanText,
  type DrawingsMessage,
  FramedLink,
  GradroomError,
  type Message,
  msg,
  type OptimizerConfig,
  type RawChannel,
  type RtcDeps,
  resultFields,
  type ServerMessage,
  SignalClient,
  type SimplePeerLike,
  settleOnce,
  simplePeerChannel,
  unpackFloats,
  updateFields,
  type WebSocketCtor,
  weightsChangeFrom,
} from '@gradroom/core';
import type { WorkerApi, WorkerSurface } from '../api.js';
import type { BackendName } from '../backends.js';

/** What computes for the volunteer (a ShardWorker, or a comlink proxy of one in a Web Worker): the worker surface and its weights. */
export type ComputeEngine = WorkerSurface &
  Pick<WorkerApi, 'setWeights'> &
  Partial<Pick<WorkerApi, 'classEval' | 'prefetch' | 'catchUp'>>;

/** Draw to train: what the coordinator may know of a student's drawings (see DrawingsMessage). */
export type DrawingsSummary = Omit<DrawingsMessage, 'v' | 'type'>;

export interface VolunteerOptions extends RtcDeps {
  /** The room server's WebSocket URL, e.g. ws://127.0.0.1:8080/ws. */
  url: string;
  token: string;
  name?: string;
  /**
   * This volunteer's identity in the room (16 to 64 of [A-Za-z0-9_-]); a page keeps one per tab so
   * that a ban sticks across reloads. Default: a fresh random one.
   */
  key?: string;
  engine: ComputeEngine;
  WebSocket: WebSocketCtor;
  /** Backends to try in order (e.g. ['webgpu']); default: the engine picks the fastest. */
  backends?: BackendName[];
  wasmPaths?: string;
  /** 'auto': WebRTC, the relay if that fails; 'always': the relay only (default 'auto'). */
  relay?: 'auto' | 'always';
  /**
   * 'relay': WebRTC only through the room's TURN servers (the `iceServers` the room server hands
   * out), never a direct path; default 'all'.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /** How long a direct connection may take before the relay is used (default 15 s). */
  connectTimeoutMs?: number;
  heartbeatMs?: number;
  /** Leave when nothing arrived from the coordinator for this long (default 30 s). */
  heartbeatTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface VolunteerStatus {
  state: 'connecting' | 'setting-up' | 'ready' | 'computing' | 'left';
  via: 'direct' | 'relay' | '';
  backend: string;
  /** Examples per second of the last shard (compute time only). */
  examplesPerSec: number;
  /** This tab's share of the last mini-batch, as the coordinator reports it. */
  share: number;
  workers: number;
  examples: number;
  shards: number;
  /** The room's progress as the coordinator last told it: iterations done, epoch, smoothed loss. */
  iteration: number;
  epoch: number;
  loss: number;
  /** Set while the coordinator leaves this tab out: why, with its figures. */
  standby?: string;
  /** The run's state as the coordinator last told it (paused by the teacher, stopped, done...). */
  roomState?: 'running' | 'paused' | 'waiting' | 'stopped' | 'done' | 'failed';
  /** The run's test accuracy, told when it ended. */
  testAccuracy?: number;
  /** This tab's examples/s as the coordinator measures it (the host's table shows the same figure). */
  roomSpeed?: number;
  /** Draw to train: own examples (drawings) mixed into this tab's local rounds, summed over rounds. */
  ownExamples?: number;
  reason?: string;
}

export class Volunteer {
  readonly status: VolunteerStatus = {
    state: 'connecting',
    via: '',
    backend: '',
    examplesPerSec: 0,
    share: 0,
    workers: 0,
    examples: 0,
    shards: 0,
    iteration: 0,
    epoch: 0,
    loss: Number.NaN,
  };
  private readonly left = settleOnce();
  /** Settles with the reason once this volunteer has left the room. */
  readonly done: Promise<string> = this.left.promise;
  private listeners: ((s: VolunteerStatus) => void)[] = [];
  private signal?: SignalClient;
  private link?: FramedLink;
  private timers: ReturnType<typeof setInterval>[] = [];
  /** The last weights the coordinator sent (a copy): what its next 'weights-change' applies to. */
  private held?: { version: number; weights: Float32Array };
  private drawings?: DrawingsSummary;
  /**
   * The coordinator has sent something (it speaks only after our hello, which start() queues in the
   * turn the link opens). Until then hello is the only message sent: a Node host's WebRTC binding
   * (@roamhq/wrtc) can hand its JS side the first messages of a new data channel out of order (those
   * cached while it builds the channel's object come after one that arrives meanwhile), and a host
   * that sees another message before hello bans the tab.
   */
  private heard = false;

  constructor(private readonly opts: VolunteerOptions) {}

  onStatus(fn: (s: VolunteerStatus) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((f) => f !== fn);
    };
  }

  private update(patch: Partial<VolunteerStatus>): void {
    Object.assign(this.status, patch);
    for (const fn of this.listeners) fn({ ...this.status });
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  /**
   * Draw to train: tells the coordinator what the student's drawings are (counts per digit, and the
   * thumbnails the student chose to share), now if connected, else once the coordinator has
   * answered its hello.
   */
  setDrawings(d: DrawingsSummary): void {
    this.drawings = d;
    if (this.heard && this.link && !this.left.settled())
      void this.link.send(msg({ type: 'drawings', ...d })).catch(() => {});
  }

  /** Leaves the room now: tells the coordinator (best effort) and closes everything. */
  leave(reason = 'volunteer left'): void {
    if (this.left.settled()) return;
    // the reason may quote the coordinator or the server; it is shown on the page
    reason = cleanText(reason, 300) || 'left';
    this.log(`leaving: ${reason}`);
    for (const t of this.timers) clearInterval(t);
    const link = this.link;
    if (link) {
      void link
        .send(msg({ type: 'leave', reason: reason.slice(0, 1000) }))
        .catch(() => {})
        .finally(() => setTimeout(() => link.close(reason), 50));
    }
    setTimeout(() => this.signal?.close(1000, 'left'), 60);
    this.update({ state: 'left', reason });
    this.left.settle(reason);
  }

  /** Connects and starts answering; resolves once the data channel is open and hello is sent. */
  async start(): Promise<void> {
    const o = this.opts;
    const signal = await SignalClient.connect(o.url, o.WebSocket, false);
    this.signal = signal;
    signal.closed.then((r) => this.leave(`room server: ${r}`));
    const joined = await new Promise<Extract<ServerMessage, { t: 'joined' }>>((resolve, reject) => {
      signal.onMessage((m) => {
        if (m.t === 'joined') resolve(m);
        else if (m.t === 'rejected') reject(new GradroomError('UNAUTHORIZED', `room server refused: ${m.reason}`));
      });
      signal.closed.then((r) => reject(new Error(`room server closed the connection: ${r}`)));
      signal.send({ t: 'join', token: o.token, name: o.name ?? 'volunteer', key: o.key ?? randomKey() });
    });
    this.log(`joined the room as ${joined.peerId}`);
    const channel = await this.connect(signal, joined);
    if (this.left.settled()) {
      channel.close('left');
      throw new Error(`left while connecting: ${this.status.reason}`);
    }
    const link = new FramedLink(channel);
    this.link = link;
    channel.closed.then((r) => this.leave(`channel closed: ${r}`));
    link.onError((e) => this.leave(`bad message from the coordinator: ${e.message}`));
    this.answer(link);
    await link.send(msg({ type: 'hello', token: o.token, name: o.name ?? 'volunteer', backends: o.backends ?? [] }));
    this.update({ state: 'setting-up' });
  }

  /** WebRTC first (unless the relay is forced); the server's relay when it fails or times out. */
  private async connect(signal: SignalClient, joined: Extract<ServerMessage, { t: 'joined' }>): Promise<RawChannel> {
    const o = this.opts;
    let onSignal: (data: unknown) => void = () => {};
    signal.onMessage((m) => {
      if (m.t === 'signal') onSignal(m.data);
      else if (m.t === 'closed') this.leave(`room closed: ${m.reason}`);
    });
    const viaRelay = (why: string) => {
      this.log(`using the room server's relay (${why})`);
      signal.send({ t: 'relay' });
      this.update({ via: 'relay' });
      return signal.relayChannel(undefined, joined.maxChunk);
    };
    if (o.relay === 'always') return viaRelay('asked for');
    const peer: SimplePeerLike = new o.SimplePeer({
      initiator: true,
      wrtc: o.wrtc,
      config: { iceServers: joined.iceServers, iceTransportPolicy: o.iceTransportPolicy ?? 'all' },
      channelConfig: { ordered: true },
    });
    onSignal = (data) => {
      if (!peer.destroyed) peer.signal(data);
    };
    peer.on('signal', (data) => signal.send({ t: 'signal', data }));
    const outcome = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(
        () => resolve(`no direct connection after ${o.connectTimeoutMs ?? 15000} ms`),
        o.connectTimeoutMs ?? 15000,
      );
      peer.on('connect', () => {
        clearTimeout(timer);
        resolve(null);
      });
      peer.on('error', (e) => {
        clearTimeout(timer);
        resolve(`WebRTC failed: ${e.message}`);
      });
      this.done.then(() => resolve('left'));
    });
    if (outcome === null) {
      this.update({ via: 'direct' });
      return simplePeerChannel(peer);
    }
    peer.destroy();
    return viaRelay(outcome);
  }

  private answer(link: FramedLink): void {
    const o = this.opts;
    let lastSeen = Date.now();
    let chain = Promise.resolve();
    const send = (m: Message) => link.send(m).catch((e) => this.leave(`cannot send: ${(e as Error).message}`));
    // a heartbeat (or an echo) only on a quiet link (FramedLink.quiet)
    this.timers.push(
      setInterval(() => {
        if (Date.now() - lastSeen > (o.heartbeatTimeoutMs ?? 30_000))
          return this.leave('the coordinator stopped answering');
        if (link.quiet && this.heard) void send(msg({ type: 'heartbeat', t: Date.now() }));
        link.tick();
      }, o.heartbeatMs ?? 2000),
    );
    link.onMessage((m) => {
      lastSeen = Date.now();
      if (!this.heard) {
        this.heard = true;
        if (this.drawings && !this.left.settled()) void send(msg({ type: 'drawings', ...this.drawings }));
      }
      switch (m.type) {
        case 'heartbeat':
          if (m.echo === undefined && link.quiet) void send(msg({ type: 'heartbeat', t: Date.now(), echo: m.t }));
          return;
        case 'leave':
          this.leave(`the coordinator ended: ${m.reason}`);
          return;
        case 'catchup':
          // not queued behind the local round it is for: it must reach that round while it runs
          o.engine
            .catchUp?.({
              round: m.round,
              encoded: { kind: 'int8', length: m.q8.length, block: m.block, data: m.q8, scales: m.scales },
            })
            ?.catch(() => {});
          return;
        case 'error':
          this.leave(`the coordinator refused: ${m.code}: ${m.message}`);
          return;
        case 'share':
          this.update({
            share: m.share,
            workers: m.workers,
            iteration: m.iteration,
            epoch: m.epoch,
            loss: m.loss,
            standby: m.standby === undefined ? undefined : cleanText(m.standby, 300),
            ...(m.state ? { roomState: m.state } : {}),
            ...(m.testAccuracy !== undefined ? { testAccuracy: m.testAccuracy } : {}),
            ...(m.speed !== undefined ? { roomSpeed: m.speed } : {}),
          });
          return;
      }
      chain = chain.then(() => this.handle(m, send));
    });
  }

  /** The weights a 'weights-change' from `base` makes, or undefined (logged) where they cannot be made. */
  private changed(base: number, packed: Uint8Array): Float32Array | undefined {
    const held = this.held;
    if (held?.version !== base) {
      this.log(`weights: a change from version ${base}, but this peer holds ${held?.version ?? 'none'}`);
      return undefined;
    }
    try {
      return unpackFloats(packed, held.weights);
    } catch (e) {
      this.log(`weights: ${(e as Error).message}`);
      return undefined;
    }
  }

  private async handle(m: Message, send: (m: Message) => Promise<void>): Promise<void> {
    if (this.left.settled()) return;
    const o = this.opts;
    const refuse = (e: unknown) =>
      send(
        msg({
          type: 'error',
          code: e instanceof GradroomError ? e.code : 'FAILED',
          message: String((e as Error)?.message ?? e).slice(0, 2000),
        }),
      );
    try {
      switch (m.type) {
        case 'welcome':
        case 'task': {
          this.held = undefined;
          this.update({ state: 'setting-up' });
          const info = await o.engine.init({ task: m.task, backends: o.backends, wasmPaths: o.wasmPaths });
          this.update({ state: 'ready', backend: info.backend });
          this.log(`set up on the ${info.backend} backend`);
          await send(
            msg({
              type: 'ready',
              backend: info.backend,
              device: info.device ? info.device.slice(0, 1000) : undefined,
              layout: info.layout,
              paramCount: info.paramCount,
              trainSize: info.trainSize,
              testSize: info.testSize,
            }),
          );
          return;
        }
        case 'weights':
        case 'weights-change': {
          // a change applies to the last weights the coordinator sent; a peer that does not hold
          // those keeps its old version, and its next assign answers STALE (the coordinator then
          // sends the weights whole)
          const weights = m.type === 'weights' ? m.weights : this.changed(m.base, m.packed);
          if (!weights) return;
          this.held = { version: m.version, weights: weights.slice() }; // the engine may take the buffer
          // a failure here shows as STALE on the next assign, which answers with an error
          await o.engine.setWeights(m.version, weights).catch((e) => this.log(`weights: ${(e as Error).message}`));
          return;
        }
        case 'assign': {
          this.update({ state: 'computing' });
          const r = await o.engine.compute({
            iteration: m.iteration,
            version: m.version,
            shardId: m.shardId,
            indices: m.indices,
            // validated: both or neither, one label and as many bytes for each index
            ...(m.pixels && m.labels ? { bytes: { pixels: m.pixels, labels: m.labels } } : {}),
          });
          this.update({
            state: 'ready',
            backend: r.backend,
            examples: this.status.examples + r.count,
            shards: this.status.shards + 1,
            iteration: m.iteration,
            examplesPerSec: r.computeMs > 0 ? (r.count / r.computeMs) * 1000 : this.status.examplesPerSec,
          });
          await send(msg({ type: 'result', ...resultFields(r, m.pack) }));
          return;
        }
        case 'prefetch':
          // a hint: the data travels while the room's warm start runs; no answer
          await o.engine.prefetch?.(m.examples)?.catch(() => {}); // an engine without it: nothing to do
          return;
        case 'local': {
          this.update({ state: 'computing' });
          // the message was validated: sizes add up to the indices, one learning rate per batch
          const batches: Uint32Array[] = [];
          let off = 0;
          for (const n of m.sizes) {
            batches.push(m.indices.slice(off, off + n));
            off += n;
          }
          const r = await o.engine.trainLocal({
            round: m.round,
            version: m.version,
            batches,
            lrs: Array.from(m.lrs),
            inner: m.inner as unknown as OptimizerConfig,
            compress: m.compress,
            baseVersion: m.baseVersion,
            weightsDelta: weightsChangeFrom(m),
            ...(m.prefetch ? { prefetch: m.prefetch } : {}),
            ...(m.early ? { early: true } : {}),
          });
          this.update({
            state: 'ready',
            backend: r.backend,
            examples: this.status.examples + r.count,
            shards: this.status.shards + 1,
            iteration: m.round + batches.length,
            examplesPerSec: r.computeMs > 0 ? (r.count / r.computeMs) * 1000 : this.status.examplesPerSec,
            ownExamples: (this.status.ownExamples ?? 0) + (r.ownExamples ?? 0),
          });
          await send(
            msg({
              type: 'local-result',
              ownExamples: r.ownExamples ? r.ownExamples : undefined,
              round: r.round,
              version: r.version,
              ...updateFields(r.encoded, r.delta),
              lossSum: r.lossSum,
              correct: r.correct,
              count: r.count,
              computeMs: r.computeMs,
              backend: r.backend,
              ...(r.caughtUp ? { caughtUp: true } : {}),
            }),
          );
          return;
        }
        case 'evaluate': {
          const r = await o.engine.evaluate({ version: m.version, indices: m.indices, split: m.split });
          await send(
            msg({ type: 'evaluated', evalId: m.evalId, lossSum: r.lossSum, correct: r.correct, count: r.count }),
          );
          return;
        }
        case 'class-eval': {
          if (!o.engine.classEval) throw new GradroomError('BAD_CONFIG', 'this engine cannot evaluate drawings');
          const r = await o.engine.classEval({ weights: m.weights });
          await send(msg({ type: 'class-evaluated', evalId: m.evalId, correct: r.correct, count: r.count }));
          return;
        }
        default:
          this.leave(`the coordinator sent an unexpected '${m.type}' message`);
      }
    } catch (e) {
      this.update({ state: 'ready' });
      await refuse(e);
    }
  }
}

/** A random identity key: 144 bits, base64url. */
export function randomKey(): string {
  const b = new Uint8Array(18);
  globalThis.crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/** Joins a room and starts answering. Throws if the room refuses the token or cannot be reached. */
export async function joinRoom(opts: VolunteerOptions): Promise<Volunteer> {
  const v = new Volunteer(opts);
  try {
    await v.start();
  } catch (e) {
    v.leave((e as Error).message);
    throw e;
  }
  return v;
}
