/**
 * Canvas drawing for the playground: a log-loss heat map with contour lines (drawn once per surface and
 * size into an off-screen canvas), then the optimizers' paths as polylines with a dot at each end.
 */
import { isolines, type LossGrid, lossGrid } from './contours.js';
import type { PathKind } from './sim.js';
import type { Surface } from './surfaces.js';

export interface PathStyle {
  color: string;
  dash: number[];
}

export interface DrawnPath {
  kind: PathKind;
  xs: readonly number[];
  ys: readonly number[];
  style: PathStyle;
  visible: boolean;
  /** Drawn thin and translucent: the same path without decay, for comparison. */
  faint?: boolean;
}

const GRID_X = 181;
const GRID_Y = 121;
const LEVELS = 16;
// Heat map: light for low loss, a muted slate for high loss; paths in saturated colours stay readable.
const RAMP: readonly [number, number, number][] = [
  [0xfd, 0xfb, 0xf3],
  [0xe3, 0xea, 0xf1],
  [0xb9, 0xc6, 0xd6],
];

function ramp(u: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, u)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i];
  const b = RAMP[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export class SurfaceView {
  #surface: Surface | null = null;
  #grid: LossGrid | null = null;
  #background: HTMLCanvasElement = document.createElement('canvas');
  #bgKey = '';
  width = 1;
  height = 1;
  dpr = 1;

  setSurface(surface: Surface): void {
    if (this.#surface === surface) return;
    this.#surface = surface;
    this.#grid = lossGrid(surface.f, surface.domain, GRID_X, GRID_Y, LEVELS);
    this.#bgKey = '';
  }

  /** Data coordinates to CSS pixels. */
  toPx(x: number, y: number): [number, number] {
    const d = this.#surface?.domain ?? { xmin: 0, xmax: 1, ymin: 0, ymax: 1 };
    return [((x - d.xmin) / (d.xmax - d.xmin)) * this.width, ((d.ymax - y) / (d.ymax - d.ymin)) * this.height];
  }

  #renderBackground(): void {
    const surface = this.#surface;
    const grid = this.#grid;
    if (!surface || !grid) return;
    const key = `${surface.id}:${this.width}x${this.height}@${this.dpr}`;
    if (key === this.#bgKey) return;
    this.#bgKey = key;
    const bg = this.#background;
    bg.width = Math.round(this.width * this.dpr);
    bg.height = Math.round(this.height * this.dpr);
    const ctx = bg.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);

    // Heat map at grid resolution, scaled up smoothly.
    const heat = document.createElement('canvas');
    heat.width = grid.nx;
    heat.height = grid.ny;
    const hctx = heat.getContext('2d');
    if (hctx) {
      const img = hctx.createImageData(grid.nx, grid.ny);
      for (let i = 0; i < grid.logLoss.length; i++) {
        const [r, g, b] = ramp((grid.logLoss[i] - grid.min) / (grid.max - grid.min));
        img.data[i * 4] = r;
        img.data[i * 4 + 1] = g;
        img.data[i * 4 + 2] = b;
        img.data[i * 4 + 3] = 255;
      }
      hctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(heat, 0, 0, this.width, this.height);
    }

    // Contour lines, darker for lower loss.
    const sx = this.width / (grid.nx - 1);
    const sy = this.height / (grid.ny - 1);
    grid.levels.forEach((level, i) => {
      const segs = isolines(grid.logLoss, grid.nx, grid.ny, level);
      const u = i / Math.max(1, grid.levels.length - 1);
      ctx.strokeStyle = `rgba(47, 62, 82, ${0.55 - 0.3 * u})`;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let k = 0; k < segs.length; k += 4) {
        ctx.moveTo(segs[k] * sx, segs[k + 1] * sy);
        ctx.lineTo(segs[k + 2] * sx, segs[k + 3] * sy);
      }
      ctx.stroke();
    });

    // Minima as stars, saddle points as crosses.
    for (const [mx, my] of surface.minima) {
      const [px, py] = this.toPx(mx, my);
      star(ctx, px, py, 7, '#1d2733');
    }
    for (const [sx, sy] of surface.saddles) {
      const [px, py] = this.toPx(sx, sy);
      cross(ctx, px, py, 7);
      ctx.fillStyle = '#1d2733';
      ctx.font = '600 12px system-ui, sans-serif';
      ctx.fillText('saddle', px + 10, py - 8);
    }
  }

  draw(ctx: CanvasRenderingContext2D, paths: readonly DrawnPath[], start: readonly [number, number]): void {
    this.#renderBackground();
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.drawImage(this.#background, 0, 0);
    ctx.restore();

    // Clip paths to the plot so a diverging path doesn't smear across the page.
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, this.width, this.height);
    ctx.clip();
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    for (const p of paths) {
      if (!p.visible || p.xs.length === 0) continue;
      ctx.strokeStyle = p.style.color;
      ctx.globalAlpha = p.faint ? 0.4 : 1;
      ctx.lineWidth = p.faint ? 1.25 : 2.25;
      ctx.setLineDash(p.faint ? [] : p.style.dash);
      ctx.beginPath();
      for (let i = 0; i < p.xs.length; i++) {
        const [px, py] = this.toPx(p.xs[i], p.ys[i]);
        // Keep huge coordinates from diverged paths within what canvas handles well.
        const cx = Math.max(-1e4, Math.min(1e4, px));
        const cy = Math.max(-1e4, Math.min(1e4, py));
        if (i === 0) ctx.moveTo(cx, cy);
        else ctx.lineTo(cx, cy);
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    // End points last, so no later path hides an earlier one's dot.
    ctx.setLineDash([]);
    for (const p of paths) {
      if (!p.visible || p.faint || p.xs.length === 0) continue;
      const [ex, ey] = this.toPx(p.xs[p.xs.length - 1], p.ys[p.ys.length - 1]);
      ctx.fillStyle = p.style.color;
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(ex, ey, 4.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    // The shared start point: a ring.
    const [sx, sy] = this.toPx(start[0], start[1]);
    ctx.strokeStyle = '#1d2733';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(sx, sy, 6, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
  }
}

function star(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, color: string): void {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const rr = i % 2 === 0 ? r : r * 0.45;
    const px = x + rr * Math.cos(a);
    const py = y + rr * Math.sin(a);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.closePath();
  ctx.fillStyle = color;
  ctx.fill();
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 1;
  ctx.stroke();
}

function cross(ctx: CanvasRenderingContext2D, x: number, y: number, r: number): void {
  ctx.lineCap = 'round';
  for (const [w, color] of [
    [5, '#ffffff'],
    [2.5, '#1d2733'],
  ] as const) {
    ctx.strokeStyle = color;
    ctx.lineWidth = w;
    ctx.beginPath();
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    ctx.stroke();
  }
}
