/**
 * What bias correction does to Adam's first step, measured in the playground's own simulation: the
 * same Adam path run one iteration with and without it, from the surface's start with the page's
 * settings. The page prints the sentence this returns, so its words follow the measured numbers.
 */
import { Path, type SimConfig, settingsOf } from './sim.js';

export interface AdamFirstStep {
  /** Length of the first step with bias correction, and without. */
  corrected: number;
  uncorrected: number;
  /** uncorrected / corrected, as measured. */
  ratio: number;
  /** The same ratio from the formulas: (1 − β₁) / √(1 − β₂) (exact when ε ≪ |dW|). */
  predicted: number;
  /** Which way leaving bias correction out changes the first step. */
  direction: 'larger' | 'smaller' | 'the same';
}

function firstStep(config: SimConfig, biasCorrection: boolean): number {
  const c: SimConfig = { ...config, hyper: { ...config.hyper, adam: { ...config.hyper.adam, biasCorrection } } };
  const p = new Path('adam', c, settingsOf(config, 'adam'));
  p.step();
  return Math.hypot(p.xs[1] - p.xs[0], p.ys[1] - p.ys[0]);
}

export function adamFirstStep(config: SimConfig): AdamFirstStep {
  const corrected = firstStep(config, true);
  const uncorrected = firstStep(config, false);
  const ratio = uncorrected / corrected;
  const { beta1, beta2 } = config.hyper.adam;
  const predicted = (1 - beta1) / Math.sqrt(1 - beta2);
  const direction = Math.abs(ratio - 1) < 0.01 ? 'the same' : ratio > 1 ? 'larger' : 'smaller';
  return { corrected, uncorrected, ratio, predicted, direction };
}

const fmt = (x: number) => (x >= 0.01 ? x.toFixed(3) : x.toExponential(2));

/** The page's sentence: the measured step lengths, which way, and why. */
export function describeAdamFirstStep(a: AdamFirstStep, beta1: number, beta2: number): string {
  const measured =
    `Adam’s first step here is ${fmt(a.uncorrected)} without bias correction and ${fmt(a.corrected)} with it: ` +
    (a.direction === 'the same' ? 'about the same.' : `${a.ratio.toFixed(2)}× ${a.direction} without.`);
  const why =
    ` Why: V and S both start at 0, so after one iteration V = (1 − β₁) dW = ${(1 - beta1).toPrecision(2)} dW and ` +
    `√S = √(1 − β₂) |dW| = ${Math.sqrt(1 - beta2).toPrecision(2)} |dW|. Both are too small, and the step is their ` +
    `ratio, (1 − β₁)/√(1 − β₂) = ${a.predicted.toFixed(2)} times the corrected step` +
    (a.predicted > 1
      ? `: √S falls further short than V (1 − β₂ = ${(1 - beta2).toPrecision(2)} is below (1 − β₁)² = ${((1 - beta1) ** 2).toPrecision(2)}), so the uncorrected steps are too large, not too small, until β₂ᵗ fades.`
      : a.predicted < 1
        ? ': V falls further short than √S, so with these β’s the uncorrected steps are too small.'
        : '.');
  return measured + why;
}
