/**
 * Worker membership for one run: who joined, who is set up and idle, and who left or was dropped.
 * Everything about one worker (held version, busy, cost, strikes) lives in its WorkerSession; the
 * pool only keeps the set and tells the runner when it changed.
 */
import type { WorkerInfo, WorkerInit } from '@gradroom/worker';
import { Emitter } from './emitter.js';
import type { WorkerEvent, WorkerStatus } from './events.js';
import type { Refusal } from './run-facts.js';
import { DEFAULT_SESSION_OPTIONS, type SessionHost, type SessionOptions, WorkerSession } from './session.js';
import type { WorkerHandle } from './worker-handle.js';

export type PoolOptions = Partial<SessionOptions>;

export class WorkerPool extends Emitter<{ worker: WorkerEvent; change: undefined }> {
  readonly members = new Map<string, WorkerSession>();
  private readonly opts: SessionOptions;
  private readonly host: SessionHost;
  private waiters: (() => void)[] = [];

  /** Joins under way: add() calls not settled yet (forgotten once settled: a long room run sees many). */
  private readonly joins = new Set<Promise<unknown>>();

  constructor(
    private readonly initFor: () => WorkerInit,
    opts: PoolOptions = {},
    /** The run's own check of a worker that finished setting up (RunFacts.admit); refused ones leave. */
    private readonly admit: (s: WorkerSession, info: WorkerInfo) => Refusal | undefined = () => undefined,
  ) {
    super();
    this.opts = { ...DEFAULT_SESSION_OPTIONS, ...definedOnly(opts) };
    this.host = {
      drop: (s, reason) => this.remove(s.id, reason),
      changed: () => this.changed(),
      typicalMs: (examples) => {
        const times = this.ready()
          .map((s) => s.predictMs(examples))
          .filter((t): t is number => t !== undefined)
          .sort((a, b) => a - b);
        return times.length > 0 ? times[Math.floor(times.length / 2)] : undefined;
      },
    };
  }

  /** Workers still setting up (a peer fetching its data set): present, not yet ready. */
  get joining(): number {
    return this.joins.size;
  }

  /** A worker of the run's own (a thread or Web Worker, not a peer), set up or still setting up. */
  hasOwnWorker(): boolean {
    for (const s of this.members.values()) if (s.trusted) return true;
    return false;
  }

  /** Sets the worker up for the task and admits it; it takes shards from then on. */
  add(handle: WorkerHandle): Promise<WorkerSession> {
    const p = this.setUp(handle);
    const settled: Promise<unknown> = p.then(
      () => this.joins.delete(settled),
      () => this.joins.delete(settled),
    );
    this.joins.add(settled);
    return p;
  }

  /**
   * Resolves once every join started so far has settled, or, with `graceMs`, once a worker has been
   * set up for that long while others are still joining, or at once when the run's own workers are
   * all set up: the laptop alone would start now, and the others join the running room as they come (the
   * grace cost a testbed room 1.3 s of a 12 s run to 92 % against the host alone).
   */
  async joined(graceMs?: number): Promise<void> {
    const all = Promise.all([...this.joins]);
    if (graceMs === undefined) return void (await all);
    let done = false;
    void all.then(() => {
      done = true;
      this.changed();
    });
    let readySince: number | undefined;
    while (!done) {
      const ready = this.ready();
      const own = [...this.members.values()].filter((s) => s.trusted);
      if (own.length > 0 && own.every((s) => ready.includes(s))) return;
      if (ready.length > 0) readySince ??= performance.now();
      const left = readySince === undefined ? undefined : graceMs - (performance.now() - readySince);
      if (left !== undefined && left <= 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.nextChange(),
        ...(left === undefined ? [] : [new Promise<void>((r) => (timer = setTimeout(r, left)))]),
      ]);
      clearTimeout(timer);
    }
  }

  private async setUp(handle: WorkerHandle): Promise<WorkerSession> {
    if (this.members.has(handle.id)) throw new Error(`worker ${handle.id} is already in the run`);
    const s = new WorkerSession(handle, this.host, this.opts);
    this.members.set(handle.id, s);
    handle.closed.then((reason) => this.remove(handle.id, reason));
    let info: WorkerInfo;
    try {
      info = await handle.init(this.initFor());
    } catch (e) {
      this.remove(handle.id, `init failed: ${(e as Error).message}`, 'rejected');
      throw e;
    }
    const refused = this.admit(s, info);
    if (refused) {
      this.remove(handle.id, refused.reason, 'rejected');
      throw refused.error;
    }
    if (!s.ready(info)) throw new Error(`worker ${handle.id} left during init`);
    this.emit('worker', {
      type: 'joined',
      id: handle.id,
      kind: handle.kind,
      name: handle.name,
      backend: info.backend,
      skipped: info.skipped,
    });
    this.changed();
    return s;
  }

  remove(id: string, reason: string, type: 'left' | 'rejected' = 'left'): void {
    const s = this.members.get(id);
    if (!s?.gone()) return;
    this.members.delete(id);
    this.emit('worker', { type, id, kind: s.handle.kind, name: s.handle.name, backend: s.info?.backend, reason });
    this.changed();
    void s.handle.close(reason).catch(() => {});
  }

  /** Set-up workers. */
  ready(): WorkerSession[] {
    return [...this.members.values()].filter((s) => s.state === 'ready');
  }

  /** Set-up workers that are not busy with an earlier call. */
  idle(): WorkerSession[] {
    return this.ready().filter((s) => !s.busy);
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

  status(): WorkerStatus[] {
    return [...this.members.values()].map((s) => s.status());
  }

  /** Ends every worker. */
  async closeAll(reason: string): Promise<void> {
    await Promise.all([...this.members.values()].map((s) => s.handle.close(reason).catch(() => {})));
  }
}

/** The session options among `o` (a TrainerOptions carries others too). */
function definedOnly(o: PoolOptions): PoolOptions {
  const keys = Object.keys(DEFAULT_SESSION_OPTIONS) as (keyof SessionOptions)[];
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
