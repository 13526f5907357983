/**
 * A volunteer peer as a WorkerHandle: core's protocol messages (plus the room's ready/evaluate
 * messages, see @gradroom/worker/peer) over a FramedLink, itself over a WebRTC data channel or the
 * room server's relay.
 *
 * The peer answers in order, one request at a time, so replies match the oldest open request (init,
 * compute, evaluate); this handle only pairs them. What a reply holds is checked once, by the
 * session's result gate; a peer whose reply fails it is refused (`refuse`) and disconnected. A
 * malformed, oversized, wrong-version or unexpected message closes the handle here with a logged
 * reason; the trainer then plans the shard again on the others. The handle also closes when the
 * channel closes or the peer stops answering heartbeats.
 */

import type { FramedLink } from '@gradroom/core';
import {
  cleanText,
  type DrawingsMessage,
  type EncodedUpdate,
  encodeUpdate,
  GradroomError,
  type Message,
  msg,
  ParamLayout,
  resultData,
  type ShareMessage,
  settleOnce,
  type TaskSpec,
  type TensorShape,
  updateFrom,
  weightsChangeFields,
} from '@gradroom/core';
import type { DigitCounts, LocalResultData, ShardResultData, WorkerInfo } from '@gradroom/worker';
import { BACKEND_ORDER, type BackendName } from '@gradroom/worker/catalog';
import { closeGuard, WorkerGoneError, type WorkerHandle } from '../worker-handle.js';

export interface PeerHandleOptions {
  /** The room's peer id (used as the worker id). */
  id: string;
  /** The name the volunteer gave, cleaned (shown in the worker table and logs). */
  name?: string;
  link: FramedLink;
  /** Heartbeat interval (default 2 s). */
  heartbeatMs?: number;
  /** Close when nothing arrived for this long (default 15 s). */
  heartbeatTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * The model's layout when the trainer does not know it yet (before its first worker joined; the
   * wire protocol always names it). Node: hostRoom builds the model once with tfjs.
   */
  layoutFor?: (task: TaskSpec) => Promise<TensorShape[]>;
  /**
   * Exact mode's floats travel packed losslessly (packed-floats.ts; default true): weights as a
   * change from the last weights this peer was sent, gradient sums packed. False: float32 as they are.
   */
  packed?: boolean;
}

type Open =
  | { kind: 'init'; task: TaskSpec; resolve: (i: WorkerInfo) => void; reject: (e: unknown) => void }
  | {
      kind: 'compute';
      iteration: number;
      version: number;
      shardId: number;
      resolve: (r: ShardResultData) => void;
      reject: (e: unknown) => void;
    }
  | {
      kind: 'local';
      round: number;
      version: number;
      resolve: (r: LocalResultData) => void;
      reject: (e: unknown) => void;
    }
  | {
      kind: 'class-eval';
      evalId: number;
      resolve: (r: DigitCounts) => void;
      reject: (e: unknown) => void;
    }
  | {
      kind: 'evaluate';
      evalId: number;
      resolve: (r: { lossSum: number; correct: number; count: number }) => void;
      reject: (e: unknown) => void;
    };

type Request = Open extends infer T ? (T extends unknown ? Omit<T, 'resolve' | 'reject'> : never) : never;

export interface PeerWorkerHandle extends WorkerHandle {
  /** Tells the peer the room's progress and its share of the last mini-batch. */
  sendShare(p: {
    iteration: number;
    epoch: number;
    loss: number;
    share: number;
    workers: number;
    standby?: string;
    state?: ShareMessage['state'];
    testAccuracy?: number;
    speed?: number;
  }): void;
  /**
   * Draw to train: what the peer says of its student's drawings (counts; thumbnails only of those
   * shared), and the own examples it mixed into each local round. Listeners must not throw.
   */
  onClassData(fn: (e: ClassDataEvent) => void): () => void;
  /** A federated evaluation: the peer's held-out drawings under `weights`, per digit. */
  classEval(weights: Float32Array): Promise<DigitCounts>;
  /** Round-trip time of the last heartbeat, ms. */
  readonly rttMs: number;
  /** Why the handle closed the peer for breaking the protocol; undefined while it has not. */
  readonly violation: string | undefined;
}

