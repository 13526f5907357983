/**
 * Exponentially weighted averages (the lecture): v_t = beta*v_{t-1} + (1-beta)*x_t with v_0 = 0, which
 * averages over roughly 1/(1-beta) values. v_t is a weighted sum whose weights add up to 1 - beta^t, so
 * early values lean toward 0; dividing by 1 - beta^t (bias correction) makes them a true average.
 */
import { GradroomError } from './errors.js';

export interface EwaOptions {
  /** What update() returns: the corrected value (default true) or the raw v_t. */
  biasCorrection?: boolean;
}

/** Serializable state of an Ewa. */
export interface EwaState {
  beta: number;
  t: number;
  value: number;
}

function checkBeta(beta: unknown): number {
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0 || beta >= 1) {
    throw new GradroomError('BAD_CONFIG', `ewa: beta must be a number in [0, 1) (got ${String(beta)})`);
  }
  return beta;
}

export class Ewa {
  readonly beta: number;
  readonly biasCorrection: boolean;
  #v = 0;
  #t = 0;

  constructor(beta: number, opts: EwaOptions = {}) {
    this.beta = checkBeta(beta);
    this.biasCorrection = opts.biasCorrection ?? true;
  }

  /** Folds in one observation; returns the current value (corrected or raw, as configured). */
  update(x: number): number {
    this.#v = this.beta * this.#v + (1 - this.beta) * x;
    this.#t++;
    return this.biasCorrection ? this.corrected : this.#v;
  }

  /** Raw v_t. */
  get value(): number {
    return this.#v;
  }

  /** v_t / (1 - beta^t); 0 before the first update (there is nothing to average yet). */
  get corrected(): number {
    return this.#t === 0 ? 0 : this.#v / (1 - this.beta ** this.#t);
  }

  /** Observations folded in so far. */
  get t(): number {
    return this.#t;
  }

  /** About how many recent values the average spans: 1/(1-beta). */
  get window(): number {
    return 1 / (1 - this.beta);
  }

  state(): EwaState {
    return { beta: this.beta, t: this.#t, value: this.#v };
  }

  /** Restores a state from an Ewa with the same beta ('BAD_STATE' otherwise). */
  load(state: EwaState): void {
    const bad = (why: string) => new GradroomError('BAD_STATE', `ewa: cannot load state: ${why}`);
    if (state === null || typeof state !== 'object') throw bad('not an object');
    if (state.beta !== this.beta) throw bad(`beta is ${state.beta}, this average uses ${this.beta}`);
    if (!Number.isSafeInteger(state.t) || state.t < 0) throw bad(`t must be an integer >= 0 (got ${state.t})`);
    if (typeof state.value !== 'number' || !Number.isFinite(state.value)) throw bad('value must be a finite number');
    if (state.t === 0 && state.value !== 0) throw bad('value must be 0 when t is 0');
    this.#t = state.t;
    this.#v = state.value;
  }
}

/** The EWA of a whole series: element t is v_{t+1} (corrected when biasCorrection is true). */
export function ewaSeries(xs: readonly number[], beta: number, biasCorrection: boolean): number[] {
  const e = new Ewa(beta, { biasCorrection });
  return xs.map((x) => e.update(x));
}
