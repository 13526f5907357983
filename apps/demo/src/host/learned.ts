/**
 * "What the model learned" on the host page: a panel of test digits with the model's predictions
 * after each epoch (wrong ones marked), a pad to draw a digit that the current weights classify,
 * and the confusion matrix on the test split at the end of a run.
 */
import type { PanelResult } from '../coordinator-worker/predictor.js';
import { el } from '../ui/dom.js';

const SIDE = 28;

/** Draws the panel: one small canvas per digit, its prediction under it; wrong ones outlined. */
/** `epoch` counts from 1; a string is the moment itself ("When stopped at iteration 40"). */
export function renderPanel(box: HTMLElement, epoch: number | string, p: PanelResult, names: readonly string[]): void {
  const wrong = p.predicted.filter((c, i) => c !== p.labels[i]).length;
  const cells = p.indices.map((_, k) => {
    const c = el('canvas', { width: SIDE, height: SIDE, 'aria-hidden': 'true' });
    const g = c.getContext('2d');
    if (g) {
      const img = g.createImageData(SIDE, SIDE);
      for (let i = 0; i < SIDE * SIDE; i++) {
        const v = 255 - p.images[k * SIDE * SIDE + i]; // dark ink on white
        img.data.set([v, v, v, 255], i * 4);
      }
      g.putImageData(img, 0, 0);
    }
    const ok = p.predicted[k] === p.labels[k];
    const said = names[p.predicted[k]] ?? String(p.predicted[k]);
    const truth = names[p.labels[k]] ?? String(p.labels[k]);
    return el(
      'figure',
      { class: ok ? 'digit' : 'digit wrong', 'data-ok': String(ok) },
      c,
      el(
        'figcaption',
        {},
        ok ? `${said}` : `${said} ✗`,
        el(
          'span',
          { class: 'sr-only' },
          ok ? ` (right, ${Math.round(p.confidence[k] * 100)}%)` : ` (wrong: it is ${truth})`,
        ),
      ),
    );
  });
  box.replaceChildren(
    el(
      'p',
      { class: 'hint' },
      `${typeof epoch === 'string' ? epoch : `After epoch ${epoch}`}: ${p.indices.length - wrong} of ${p.indices.length} test digits right; wrong ones are outlined in red, with ✗.`,
    ),
    el('div', { class: 'digits' }, ...cells),
  );
}

/** The confusion matrix as a table: rows the true class, columns the predicted one. */
export function renderConfusion(box: HTMLElement, m: number[][], names: readonly string[]): void {
  const total = m.reduce((a, r) => a + r.reduce((b, x) => b + x, 0), 0);
  const right = m.reduce((a, r, i) => a + r[i], 0);
  const max = Math.max(1, ...m.flatMap((r, i) => r.filter((_, j) => j !== i)));
  const name = (i: number) => names[i] ?? String(i);
  box.replaceChildren(
    el(
      'p',
      { class: 'hint' },
      `${right.toLocaleString('en')} of ${total.toLocaleString('en')} test examples right (${((right / Math.max(1, total)) * 100).toFixed(1)}%). Row: what it is; column: what the model said. Off the diagonal are its mistakes, darker where it makes more.`,
    ),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'confusion', id: 'confusion-table' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', { scope: 'col' }, 'is \\ said'),
            ...m.map((_, j) => el('th', { scope: 'col' }, name(j))),
          ),
        ),
        el(
          'tbody',
          {},
          ...m.map((r, i) =>
            el(
              'tr',
              {},
              el('th', { scope: 'row' }, name(i)),
              ...r.map((x, j) => {
                const a = i === j ? 0 : x / max;
                return el(
                  'td',
                  {
                    class: i === j ? 'diag' : '',
                    style: i === j ? undefined : `background: rgba(179, 89, 0, ${(a * 0.6).toFixed(2)})`,
                  },
                  String(x),
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A drawing pad: the pointer draws thick strokes on a 280x280 canvas; `pixels()` gives the drawing
 * as the data set's 28x28 grey levels in [0, 1] (ink high), centred by its centre of mass as MNIST is.
 */
export function drawPad(
  canvas: HTMLCanvasElement,
  onStroke: () => void,
): { pixels(): Float32Array; clear(): void; empty(): boolean } {
  const g = canvas.getContext('2d', { willReadFrequently: true });
  if (!g) throw new Error('this browser cannot draw on a canvas');
  const clear = () => {
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, canvas.width, canvas.height);
    inked = false;
  };
  let inked = false;
  let last: [number, number] | undefined;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    g.strokeStyle = '#000000';
    g.lineWidth = canvas.width / 12;
    g.lineCap = 'round';
    g.beginPath();
    g.moveTo(...last);
    g.lineTo(...p);
    g.stroke();
    last = p;
    inked = true;
  });
  const end = () => {
    if (last && inked) onStroke();
    last = undefined;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  clear();
  return {
    clear,
    empty: () => !inked,
    pixels() {
      // 20x20 box for the ink, placed so its centre of mass is at the middle of 28x28 (as MNIST)
      const small = document.createElement('canvas');
      small.width = small.height = SIDE;
      const s = small.getContext('2d', { willReadFrequently: true });
      if (!s) throw new Error('this browser cannot draw on a canvas');
      s.fillStyle = '#ffffff';
      s.fillRect(0, 0, SIDE, SIDE);
      s.drawImage(canvas, 4, 4, 20, 20);
      const d = s.getImageData(0, 0, SIDE, SIDE).data;
      const ink = new Float32Array(SIDE * SIDE);
      let mass = 0;
      let cx = 0;
      let cy = 0;
      for (let i = 0; i < ink.length; i++) {
        ink[i] = 1 - d[i * 4] / 255;
        mass += ink[i];
        cx += (i % SIDE) * ink[i];
        cy += Math.floor(i / SIDE) * ink[i];
      }
      if (mass === 0) return ink;
      const dx = Math.round(SIDE / 2 - cx / mass);
      const dy = Math.round(SIDE / 2 - cy / mass);
      const out = new Float32Array(SIDE * SIDE);
      for (let y = 0; y < SIDE; y++)
        for (let x = 0; x < SIDE; x++) {
          const sx = x - dx;
          const sy = y - dy;
          if (sx >= 0 && sy >= 0 && sx < SIDE && sy < SIDE) out[y * SIDE + x] = ink[sy * SIDE + sx];
        }
      return out;
    },
  };
}
