/**
 * Colours the pages share. The series colours are the Okabe-Ito palette (distinguishable with the
 * common colour-vision deficiencies), darkened where needed for 3:1 contrast on a white background.
 */
export const SERIES_COLORS = {
  orange: '#b35900',
  blue: '#0072b2',
  green: '#00795a',
  purple: '#a2457e',
  gray: '#5b6472',
} as const;

/** Reads a CSS custom property from :root (for canvas drawing that follows the stylesheet). */
export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** True when the user asked the system for less motion (animations then start paused). */
export function prefersReducedMotion(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;
}
