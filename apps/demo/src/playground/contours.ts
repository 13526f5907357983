/**
 * Contour lines by marching squares: for a grid of values and a level, the segments where the
 * bilinear interpolation of the grid crosses the level. Coordinates are in grid units (column, row).
 * Pure: no DOM.
 */

/**
 * Segments of one level as a flat array [x0, y0, x1, y1, ...]. `values[row * nx + col]`.
 * The two ambiguous cells (opposite corners above) are resolved by the cell's centre value.
 */
export function isolines(values: ArrayLike<number>, nx: number, ny: number, level: number): number[] {
  const out: number[] = [];
  // Where the level crosses the edge between corner values a (at 0) and b (at 1).
  const t = (a: number, b: number) => (a === b ? 0.5 : (level - a) / (b - a));
  for (let r = 0; r + 1 < ny; r++) {
    for (let c = 0; c + 1 < nx; c++) {
      const v00 = values[r * nx + c]; // top-left
      const v10 = values[r * nx + c + 1]; // top-right
      const v11 = values[(r + 1) * nx + c + 1]; // bottom-right
      const v01 = values[(r + 1) * nx + c]; // bottom-left
      const code = (v00 > level ? 8 : 0) | (v10 > level ? 4 : 0) | (v11 > level ? 2 : 0) | (v01 > level ? 1 : 0);
      if (code === 0 || code === 15) continue;
      // Edge crossing points: top, right, bottom, left.
      const top = () => [c + t(v00, v10), r];
      const right = () => [c + 1, r + t(v10, v11)];
      const bottom = () => [c + t(v01, v11), r + 1];
      const left = () => [c, r + t(v00, v01)];
      const seg = (p: number[], q: number[]) => out.push(p[0], p[1], q[0], q[1]);
      switch (code) {
        case 1:
        case 14:
          seg(left(), bottom());
          break;
        case 2:
        case 13:
          seg(bottom(), right());
          break;
        case 3:
        case 12:
          seg(left(), right());
          break;
        case 4:
        case 11:
          seg(top(), right());
          break;
        case 6:
        case 9:
          seg(top(), bottom());
          break;
        case 7:
        case 8:
          seg(left(), top());
          break;
        case 5:
        case 10: {
          const centreAbove = (v00 + v10 + v11 + v01) / 4 > level;
          // code 5: top-right and bottom-left above; code 10: top-left and bottom-right above.
          const joinTopLeft = (code === 5) === centreAbove;
          if (joinTopLeft) {
            seg(left(), top());
            seg(bottom(), right());
          } else {
            seg(top(), right());
            seg(left(), bottom());
          }
          break;
        }
      }
    }
  }
  return out;
}

export interface LossGrid {
  nx: number;
  ny: number;
  /** log(f - min + delta) at each grid point, row 0 at the top (ymax). */
  logLoss: Float64Array;
  min: number;
  max: number;
  /** Contour levels, evenly spaced in log-loss. */
  levels: number[];
}

/** Samples f on an nx x ny grid over the domain and picks `count` log-loss levels. */
export function lossGrid(
  f: (x: number, y: number) => number,
  domain: { xmin: number; xmax: number; ymin: number; ymax: number },
  nx: number,
  ny: number,
  count: number,
): LossGrid {
  const raw = new Float64Array(nx * ny);
  let fmin = Number.POSITIVE_INFINITY;
  let fmax = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < ny; r++) {
    const y = domain.ymax - (r / (ny - 1)) * (domain.ymax - domain.ymin);
    for (let c = 0; c < nx; c++) {
      const x = domain.xmin + (c / (nx - 1)) * (domain.xmax - domain.xmin);
      const v = f(x, y);
      raw[r * nx + c] = v;
      if (v < fmin) fmin = v;
      if (v > fmax) fmax = v;
    }
  }
  const delta = Math.max((fmax - fmin) * 1e-4, 1e-12);
  const logLoss = raw.map((v) => Math.log(v - fmin + delta));
  const lo = Math.log(delta);
  const hi = Math.log(fmax - fmin + delta);
  const levels: number[] = [];
  for (let i = 1; i <= count; i++) levels.push(lo + ((hi - lo) * i) / (count + 1));
  return { nx, ny, logLoss, min: lo, max: hi, levels };
}
