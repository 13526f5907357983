/**
 * Draw to train, on the worker: a student's own examples (drawings made in this tab, which never
 * leave it) mixed into mode local's inner steps, and the federated evaluation of weights on the
 * student's held-out drawings, answered per digit as counts.
 */
import { GradroomError, MAX_CLASS_DIGITS } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import type { Examples } from './data/dataset.js';

/** A student's drawings: training ones (x, y) and held-out ones (heldX, heldY), 28x28 grey in [0, 1]. */
export interface OwnExamples {
  x: Float32Array;
  y: Int32Array;
  heldX: Float32Array;
  heldY: Int32Array;
}

/** Per digit: held-out drawings the weights classify right, and held-out drawings in all. */
export interface DigitCounts {
  correct: number[];
  count: number[];
}

/**
 * The share of each inner step's gradient that comes from the student's own examples: the step
 * follows 3/4 the shared mini-batch's mean gradient and 1/4 the mean gradient over the drawings.
 */
export const OWN_SHARE = 0.25;

/** Checks a set of drawings against the data set's example size; throws BAD_DATA naming the fault. */
export function checkOwnExamples(own: OwnExamples, features: number): void {
  const part = (x: Float32Array, y: Int32Array, what: string) => {
    if (!(x instanceof Float32Array) || !(y instanceof Int32Array))
      throw new GradroomError('BAD_DATA', `${what}: pixels must be a Float32Array and labels an Int32Array`);
    if (x.length !== y.length * features)
      throw new GradroomError(
        'BAD_DATA',
        `${what}: ${y.length} labels need ${y.length * features} pixels, got ${x.length}`,
      );
    for (const d of y)
      if (!Number.isInteger(d) || d < 0 || d >= MAX_CLASS_DIGITS)
        throw new GradroomError('BAD_DATA', `${what}: label ${d} is not a digit 0-${MAX_CLASS_DIGITS - 1}`);
    for (const v of x)
      if (!(v >= 0 && v <= 1)) throw new GradroomError('BAD_DATA', `${what}: a pixel is ${v}, outside [0, 1]`);
  };
  part(own.x, own.y, 'drawings');
  part(own.heldX, own.heldY, 'held-out drawings');
}

/** Counts, per digit, the held-out drawings `model` (with the weights it holds) classifies right. */
export async function digitCounts(
  model: tf.LayersModel,
  inputShape: readonly number[],
  ex: Examples,
): Promise<DigitCounts> {
  const correct = new Array<number>(MAX_CLASS_DIGITS).fill(0);
  const count = new Array<number>(MAX_CLASS_DIGITS).fill(0);
  const n = ex.y.length;
  if (n === 0) return { correct, count };
  const said = tf.tidy(() => (model.predict(tf.tensor(ex.x, [n, ...inputShape])) as tf.Tensor).argMax(-1));
  try {
    const p = await said.data();
    for (let i = 0; i < n; i++) {
      const d = ex.y[i];
      count[d]++;
      if (p[i] === d) correct[d]++;
    }
  } finally {
    said.dispose();
  }
  return { correct, count };
}
