/**
 * The run's target accuracy (the job form's field) and how many examples exact mode needs to reach
 * it, from accuracy curves measured on this page's data sets (no DOM, so Node tests run it).
 *
 * The curves: the default job (MLP 784-128-10, Adam α 0.005 with 1/(1 + 0.3·epoch) decay,
 * mini-batches of 64, seed 1), one worker, the test split scored every 20 iterations for 3 epochs
 * (6 Dec 2026; MNIST's equals bench/results.json testbed-tta's host-alone evaluations). Another
 * model, optimizer or mini-batch size needs more or fewer examples: the page says so.
 */
import { type AccuracyCurve, examplesToTarget } from '@gradroom/core';

export type TargetDataset = 'mnist' | 'fashion-mnist-small';

/** The default target of each data set: what the default job reaches in about 2 epochs. */
export const DEFAULT_TARGET: Record<TargetDataset, number> = { mnist: 0.92, 'fashion-mnist-small': 0.85 };

/** [examples trained, test accuracy], measured as the module comment says. */
export const MEASURED_CURVES: Record<TargetDataset, AccuracyCurve> = {
  mnist: [
    [1280, 0.8473],
    [2560, 0.8683],
    [3840, 0.8733],
    [5120, 0.9012],
    [6400, 0.8992],
    [7680, 0.9162],
    [8956, 0.9082],
    [10236, 0.9192],
    [11516, 0.9167],
    [12796, 0.9242],
    [14076, 0.9237],
    [15356, 0.9232],
    [16632, 0.9286],
    [17912, 0.9291],
    [19192, 0.9336],
    [20472, 0.9316],
    [21752, 0.9381],
    [23032, 0.9331],
  ],
  'fashion-mnist-small': [
    [1280, 0.6933],
    [2560, 0.7823],
    [3840, 0.803],
    [5120, 0.7827],
    [6400, 0.803],
    [7680, 0.828],
    [8960, 0.8153],
    [10240, 0.8303],
    [11520, 0.7963],
    [12768, 0.846],
    [14048, 0.837],
    [15328, 0.8323],
    [16608, 0.8353],
    [17888, 0.831],
    [19168, 0.845],
    [20448, 0.8343],
    [21728, 0.841],
    [23008, 0.8557],
    [24256, 0.835],
    [25536, 0.8433],
    [26816, 0.8533],
    [28096, 0.8523],
    [29376, 0.839],
    [30656, 0.844],
    [31936, 0.86],
    [33216, 0.8487],
    [34496, 0.8383],
    [35776, 0.8487],
  ],
};

/** The job behind the curves, in words (the page shows it beside the prediction). */
export const CURVE_JOB = 'the default job: MLP 784 → 128 → 10, Adam α 0.005, mini-batches of 64';

/** Examples exact mode needs for `target` on `dataset`; null where no measured curve reaches it. */
export function examplesFor(dataset: string, target: number): number | null {
  const curve = MEASURED_CURVES[dataset as TargetDataset];
  return curve ? examplesToTarget(curve, target) : null;
}

/** A target (0..1) as the page writes it: "92 %", "92.5 %" (a no-break space: never split). */
export function targetText(target: number): string {
  const pct = Math.round(target * 1000) / 10;
  return `${pct}\u00a0%`;
}

/** The target field's value (percent) as a fraction; an Error naming the field when unusable. */
export function parseTarget(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 50 || v > 99.9)
    throw new Error('Target accuracy must be a percentage from 50 to 99.9, such as 92.');
  return v / 100;
}
