/**
 * Draw to train, on the coordinator's side: the class data set as the students' tabs describe it
 * (counts per digit, the thumbnails students chose to share), the own examples their local rounds
 * mixed in, and federated evaluations of the weights on their held-out drawings, summed per digit.
 * No drawing reaches this side unless its student shared it; the held-out accuracy is the students'
 * word (each tab evaluates its own drawings), checked only against the counts each tab reported.
 */
import { cleanText, MAX_CLASS_DIGITS, THUMBNAIL_PIXELS } from '@gradroom/core';
import type { DigitCounts } from '@gradroom/worker';
import type { ClassDataEvent, PeerWorkerHandle } from '../transports/peer.js';

export interface ClassThumbnail {
  digit: number;
  /** 28x28 grey levels, 0 paper to 255 ink. */
  pixels: Uint8Array;
  /** The student's name, only when they chose to show it. */
  name?: string;
}

export interface ClassDataReport {
  /** Training drawings per digit, over the students in the room now. */
  counts: number[];
  /** Held-out drawings per digit. */
  heldOut: number[];
  /** Students in the room with at least one drawing. */
  students: number;
  /** Own examples the students' local rounds mixed in so far (counted once per round). */
  ownExamples: number;
  thumbnails: ClassThumbnail[];
  /** When each student (by peer id) last kept a new drawing, Date.now() ms: who is drawing now. */
  drewAt: Record<string, number>;
}

export interface ClassAccuracy extends DigitCounts {
  /** Students whose tabs answered. */
  members: number;
  /** Right over all held-out drawings (NaN when none). */
  accuracy: number;
  /** Whether any local round had mixed drawings in when these weights were evaluated. */
  trained: boolean;
}

interface Member {
  handle: PeerWorkerHandle;
  name: string;
  drawings?: Extract<ClassDataEvent, { kind: 'drawings' }>['drawings'];
  /** When its drawings last grew (Date.now()). */
  drewAt?: number;
  /** Its last class-eval is unanswered: it is not asked again until it answers (one open request each). */
  asking?: Promise<unknown>;
  off: () => void;
}

const total = (d: { counts: number[]; heldOut: number[] } | undefined) =>
  d ? d.counts.reduce((a, b) => a + b, 0) + d.heldOut.reduce((a, b) => a + b, 0) : 0;

const zeros = () => new Array<number>(MAX_CLASS_DIGITS).fill(0);

export class ClassData {
  private readonly members = new Map<string, Member>();
  private ownExamples = 0;
  /** The last evaluation before any drawing trained, and the last one. */
  before?: ClassAccuracy;
  now?: ClassAccuracy;

  /**
   * `onChange` is called (and must not throw) when the class data set or its accuracy changes.
   * `maxDrawings`: the most drawings (training and held out) one student's tab can hold; a student
   * that claims more is lying and is disconnected, so that no one tab outweighs the class in the
   * counts and the federated figure (the protocol alone allows 1,000 per digit).
   */
  constructor(
    private readonly onChange: () => void = () => {},
    private readonly log: (line: string) => void = () => {},
    private readonly opts: { maxDrawings?: number } = {},
  ) {}

  /** A run resumed from a checkpoint: drawings may have trained before it, so it has no 'before'. */
  private resumed = false;

  /**
   * A new run: its drawings have trained nothing yet, and its 'before' is still to be measured; a
   * resumed run (`resumed`) counts as trained from the start.
   */
  newRun(resumed = false): void {
    this.resumed = resumed;
    this.ownExamples = 0;
    this.before = undefined;
    this.now = undefined;
    this.onChange();
  }

