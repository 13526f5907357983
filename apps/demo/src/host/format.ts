/** Number formats of the host page's charts (no DOM, so unit tests run them in Node). */

/**
 * Tick labels with as many digits as the tick spacing needs, so neighbours never read the same
 * (0.0030, 0.0025, 0.0020 rather than 0.003, 0.003, 0.002).
 */
export function tickLabels(ticks: number[]): string[] {
  if (ticks.length === 0) return [];
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < ticks.length; i++) step = Math.min(step, Math.abs(ticks[i] - ticks[i - 1]));
  const big = Math.max(...ticks.map(Math.abs));
  if (big !== 0 && (big < 1e-3 || big >= 1e6)) {
    // scientific: enough significant digits to tell neighbours apart
    const digits = Number.isFinite(step) && step > 0 ? Math.max(1, Math.ceil(Math.log10(big / step)) + 1) : 2;
    return ticks.map((t) => (t === 0 ? '0' : t.toExponential(Math.min(6, digits - 1))));
  }
  const decimals =
    Number.isFinite(step) && step > 0 ? Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  return ticks.map((t) => t.toFixed(decimals));
}
