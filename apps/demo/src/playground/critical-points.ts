/**
 * The picture for "local optima in high dimensions": at a point where the gradient vanishes, each of n
 * directions curves up or down. If each were a coin flip, a minimum needs all n up: 1 in 2ⁿ. Beside
 * it, a loss curve with a plateau, where steps of equal α crawl. Built as SVG, no canvas, so it scales
 * on a projector and reads as text for screen readers.
 */
const NS = 'http://www.w3.org/2000/svg';

function node<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** Share of critical points that are minima when each of n directions curves up with probability 1/2. */
export function minimumShare(n: number): number {
  return 0.5 ** n;
}

const WIDTH = 700;
const HEIGHT = 250;

export function criticalPointsFigure(): SVGSVGElement {
  // every label sits inside this box (the browser test checks their boxes): nothing is cut off
  const svg = node('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'critical-points' });
  svg.append(
    node(
      'title',
      {},
      'Left: the share of critical points that are minima falls as 1 in 2 to the n: 50% for 1 direction, ' +
        '0.1% for 10, one in a million for 20. Right: a loss curve with a long flat plateau, where steps crowd together.',
    ),
  );
  // Left: bars on a log scale.
  const dims = [1, 2, 5, 10, 20];
  const x0 = 50;
  const gap = 64; // wide enough for "1 in 1,024" over a bar
  const base = 196;
  const scale = 140 / 6; // six decades
  svg.append(node('text', { x: 20, y: 20, class: 'fig-title' }, 'Share of critical points that are minima'));
  dims.forEach((n, i) => {
    const share = minimumShare(n);
    const hgt = Math.max(2, (6 + Math.log10(share)) * scale);
    const x = x0 + i * gap;
    const cx = x + 17;
    svg.append(node('rect', { x, y: base - hgt, width: 34, height: hgt, class: 'fig-bar' }));
    if (share >= 0.01) {
      const label = `${(share * 100).toFixed(share >= 0.1 ? 0 : 1)}%`;
      svg.append(node('text', { x: cx, y: base - hgt - 6, 'text-anchor': 'middle', class: 'fig-small' }, label));
    } else {
      // "1 in" over the number (one text, two lines), so a long number stays over its own bar
      const label = node('text', { x: cx, y: base - hgt - 22, 'text-anchor': 'middle', class: 'fig-small' });
      label.append(
        node('tspan', { x: cx }, '1 in '),
        node('tspan', { x: cx, dy: 15 }, Math.round(1 / share).toLocaleString('en')),
      );
      svg.append(label);
    }
    svg.append(node('text', { x: cx, y: base + 16, 'text-anchor': 'middle', class: 'fig-small' }, `n = ${n}`));
  });
  svg.append(node('text', { x: x0, y: base + 36, class: 'fig-small' }, 'directions (weights); log scale'));
  svg.append(node('line', { x1: x0 - 6, y1: base, x2: x0 + 4 * gap + 40, y2: base, class: 'fig-axis' }));

  // Right: a plateau, with iterations of equal α as dots (dense where the slope is small).
  const px0 = 410;
  const pw = 270;
  svg.append(node('text', { x: px0, y: 20, class: 'fig-title' }, 'A plateau slows learning'));
  const loss = (u: number) => 0.15 + 0.8 / (1 + Math.exp(-12 * (0.72 - u))) + 0.4 * Math.max(0, 0.2 - u);
  let d = '';
  for (let i = 0; i <= 100; i++) {
    const u = i / 100;
    d += `${i === 0 ? 'M' : 'L'}${(px0 + u * pw).toFixed(1)},${(200 - loss(u) * 150).toFixed(1)}`;
  }
  svg.append(node('path', { d, class: 'fig-curve' }));
  // Gradient descent on the curve: step length proportional to the slope.
  let u = 0.02;
  for (let k = 0; k < 28 && u < 0.98; k++) {
    svg.append(node('circle', { cx: px0 + u * pw, cy: 200 - loss(u) * 150, r: 3.2, class: 'fig-dot' }));
    const slope = (loss(u) - loss(u + 0.001)) / 0.001;
    u += Math.min(0.12, 0.012 + 0.05 * slope);
  }
  svg.append(node('text', { x: px0 + 40, y: 48, class: 'fig-small' }, 'flat: tiny gradient, steps crowd'));
  svg.append(node('text', { x: px0 + pw, y: 226, 'text-anchor': 'end', class: 'fig-small' }, 'steep: off the plateau'));
  svg.append(node('text', { x: px0, y: 226, class: 'fig-small' }, 'weight →'));
  return svg;
}