  /** Follows a peer's drawings and rounds until it leaves the room. */
  track(handle: PeerWorkerHandle, name: string): void {
    this.members.get(handle.id)?.off();
    const m: Member = { handle, name: cleanText(name, 40), off: () => {} };
    m.off = handle.onClassData((e) => {
      if (e.kind === 'drawings') {
        const max = this.opts.maxDrawings;
        if (max !== undefined && total(e.drawings) > max) {
          const reason = `claimed ${total(e.drawings)} drawings; a student's tab holds at most ${max}`;
          this.log(`draw to train: ${m.name} disconnected: ${reason}`);
          m.drawings = undefined;
          handle.refuse?.(reason, 'BAD_MESSAGE');
          this.onChange();
          return;
        }
        if (total(e.drawings) > total(m.drawings)) m.drewAt = Date.now();
        m.drawings = e.drawings;
      } else if (this.opts.maxDrawings !== undefined && e.ownExamples > this.opts.maxDrawings) {
        // a round mixes in the tab's own training drawings: never more than it can hold
        const reason = `claimed ${e.ownExamples} own examples in a round; a student's tab holds at most ${this.opts.maxDrawings} drawings`;
        this.log(`draw to train: ${m.name} disconnected: ${reason}`);
        handle.refuse?.(reason, 'BAD_MESSAGE');
        return;
      } else this.ownExamples += e.ownExamples;
      this.onChange();
    });
    this.members.set(handle.id, m);
    handle.closed.then(() => {
      if (this.members.get(handle.id) !== m) return;
      m.off();
      this.members.delete(handle.id);
      this.onChange();
    });
  }

  report(): ClassDataReport {
    const counts = zeros();
    const heldOut = zeros();
    const thumbnails: ClassThumbnail[] = [];
    let students = 0;
    const drewAt: Record<string, number> = {};
    for (const m of this.members.values()) {
      const d = m.drawings;
      if (!d) continue;
      if (m.drewAt !== undefined) drewAt[m.handle.id] = m.drewAt;
      if (total(d) > 0) students++;
      for (let i = 0; i < MAX_CLASS_DIGITS; i++) {
        counts[i] += d.counts[i];
        heldOut[i] += d.heldOut[i];
      }
      d.sharedDigits?.forEach((digit, k) =>
        thumbnails.push({
          digit,
          pixels: (d.shared as Uint8Array).slice(k * THUMBNAIL_PIXELS, (k + 1) * THUMBNAIL_PIXELS),
          name: d.named ? m.name : undefined,
        }),
      );
    }
    return { counts, heldOut, students, ownExamples: this.ownExamples, thumbnails, drewAt };
  }

  /**
   * Asks every student with held-out drawings to evaluate `weights` on them and sums the answers per
   * digit; a tab that fails, answers late or answers for other counts than it reported is left out
   * (logged). Null when no student has held-out drawings, or `weights` is empty.
   */
  async evaluate(weights: Float32Array, timeoutMs = 15_000): Promise<ClassAccuracy | null> {
    if (weights.length === 0) return null; // a run not started yet has no weights
    const trained = this.resumed || this.ownExamples > 0;
    const asked = [...this.members.values()].filter((m) => m.drawings?.heldOut.some((n) => n > 0));
    if (asked.length === 0) return null;
    const answers = await Promise.all(
      asked.map(async (m) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          const late = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          });
          // one open request per tab: a slow tab's last answer is waited for (within this deadline)
          // before it is asked again, so requests never pile up on a tab that does not answer
          if (m.asking) await Promise.race([m.asking, late]);
          const asked = m.handle.classEval(weights);
          const open = asked.then(
            () => {
              if (m.asking === open) m.asking = undefined;
            },
            () => {
              if (m.asking === open) m.asking = undefined;
            },
          );
          m.asking = open;
          const r = await Promise.race([asked, late]);
          const expected = m.drawings?.heldOut ?? zeros();
          if (r.count.some((n, i) => n !== expected[i]))
            throw new Error(`answered for ${r.count.join(',')} drawings, having reported ${expected.join(',')}`);
          return r;
        } catch (e) {
          this.log(`class evaluation: ${m.name} left out: ${cleanText((e as Error)?.message ?? String(e), 200)}`);
          return null;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const correct = zeros();
    const count = zeros();
    let members = 0;
    for (const r of answers) {
      if (!r) continue;
      members++;
      for (let i = 0; i < MAX_CLASS_DIGITS; i++) {
        correct[i] += r.correct[i];
        count[i] += r.count[i];
      }
    }
    if (members === 0) return null;
    const total = count.reduce((a, b) => a + b, 0);
    const result: ClassAccuracy = {
      correct,
      count,
      members,
      accuracy: total > 0 ? correct.reduce((a, b) => a + b, 0) / total : Number.NaN,
      trained,
    };
    if (!trained) this.before = result;
    this.now = result;
    this.onChange();
    return result;
  }
}
