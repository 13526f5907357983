/** Number formats of the host page's charts (no DOM, so unit tests run them in Node). */

/**
 * Tick labels with as many digits as the tick spacing needs, so neighbours never read the same
 * (0.0030, 0.0025, 0.0020 rather than 0.003, 0.003, 0.002).
 */
export function tickLabels(all: (number | null)[]): string[] {
  // a log axis leaves some ticks out as null: they get no label
  const ticks = all.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  const label = (f: (t: number) => string) => all.map((t) => (typeof t === 'number' && Number.isFinite(t) ? f(t) : ''));
  if (ticks.length === 0) return all.map(() => '');
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < ticks.length; i++) step = Math.min(step, Math.abs(ticks[i] - ticks[i - 1]));
  const big = Math.max(...ticks.map(Math.abs));
  if (big !== 0 && (big < 1e-3 || big >= 1e6)) {
    // scientific: enough significant digits to tell neighbours apart
    const digits = Number.isFinite(step) && step > 0 ? Math.max(1, Math.ceil(Math.log10(big / step)) + 1) : 2;
    return label((t) => (t === 0 ? '0' : t.toExponential(Math.min(6, digits - 1))));
  }
  // as many decimals as the finest tick needs (0.25 needs 2; 0.2 needs 1), never fewer than the step's
  let decimals = Number.isFinite(step) && step > 0 ? Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) : 2;
  while (decimals < 8 && ticks.some((t) => Math.abs(Number(t.toFixed(decimals)) - t) > Math.abs(t) * 1e-9 + 1e-12))
    decimals++;
  return label((t) => t.toFixed(decimals));
}

/** Compute time a speed must stand on before it is shown: a probe or a tiny shard is mostly latency. */
export const TIMED_MS = 1000;

/**
 * A worker's examples/s for a person to read, or 'measuring' while the work behind it is too small to
 * time: `examples` (computed in this session) at `speed` must add up to TIMED_MS of compute. A probe
 * of a few examples that took 0.2 ms reads as 70,000 examples/s; this never shows it.
 */
export function timedSpeed(speed: number, examples: number, minMs = TIMED_MS): number | 'measuring' {
  if (!(speed > 0) || !(examples > 0)) return 'measuring';
  return (examples / speed) * 1000 >= minMs ? speed : 'measuring';
}

/** timedSpeed as the table and the student page write it. */
export function speedText(speed: number, examples: number): string {
  const s = timedSpeed(speed, examples);
  return s === 'measuring' ? 'measuring' : Math.round(s).toLocaleString('en');
}

/** "1 student", "2 students", "1,024 examples": a count with its word in the number it needs. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
