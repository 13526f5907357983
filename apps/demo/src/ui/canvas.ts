/**
 * Keeps a canvas's backing store matched to its CSS size and the device pixel ratio, so drawing stays
 * sharp on phones and after the window resizes. The callback gets the size in CSS pixels; the context
 * is already scaled, so drawing code works in CSS pixels too.
 */
export function fitCanvas(
  canvas: HTMLCanvasElement,
  onResize: (ctx: CanvasRenderingContext2D, width: number, height: number) => void,
): () => void {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('canvas 2d context is not available');
  let lastW = -1;
  let lastH = -1;
  let lastDpr = -1;
  const apply = () => {
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(rect.width));
    const h = Math.max(1, Math.round(rect.height));
    if (w === lastW && h === lastH && dpr === lastDpr) return;
    lastW = w;
    lastH = h;
    lastDpr = dpr;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    onResize(ctx, w, h);
  };
  // ResizeObserver is in every current browser; the window event covers the rest (and DPR changes).
  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(apply) : null;
  ro?.observe(canvas);
  window.addEventListener('resize', apply);
  apply();
  return () => {
    ro?.disconnect();
    window.removeEventListener('resize', apply);
  };
}
