/**
 * Worker membership for one run: who is ready, how fast each one is, how long a shard may take
 * before it is planned again, and who is dropped for missing deadlines or sending bad results.
 */
import type { WorkerInfo, WorkerInit } from '@gradroom/worker';
import { Emitter } from './emitter.js';
import type { WorkerEvent, WorkerStatus } from './events.js';
import type { WorkerHandle } from './worker-handle.js';

export interface PoolOptions {
  /** Deadline of a worker's first shard, before its speed is measured (shader compile, data load). */
  firstDeadlineMs?: number;
  /** Deadline = slack x expected time (from measured speed) + floor. */
  deadlineSlack?: number;
  deadlineFloorMs?: number;
  /** Consecutive missed deadlines, or bad results, before a worker is dropped. */
  maxStrikes?: number;
}

export interface Member {
  readonly handle: WorkerHandle;
  info?: WorkerInfo;
  /** Examples per second, EWA over its calls (0 = not measured yet). */
  speed: number;
  /** Weights version this worker holds (-1: none). */
  version: number;
  busy: boolean;
  strikes: number;
  examples: number;
  lastShare: number;
  /** Planning rounds in a row in which this worker got no shard. */
  idleRounds: number;
  /** Calls that succeeded. */
  calls: number;
  status: WorkerStatus['status'];
}

export class WorkerPool extends Emitter<{ worker: WorkerEvent; change: undefined }> {
  readonly members = new Map<string, Member>();
  private readonly opts: Required<PoolOptions>;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly initFor: () => WorkerInit,
    opts: PoolOptions = {},
  ) {
    super();
    this.opts = { firstDeadlineMs: 120_000, deadlineSlack: 4, deadlineFloorMs: 2_000, maxStrikes: 3, ...opts };
  }

  /** Sets the worker up for the task; it takes shards once init resolves. */
  async add(handle: WorkerHandle): Promise<Member> {
    const m: Member = {
      handle,
      speed: 0,
      version: -1,
      busy: false,
      strikes: 0,
      examples: 0,
      lastShare: 0,
      idleRounds: 0,
      calls: 0,
      status: 'joining',
    };
    this.members.set(handle.id, m);
    handle.closed.then((reason) => this.remove(handle.id, reason));
    try {
      m.info = await handle.init(this.initFor());
    } catch (e) {
      this.remove(handle.id, `init failed: ${(e as Error).message}`, 'rejected');
      await handle.close('init failed').catch(() => {});
      throw e;
    }
    if (m.status === 'gone') throw new Error(`worker ${handle.id} left during init`);
    m.status = 'ready';
    this.emit('worker', {
      type: 'joined',
      id: handle.id,
      kind: handle.kind,
      backend: m.info.backend,
      skipped: m.info.skipped,
    });
    this.changed();
    return m;
  }

  remove(id: string, reason: string, type: 'left' | 'rejected' = 'left'): void {
    const m = this.members.get(id);
    if (!m || m.status === 'gone') return;
    m.status = 'gone';
    this.members.delete(id);
    this.emit('worker', { type, id, kind: m.handle.kind, backend: m.info?.backend, reason });
    this.changed();
    void m.handle.close(reason).catch(() => {});
  }

  /** Ready workers that are not busy with an earlier call. */
  idle(): Member[] {
    return [...this.members.values()].filter((m) => m.status === 'ready' && !m.busy);
  }

  /** Any worker that is, or will be, able to take work. */
  hasAny(): boolean {
    return this.members.size > 0;
  }

  /** Resolves at the next membership or busy-state change. */
  nextChange(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
    this.emit('change', undefined);
  }

  /** How long `examples` may take on this worker before the shard is planned elsewhere. */
  deadlineMs(m: Member, examples: number): number {
    if (m.speed <= 0) return this.opts.firstDeadlineMs;
    return this.opts.deadlineSlack * (examples / m.speed) * 1000 + this.opts.deadlineFloorMs;
  }

  recordSuccess(m: Member, examples: number, ms: number): void {
    m.strikes = 0;
    m.examples += examples;
    // a worker's first call also pays for its warm-up (weights, JIT, shader compiles): not a speed
    if (++m.calls === 1) return;
    const s = (examples / Math.max(ms, 0.1)) * 1000;
    m.speed = m.speed <= 0 ? s : 0.7 * m.speed + 0.3 * s;
  }

  /** A missed deadline or a bad result; returns true when the worker was dropped for it. */
  strike(m: Member, reason: string): boolean {
    m.strikes++;
    if (m.strikes >= this.opts.maxStrikes) {
      this.remove(m.handle.id, `dropped after ${m.strikes} strikes, last: ${reason}`);
      return true;
    }
    return false;
  }

  status(): WorkerStatus[] {
    return [...this.members.values()].map((m) => ({
      id: m.handle.id,
      kind: m.handle.kind,
      backend: m.info?.backend ?? '',
      speed: m.speed,
      share: m.lastShare,
      examples: m.examples,
      status: m.status === 'ready' && m.busy ? 'busy' : m.status,
    }));
  }
}