/**
 * A round's catch-up goes to every peer holding an early group, as the same vector: encoded once
 * (held while the vector is; the next round's is another).
 */
const int8Changes = new WeakMap<Float32Array, Extract<EncodedUpdate, { kind: 'int8' }>>();
function int8Of(change: Float32Array): Extract<EncodedUpdate, { kind: 'int8' }> {
  const held = int8Changes.get(change);
  if (held) return held;
  const e = encodeUpdate(change, 'int8');
  if (e.kind !== 'int8') throw new Error('encodeUpdate int8 returned another kind');
  int8Changes.set(change, e);
  return e;
}

/** Draw to train, as a peer reports it: its drawings (as counts), or the own examples of one round. */
export type ClassDataEvent =
  | { kind: 'drawings'; drawings: Omit<DrawingsMessage, 'v' | 'type'> }
  | { kind: 'round'; ownExamples: number };

export function peerWorkerHandle(opts: PeerHandleOptions): PeerWorkerHandle {
  const { id, link } = opts;
  const closedOnce = settleOnce();
  const closed = closedOnce.promise;
  const open: Open[] = [];
  let evalIds = 0;
  let lastSeen = Date.now();
  let rttMs = Number.NaN;
  const packed = opts.packed ?? true;
  // the version of the last weights message sent to the peer: what a 'weights-change' applies to
  let held: number | undefined;
  const log = opts.log ?? (() => {});
  let classListeners: ((e: ClassDataEvent) => void)[] = [];
  const tellClass = (e: ClassDataEvent) => {
    for (const fn of classListeners) {
      try {
        fn(e);
      } catch (err) {
        log(`peer ${id}: a draw-to-train listener failed: ${cleanText((err as Error)?.message ?? String(err), 200)}`);
      }
    }
  };

  const close = (reason: string, tell?: Message): void => {
    if (closedOnce.settled()) return;
    closedOnce.settle(reason);
    clearInterval(timer);
    const gone = new WorkerGoneError(id, reason);
    for (const o of open.splice(0)) o.reject(gone);
    if (tell) {
      void link
        .send(tell)
        .catch(() => {})
        .finally(() => setTimeout(() => link.close(reason), 100));
    } else link.close(reason);
  };
  /** The peer broke the protocol: logged, told, disconnected. */
  let violated: string | undefined;
  const violation = (reason: string, code = 'BAD_MESSAGE'): void => {
    if (!closedOnce.settled()) violated ??= reason;
    log(`peer ${id} disconnected: ${reason}`);
    close(`disconnected: ${reason}`, msg({ type: 'error', code, message: reason.slice(0, 2000) }));
  };

  // a heartbeat (or an echo) only on a quiet link (FramedLink.quiet): a classroom room's host spent
  // as long on heartbeats as on its tasks
  const timer = setInterval(() => {
    const quiet = Date.now() - lastSeen;
    if (quiet > (opts.heartbeatTimeoutMs ?? 15_000)) {
      log(`peer ${id} stopped answering (nothing for ${quiet} ms)`);
      close(`stopped answering (no message for ${quiet} ms)`);
      return;
    }
    if (link.quiet) void link.send(msg({ type: 'heartbeat', t: Date.now() })).catch(() => {});
    link.tick();
  }, opts.heartbeatMs ?? 2000);

  link.closed.then((r) => close(`channel closed: ${r}`));
  link.onError((e) => violation(`sent a bad message: ${e.message}`, e.code));
  link.onMessage((m) => {
    lastSeen = Date.now();
    switch (m.type) {
      case 'heartbeat':
        if (m.echo !== undefined) rttMs = Date.now() - m.echo;
        else if (link.quiet) void link.send(msg({ type: 'heartbeat', t: Date.now(), echo: m.t })).catch(() => {});
        return;
      case 'leave':
        log(`peer ${id} left: ${cleanText(m.reason, 200)}`);
        close(`left: ${cleanText(m.reason, 200)}`);
        return;
      case 'error': {
        const head = open.shift();
        if (!head) return violation(`sent an error with no request open: ${cleanText(m.code, 40)}`);
        // its weights are not what this side thinks: the next ones go whole
        if (m.code === 'STALE') held = undefined;
        head.reject(
          new GradroomError(
            m.code === 'STALE' ? 'STALE' : 'BAD_STATE',
            `peer ${id}: ${cleanText(m.code, 40)}: ${cleanText(m.message, 500)}`,
          ),
        );
        return;
      }
      case 'ready': {
        const head = open[0];
        if (head?.kind !== 'init') return violation("sent 'ready' with no task open");
        open.shift();
        if (!(BACKEND_ORDER as readonly string[]).includes(m.backend))
          return violation(`unknown backend '${cleanText(m.backend, 24)}'`);
        head.resolve({
          backend: m.backend as BackendName,
          skipped: [],
          device: m.device === undefined ? undefined : cleanText(m.device, 200),
          layout: m.layout,
          paramCount: m.paramCount,
          trainSize: m.trainSize,
          testSize: m.testSize,
        });
        return;
      }
      case 'result': {
        const head = open[0];
        if (
          head?.kind !== 'compute' ||
          head.shardId !== m.shardId ||
          head.iteration !== m.iteration ||
          head.version !== m.version
        ) {
          return violation(`sent a result for shard ${m.shardId} that was not asked for`, 'STALE');
        }
        open.shift();
        head.resolve(resultData(m));
        return;
      }
      case 'local-result': {
        const head = open[0];
        if (head?.kind !== 'local' || head.round !== m.round || head.version !== m.version)
          return violation(`sent a local result for round ${m.round} that was not asked for`, 'STALE');
        open.shift();
        if (m.ownExamples) tellClass({ kind: 'round', ownExamples: m.ownExamples });
        // the session decodes and checks the payload against the task (lengths, scales, finiteness)
        head.resolve({
          round: m.round,
          version: m.version,
          delta: m.delta,
          encoded: updateFrom(m),
          lossSum: m.lossSum,
          correct: m.correct,
          count: m.count,
          computeMs: m.computeMs,
          backend: m.backend,
          ...(m.caughtUp ? { caughtUp: true } : {}),
        });
        return;
      }
      case 'evaluated': {
        const head = open[0];
        if (head?.kind !== 'evaluate' || head.evalId !== m.evalId)
          return violation('sent an evaluation that was not asked for');
        open.shift();
        head.resolve({ lossSum: m.lossSum, correct: m.correct, count: m.count });
        return;
      }
      case 'class-evaluated': {
        const head = open[0];
        if (head?.kind !== 'class-eval' || head.evalId !== m.evalId)
          return violation('sent a class evaluation that was not asked for');
        open.shift();
        head.resolve({ correct: m.correct, count: m.count });
        return;
      }
      case 'drawings': {
        const { v: _v, type: _t, ...drawings } = m;
        tellClass({ kind: 'drawings', drawings });
        return;
      }
      default:
        violation(`sent a '${m.type}' message, which peers never send`);
    }
  });

  const guard = closeGuard(id, closed);
  const request = <T>(o: Request, out: Message): Promise<T> =>
    guard(
      new Promise<T>((resolve, reject) => {
        if (closedOnce.settled()) return reject(new WorkerGoneError(id, 'closed'));
        open.push({ ...o, resolve, reject } as Open);
        link.send(out).catch((e) => {
          const i = open.findIndex((x) => x.resolve === resolve);
          if (i >= 0) open.splice(i, 1);
          reject(e);
        });
      }),
    );

  return {
    id,
    kind: 'peer',
    name: opts.name,
    closed,
    get rttMs() {
      return rttMs;
    },
    get violation() {
      return violated;
    },
    async init(init) {
      let t = init.task;
      if (t.layout.length === 0) {
        if (!opts.layoutFor) throw new GradroomError('BAD_STATE', "the run's model layout is not known yet");
        const layout = await guard(opts.layoutFor(t));
        t = { ...t, layout, paramCount: new ParamLayout(layout).size };
      }
      held = undefined; // a peer setting up a task drops the weights it held
      return request<WorkerInfo>({ kind: 'init', task: t }, msg({ type: 'welcome', peerId: id, task: t }));
    },
    setWeights(snapshot) {
      // the same encoded bytes for every peer (one encoding per version); a change where the peer
      // holds the snapshot's base
      const change = packed && held !== undefined && snapshot.base?.version === held;
      held = snapshot.version;
      const bytes = (change && snapshot.encodedChange()) || snapshot.encoded();
      return guard(link.sendEncoded(bytes)).then(() => bytes.byteLength);
    },
    compute(req) {
      const { iteration, version, shardId, indices, bytes } = req;
      return request<ShardResultData>(
        { kind: 'compute', iteration, version, shardId },
        msg({
          type: 'assign',
          iteration,
          version,
          shardId,
          indices,
          ...(bytes ? { pixels: bytes.pixels, labels: bytes.labels } : {}),
          ...(packed ? { pack: true } : {}),
        }),
      );
    },
    trainLocal(req) {
      const { round, version } = req;
      const sizes = Uint32Array.from(req.batches, (b) => b.length);
      const indices = new Uint32Array(sizes.reduce((a, n) => a + n, 0));
      let o = 0;
      for (const b of req.batches) {
        indices.set(b, o);
        o += b.length;
      }
      return request<LocalResultData>(
        { kind: 'local', round, version },
        msg({
          type: 'local',
          round,
          version,
          indices,
          sizes,
          lrs: Float32Array.from(req.lrs),
          inner: req.inner as unknown as Record<string, unknown>,
          compress: req.compress ?? 'none',
          ...(req.prefetch ? { prefetch: req.prefetch } : {}),
          ...(req.early ? { early: true } : {}),
          ...weightsChangeFields(req.weightsDelta, req.baseVersion),
        }),
      );
    },
    evaluate(req) {
      const evalId = evalIds++;
      return request(
        { kind: 'evaluate', evalId },
        msg({ type: 'evaluate', evalId, version: req.version, split: req.split, indices: req.indices }),
      );
    },
    onClassData(fn) {
      classListeners.push(fn);
      return () => {
        classListeners = classListeners.filter((f) => f !== fn);
      };
    },
    classEval(weights) {
      const evalId = evalIds++;
      return request({ kind: 'class-eval', evalId }, msg({ type: 'class-eval', evalId, weights }));
    },
    async memory() {
      // a peer's memory is its own business; nothing to report across the room
      return { numTensors: 0, numBytes: 0 };
    },
    async close(reason) {
      close(reason, msg({ type: 'leave', reason: reason.slice(0, 1000) }));
    },
    refuse(reason, code) {
      violation(reason, code);
    },
    prefetch(examples) {
      if (closedOnce.settled() || examples.length === 0) return;
      void link.send(msg({ type: 'prefetch', examples })).catch(() => {});
    },
    catchUp({ round, change }) {
      if (closedOnce.settled() || !change) return;
      // int8 whatever the run's compression: a shift the worker's own next steps absorb, at a
      // quarter of float32's bytes on the link it shares
      const e = int8Of(change);
      void link.send(msg({ type: 'catchup', round, q8: e.data, scales: e.scales, block: e.block })).catch(() => {});
    },
    sendShare(p) {
      if (closedOnce.settled() || !Number.isFinite(p.loss)) return;
      void link.send(msg({ type: 'share', ...p, share: Math.min(1, Math.max(0, p.share)) })).catch(() => {});
    },
  };
}
