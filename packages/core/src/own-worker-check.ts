/**
 * Whether the run's own workers pay in a room, by measurement (issue 18 §4, "planning that checks
 * itself"). The host's own worker has no link, so the cost model always gives it a shard. But it
 * shares the host's CPU with the coordinator, which sends every member its weights and takes their
 * results: where that CPU is scarce (a laptop held to a fifth of a core on the classroom testbed),
 * the worker's compute delays every send, and each member's shard costs more than the worker adds.
 * Measured there (cnn-portable, 4 volunteers): 97 examples/s with the host's worker, 186 without.
 *
 * OwnWorkerCheck compares the measured time per example of iterations with and without the own
 * workers. It tries "without" only when the cost model says the other members alone would take at
 * most `tryWithin` times the iterations measured with them (their costs were measured while the own
 * worker slowed their sends, so the model is pessimistic here; a room whose volunteers stand by
 * because their links cost two or three times the host's compute never pays for the experiment),
 * for `minSamples` iterations; the faster
 * wins (the other must beat the current choice by `margin`). After a wait, which doubles while the
 * choice holds, the other is measured again, so a host whose CPU frees up takes its worker back.
 */
import { GradroomError } from './errors.js';
import { median } from './median.js';

export interface OwnWorkerCheckOptions {
  /**
   * The other plan must be faster by more than this share to be chosen (default 0.1: on the
   * classroom testbed the plans differed by 20-27 % where the own worker cost the room, and two
   * switches back on 7-10 % were noise).
   */
  margin?: number;
  /** Iterations measured of a plan before it is compared (default 5: a classroom's iterations vary by ±30 %). */
  minSamples?: number;
  /** Samples kept per plan (default 7). */
  window?: number;
  /** Iterations before the other plan is measured again (default 60). */
  firstWait?: number;
  /** The longest wait (default 640). */
  maxWait?: number;
  /** Try without them only where the model prices the others alone within this factor (default 1.5). */
  tryWithin?: number;
}

/** What the check decided, and the medians it compared (ms per example). */
export interface OwnWorkerChoice {
  /** true: plan without the run's own workers. */
  leaveOut: boolean;
  withMsPerExample: number;
  withoutMsPerExample: number;
}

export class OwnWorkerCheck {
  private readonly o: Required<OwnWorkerCheckOptions>;
  private readonly samples = { with: [] as number[], without: [] as number[] };
  private iterations = 0;
  /** The plan in force: true leaves the own workers out. */
  private out = false;
  /** Measuring the other plan now. */
  private trying = false;
  /** The other plan may be tried from this iteration on. */
  private next = 0;
  private wait: number;
  private last?: OwnWorkerChoice;

  constructor(opts: OwnWorkerCheckOptions = {}) {
    this.o = { margin: 0.1, minSamples: 5, window: 7, firstWait: 60, maxWait: 640, tryWithin: 1.5, ...opts };
    for (const [k, v] of Object.entries(this.o))
      if (!(Number.isFinite(v) && v >= 0) || (k !== 'margin' && k !== 'tryWithin' && !(Number.isInteger(v) && v >= 1)))
        throw new GradroomError(
          'BAD_CONFIG',
          `OwnWorkerCheck: ${k} must be a positive integer (margin >= 0), got ${v}`,
        );
    if (this.o.window < this.o.minSamples)
      throw new GradroomError(
        'BAD_CONFIG',
        `OwnWorkerCheck: window (${this.o.window}) must be >= minSamples (${this.o.minSamples})`,
      );
    this.wait = this.o.firstWait;
  }

  /** The other plan is being measured now (its iterations should be the plan itself, not cut down). */
  get measuring(): boolean {
    return this.trying;
  }

  /** The last comparison, if any. */
  get choice(): OwnWorkerChoice | undefined {
    return this.last;
  }

  /**
   * Whether this iteration's plan leaves the own workers out. `othersMsPerExample`: the cost model's
   * time per example for the other members alone (undefined: there are none to plan for, so the own
   * workers stay in).
   */
  leaveOut(othersMsPerExample: number | undefined): boolean {
    if (othersMsPerExample === undefined) return false;
    if (this.trying) return !this.out;
    if (this.iterations < this.next) return this.out;
    const current = this.samples[this.out ? 'without' : 'with'];
    if (current.length < this.o.minSamples) return this.out;
    // leaving them out is tried only where the model says it would not be much slower than measured
    if (!this.out && !(othersMsPerExample <= this.o.tryWithin * median(current))) return false;
    this.trying = true;
    this.samples[this.out ? 'with' : 'without'] = []; // the other plan, measured afresh
    return !this.out;
  }

  /** One iteration measured: `ms` for `examples`, with the own workers computing (`own`) or not. */
  observe(own: boolean, ms: number, examples: number): void {
    this.iterations++;
    if (!(examples > 0 && ms > 0 && Number.isFinite(ms))) return;
    const xs = this.samples[own ? 'with' : 'without'];
    xs.push(ms / examples);
    if (xs.length > this.o.window) xs.shift();
    const other = own === this.out; // this iteration ran the plan being tried
    if (!this.trying || !other || xs.length < this.o.minSamples) return;
    this.trying = false;
    const w = median(this.samples.with);
    const wo = median(this.samples.without);
    const switched = this.out ? w < wo * (1 - this.o.margin) : wo < w * (1 - this.o.margin);
    if (switched) {
      this.out = !this.out;
      this.wait = this.o.firstWait;
    }
    this.next = this.iterations + this.wait;
    if (!switched) this.wait = Math.min(this.o.maxWait, this.wait * 2);
    this.last = { leaveOut: this.out, withMsPerExample: w, withoutMsPerExample: wo };
  }
}
