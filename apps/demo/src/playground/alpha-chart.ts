/**
 * The learning-rate chart under the playground's plot: α / α₀ of each path over the iterations, so a
 * decay schedule's shape (smooth, per epoch, staircase) is visible next to what it does to the path.
 */
export interface AlphaSeries {
  color: string;
  dash: number[];
  /** α of each iteration divided by α₀ (1 while nothing decays). */
  ratios: readonly number[];
  visible: boolean;
}

/** Draws the chart in CSS pixels; `total` is the iteration count the x axis spans. */
export function drawAlphaChart(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  series: readonly AlphaSeries[],
  total: number,
): void {
  ctx.clearRect(0, 0, width, height);
  const left = 44;
  const right = 10;
  const top = 10;
  const bottom = 26;
  const w = Math.max(1, width - left - right);
  const h = Math.max(1, height - top - bottom);
  const n = Math.max(1, total);
  const x = (i: number) => left + (i / n) * w;
  const y = (r: number) => top + (1 - Math.min(1.05, Math.max(0, r)) / 1.05) * h;

  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = '#4a5565';
  ctx.strokeStyle = '#cfd6df';
  ctx.lineWidth = 1;
  for (const r of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath();
    ctx.moveTo(left, y(r));
    ctx.lineTo(left + w, y(r));
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(r === 1 ? 'α₀' : r === 0 ? '0' : `${r}α₀`, left - 6, y(r));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const tick = n <= 100 ? 20 : n <= 500 ? 100 : 200;
  // the last tick makes room for the axis name
  for (let i = 0; i <= n - tick / 2; i += tick) ctx.fillText(String(i), x(i), top + h + 6);
  ctx.textAlign = 'right';
  ctx.fillText('iteration →', left + w, top + h + 6);

  for (const s of series) {
    if (!s.visible || s.ratios.length === 0) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dash);
    ctx.beginPath();
    s.ratios.forEach((r, i) => {
      if (i === 0) ctx.moveTo(x(i), y(r));
      else ctx.lineTo(x(i), y(r));
    });
    ctx.lineTo(x(s.ratios.length), y(s.ratios[s.ratios.length - 1]));
    ctx.stroke();
  }
  ctx.setLineDash([]);
}
