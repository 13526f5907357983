/**
 * Who is in the room, as people: one row per student name. A student who pauses (leaves) and
 * joins again gets a new peer id but keeps their row, their total examples and their time in the
 * room; one who leaves keeps the row, marked as left. Local Web Workers have rows of their own.
 */
import type { WorkerStatus } from '@gradroom/coordinator/browser';

export interface Person {
  /** The row's key: 'v:' + name for volunteers, 'l:' + id for local workers. */
  key: string;
  name: string;
  local: boolean;
  /** The peer or worker id of the current session (undefined once left). */
  id?: string;
  via?: 'direct' | 'relay';
  /** Sessions so far (a rejoin adds one). */
  sessions: number;
  /** Examples of earlier sessions, and the latest figure of the current one. */
  examplesBefore: number;
  examplesNow: number;
  /** Milliseconds in the room over every session, and when the current one began. */
  msBefore: number;
  since?: number;
  left?: string;
  /** The current session's channel is up and its hello checked (not only announced by the server). */
  accepted?: boolean;
  /** The pool's last word on this person's worker. */
  status?: WorkerStatus;
  backend?: string;
}

/** Strips control characters and trims a name a peer chose (never trusted as markup or layout). */
export function cleanName(name: string | undefined, fallback: string): string {
  const s = (name ?? '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e]/g, '')
    .trim()
    .slice(0, 40);
  return s || fallback;
}

/** One person's figures in a saved ledger. */
export interface RosterEntry {
  key: string;
  name: string;
  local: boolean;
  sessions: number;
  examples: number;
  ms: number;
  backend?: string;
}
export type RosterRecord = RosterEntry[];

export class Roster {
  private readonly rows = new Map<string, Person>();
  private readonly byId = new Map<string, string>();
  constructor(private readonly now: () => number = () => Date.now()) {}

  /** A volunteer joined (or joined again under the same name). */
  join(id: string, rawName: string | undefined, via?: 'direct' | 'relay', accepted = false): Person {
    const name = cleanName(rawName, 'volunteer');
    const key = `v:${name.toLowerCase()}`;
    let p = this.rows.get(key);
    if (p?.id && p.id !== id && !p.left) {
      // two tabs under one name at once: the second gets its own row, "name (2)"
      let n = 2;
      while (this.rows.get(`v:${name.toLowerCase()} (${n})`)?.id) n++;
      return this.join(id, `${p.name} (${n})`, via, accepted);
    }
    if (!p) {
      p = { key, name, local: false, sessions: 0, examplesBefore: 0, examplesNow: 0, msBefore: 0 };
      this.rows.set(key, p);
    }
    if (p.id !== id) {
      p.sessions++;
      p.examplesBefore += p.examplesNow;
      p.examplesNow = 0;
      p.since = this.now();
      p.status = undefined;
      p.accepted = false;
    }
    if (accepted) p.accepted = true;
    p.id = id;
    p.left = undefined;
    if (via) p.via = via;
    this.byId.set(id, key);
    return p;
  }

  /** A local Web Worker of this tab. */
  local(id: string, name: string): Person {
    const key = `l:${id}`;
    const p: Person = {
      key,
      name,
      local: true,
      id,
      sessions: 1,
      examplesBefore: 0,
      examplesNow: 0,
      msBefore: 0,
      since: this.now(),
    };
    this.rows.set(key, p);
    this.byId.set(id, key);
    return p;
  }

  get(id: string): Person | undefined {
    const k = this.byId.get(id);
    return k ? this.rows.get(k) : undefined;
  }

  /** The session `id` ended: the row stays, marked left (or finished, at the end of a run). */
  leave(id: string, reason: string): void {
    const p = this.get(id);
    if (!p || p.id !== id) return;
    this.close(p);
    p.left = reason;
    p.accepted = false;
  }

  private close(p: Person): void {
    if (p.since !== undefined) p.msBefore += this.now() - p.since;
    p.since = undefined;
    p.id = undefined;
  }

  /** The pool's view of every worker it has now. */
  update(list: WorkerStatus[]): void {
    for (const w of list) {
      const p = this.get(w.id);
      if (!p || p.id !== w.id) continue;
      p.status = w;
      p.examplesNow = w.examples;
      if (w.backend) p.backend = w.backend;
    }
  }

  /** A run ended: local workers are done; their rows stay with their last figures; every clock stops. */
  endRun(): void {
    for (const p of this.rows.values()) {
      if (p.local && p.id) {
        this.close(p);
        p.left = 'finished';
      } else if (p.since !== undefined) {
        // "seconds in the room" is this run's time, not the minutes before or after it
        p.msBefore += this.now() - p.since;
        p.since = undefined;
      }
    }
  }

  /**
   * A new run: local workers of the last one go, and so do students who left; those in the room
   * keep their rows with figures from zero (the summary counts this run's examples and time only).
   */
  newRun(): void {
    const now = this.now();
    for (const [k, p] of this.rows) {
      if (p.local || !p.id) {
        this.rows.delete(k);
        continue;
      }
      p.examplesBefore = p.examplesNow = p.msBefore = 0;
      p.sessions = 1;
      p.since = now;
    }
  }

  /** The ledger's figures now (saved with each checkpoint, so a reloaded page goes on from them). */
  record(): RosterRecord {
    return this.list().map((p) => ({
      key: p.key,
      name: p.name,
      local: p.local,
      sessions: p.sessions,
      examples: this.examples(p),
      ms: this.ms(p),
      backend: p.backend,
    }));
  }

  /**
   * Adds a saved ledger to this run's (after a reload, the resumed run starts from the checkpoint
   * these figures were saved with). Students already back keep their row; the others' rows wait,
   * marked away, and join() picks them up by name.
   */
  restore(rec: RosterRecord): void {
    for (const r of rec) {
      if (typeof r?.key !== 'string' || !Number.isFinite(r.examples) || !Number.isFinite(r.ms)) continue;
      let p = this.rows.get(r.key);
      if (!p) {
        p = {
          key: r.key,
          name: cleanName(r.name, r.local ? 'Web Worker' : 'volunteer'),
          local: r.local === true,
          sessions: 0,
          examplesBefore: 0,
          examplesNow: 0,
          msBefore: 0,
          left: r.local ? 'finished' : 'away since the host page reloaded',
        };
        this.rows.set(r.key, p);
      }
      p.examplesBefore += Math.max(0, r.examples);
      p.msBefore += Math.max(0, r.ms);
      p.sessions += Math.max(0, Math.trunc(r.sessions) || 0);
      if (!p.backend && typeof r.backend === 'string') p.backend = r.backend;
    }
  }

  examples(p: Person): number {
    return p.examplesBefore + p.examplesNow;
  }

  ms(p: Person): number {
    return p.msBefore + (p.since !== undefined ? this.now() - p.since : 0);
  }

  /** Volunteers in the room now (connected and accepted). */
  present(): Person[] {
    return this.list().filter((p) => !p.local && p.id && p.accepted);
  }

  list(): Person[] {
    return [...this.rows.values()];
  }
}
