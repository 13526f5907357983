/**
 * Text that must stay on one line (a link typed off the wall, the projector's headline sentence):
 * its CSS size, scaled down to fit its box, never under `minPx`.
 */
export function fitOneLine(node: HTMLElement, minPx = 10): void {
  node.style.removeProperty('font-size');
  const box = node.clientWidth;
  if (box === 0 || node.scrollWidth <= box) return; // hidden, or it fits at its CSS size
  const css = Number.parseFloat(getComputedStyle(node).fontSize);
  // text width is proportional to its size; 2 % spare for rounding of glyph advances
  let px = Math.max(minPx, Math.floor(css * (box / node.scrollWidth) * 0.98 * 10) / 10);
  node.style.fontSize = `${px}px`;
  // a few steps more where rounding left it a pixel wide (bounded)
  for (let i = 0; i < 8 && node.scrollWidth > node.clientWidth && px > minPx; i++) {
    px = Math.max(minPx, px - 0.5);
    node.style.fontSize = `${px}px`;
  }
}
