/** The playground page's shared state and the look of each path (colour, dash, legend swatch). */
import { SERIES_COLORS } from '../ui/theme.js';
import type { PathStyle } from './render.js';
import type { Path, PathKind, PathSettings, SimConfig } from './sim.js';

export interface PlaygroundState {
  /** The simulation's settings; `each` is always filled in (the page sets it and keeps it). */
  config: SimConfig;
  visible: Record<PathKind, boolean>;
  paths: Record<PathKind, Path>;
  iteration: number;
}

/** Every path's settings. */
export function eachOf(config: SimConfig): Record<PathKind, PathSettings> {
  return config.each as Record<PathKind, PathSettings>;
}

export const STYLES: Record<PathKind, PathStyle> = {
  sgd: { color: SERIES_COLORS.orange, dash: [] },
  momentum: { color: SERIES_COLORS.blue, dash: [7, 4] },
  rmsprop: { color: SERIES_COLORS.green, dash: [2, 4] },
  adam: { color: SERIES_COLORS.purple, dash: [10, 4, 2, 4] },
};

/** A short line in the path's colour and dash, for legends and table rows. */
export function swatch(kind: PathKind): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'swatch');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '10');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'line');
  line.setAttribute('x1', '1');
  line.setAttribute('y1', '5');
  line.setAttribute('x2', '27');
  line.setAttribute('y2', '5');
  line.setAttribute('stroke', STYLES[kind].color);
  line.setAttribute('stroke-width', '3');
  if (STYLES[kind].dash.length) line.setAttribute('stroke-dasharray', STYLES[kind].dash.join(' '));
  svg.append(line);
  return svg;
}
