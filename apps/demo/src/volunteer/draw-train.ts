/**
 * The volunteer page's "Teach the model your handwriting": a guided pad ("Draw a 3"), a counter per
 * digit, undo and clear, and the student's drawings with a share box each (off by default). Whenever
 * the set changes, `onChange` hands it on (to this tab's Web Worker, and as counts to the room).
 */
import { drawPad } from '../host/learned.js';
import { byId, el } from '../ui/dom.js';
import { type DrawingSet, MAX_DRAWINGS, MIN_DRAWINGS } from './drawing-set.js';

const SIDE = 28;

function thumbnail(pixels: Float32Array): HTMLCanvasElement {
  const c = el('canvas', { width: SIDE, height: SIDE, 'aria-hidden': 'true' });
  const g = c.getContext('2d');
  if (g) {
    const img = g.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = Math.round(255 - pixels[i] * 255);
      img.data.set([v, v, v, 255], i * 4);
    }
    g.putImageData(img, 0, 0);
  }
  return c;
}

/** Wires the section; returns whether the student allows their name under shared drawings. */
export function mountDrawTrain(set: DrawingSet, onChange: () => void): { named(): boolean } {
  const pad = drawPad(byId<HTMLCanvasElement>('train-pad'), () => {
    (byId('train-keep') as HTMLButtonElement).disabled = set.prompt() === null;
  });
  const named = byId<HTMLInputElement>('train-named');
  const keep = byId<HTMLButtonElement>('train-keep');

  function render(): void {
    const next = set.prompt();
    const prompt = byId('train-prompt');
    prompt.dataset.digit = next === null ? '' : String(next);
    prompt.textContent =
      next === null ? `That is ${MAX_DRAWINGS} drawings: thank you!` : `Draw a ${next}, then keep it.`;
    keep.disabled = next === null || pad.empty();
    (byId('train-undo') as HTMLButtonElement).disabled = set.items.length === 0;
    const { counts, heldOut } = set.counts();
    byId('train-counts').replaceChildren(
      ...counts.map((n, d) =>
        el('td', { 'data-digit': d, class: d === next ? 'next' : undefined }, String(n + heldOut[d])),
      ),
    );
    const n = set.items.length;
    const aside = heldOut.reduce((a, b) => a + b, 0);
    byId('train-progress').textContent =
      n < MIN_DRAWINGS
        ? `${n} of at least ${MIN_DRAWINGS} drawings (up to ${MAX_DRAWINGS}). ${aside} kept aside to test the model.`
        : `${n} drawings (up to ${MAX_DRAWINGS}): ${n - aside} to train on, ${aside} kept aside to test the model.`;
    byId('train-list').replaceChildren(
      ...set.items.map((d, i) => {
        const id = `share-${i}`;
        const box = el('input', { type: 'checkbox', id, 'data-index': i });
        box.checked = d.shared;
        box.addEventListener('change', () => {
          d.shared = box.checked;
          onChange();
        });
        return el(
          'figure',
          { class: d.heldOut ? 'digit held-out' : 'digit' },
          thumbnail(d.pixels),
          el('figcaption', {}, d.heldOut ? `${d.digit} · test` : String(d.digit)),
          el('label', { for: id, class: 'share' }, box, ' share'),
        );
      }),
    );
  }

  keep.addEventListener('click', () => {
    if (pad.empty() || !set.add(pad.pixels())) return;
    pad.clear();
    render();
    onChange();
  });
  byId('train-clear').addEventListener('click', () => {
    pad.clear();
    render();
  });
  byId('train-undo').addEventListener('click', () => {
    set.undo();
    render();
    onChange();
  });
  named.addEventListener('change', () => onChange());
  render();
  return { named: () => named.checked };
}
