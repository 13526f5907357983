/**
 * The student's own part, as a small chart: the examples this laptop has computed, over the minutes
 * it spent in the room (sampled once a second; the samples halve when they reach the cap, so the
 * chart costs the same after an hour). SVG, so it stays sharp on a phone and reads as text.
 */
const CAP = 240;
const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 90;
const PAD = { left: 6, right: 6, top: 8, bottom: 18 };

export class Contribution {
  /** [seconds since the first sample, examples computed so far] */
  readonly points: [number, number][] = [];
  #t0 = Number.NaN;

  add(nowMs: number, examples: number): void {
    if (Number.isNaN(this.#t0)) this.#t0 = nowMs;
    this.points.push([(nowMs - this.#t0) / 1000, examples]);
    // keep every other sample once full: the shape stays, the cost does not grow
    if (this.points.length > CAP) for (let i = 1; i < this.points.length; i++) this.points.splice(i, 1);
  }
}

function node<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** Draws the chart into `svg` (its children are replaced). */
export function drawContribution(svg: SVGSVGElement, c: Contribution): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const pts = c.points;
  const last = pts.at(-1);
  const tMax = Math.max(60, last?.[0] ?? 0);
  const yMax = Math.max(1, last?.[1] ?? 0);
  const x = (t: number) => PAD.left + (t / tMax) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const line = pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const area = pts.length ? `${x(pts[0][0])},${y(0)} ${line} ${x(pts[pts.length - 1][0])},${y(0)}` : '';
  const minutes = tMax / 60;
  svg.replaceChildren(
    node(
      'title',
      {},
      `Examples your laptop computed: ${(last?.[1] ?? 0).toLocaleString('en')} in ${Math.round(last?.[0] ?? 0)} s.`,
    ),
    node('line', { x1: PAD.left, y1: y(0), x2: W - PAD.right, y2: y(0), class: 'axis' }),
    node('polygon', { points: area, class: 'area' }),
    node('polyline', { points: line, class: 'line' }),
    node('text', { x: PAD.left, y: H - 4, class: 'tick' }, '0'),
    node(
      'text',
      { x: W - PAD.right, y: H - 4, class: 'tick', 'text-anchor': 'end' },
      minutes >= 2 ? `${Math.round(minutes)} min` : `${Math.round(tMax)} s`,
    ),
  );
}
