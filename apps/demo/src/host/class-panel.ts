/**
 * Draw to train on the host page: the class's drawings as the students' tabs report them (counts per
 * digit; a wall of the thumbnails students chose to share, names only where they allowed it) and the
 * accuracy on their held-out drawings, measured in their own tabs: before the class's drawings
 * trained, and now, beside the MNIST test accuracy.
 */
import type { ClassAccuracy } from '@gradroom/coordinator/browser';
import type { HostEvent } from '../coordinator-worker/protocol.js';
import { byId, el } from '../ui/dom.js';

export type ClassEvent = Extract<HostEvent, { type: 'class' }>;

export interface ClassPanel {
  show(m: ClassEvent): void;
  last(): ClassEvent | null;
}

const SIDE = 28;
const pct = (a?: ClassAccuracy) => (a && Number.isFinite(a.accuracy) ? `${Math.round(a.accuracy * 100)}%` : '—');
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function thumbnail(pixels: Uint8Array): HTMLCanvasElement {
  const c = el('canvas', { width: SIDE, height: SIDE, 'aria-hidden': 'true' });
  const g = c.getContext('2d');
  if (g) {
    const img = g.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = 255 - pixels[i]; // dark ink on white
      img.data.set([v, v, v, 255], i * 4);
    }
    g.putImageData(img, 0, 0);
  }
  return c;
}

export function classPanel(): ClassPanel {
  let last: ClassEvent | undefined;
  let shownThumbs = '';
  return {
    last: () => last ?? null,
    show(m) {
      last = m;
      const { report, before, now } = m;
      const drawings = sum(report.counts) + sum(report.heldOut);
      byId('class-section').dataset.drawings = String(drawings);
      // beside the MNIST test accuracy: the class's held-out drawings, before and now
      byId('count-class').textContent = now ? pct(now) : '—';
      byId('count-class-before').textContent = before
        ? `${pct(before)} before the class's drawings joined`
        : 'before → now';
      byId('class-accuracy').textContent =
        now === undefined
          ? drawings === 0
            ? 'No student has drawn yet.'
            : 'Class drawings: measured when the run starts.'
          : `Class drawings: ${before ? pct(before) : '— (not measured: the run resumed)'} before the class's data joined, ${pct(now)} now (${sum(now.count)} held-out drawings, measured in ${now.members} student tab${now.members === 1 ? '' : 's'}).`;
      byId('class-counts-line').textContent =
        `${drawings} drawings from ${report.students} student${report.students === 1 ? '' : 's'}: ${sum(report.counts)} to train on, ${sum(report.heldOut)} kept aside to test. Drawings mixed into the students' training so far: ${report.ownExamples.toLocaleString('en')} (counted once per local round).`;
      const row = byId('class-counts');
      row.replaceChildren(...report.counts.map((n, d) => el('td', { 'data-digit': d }, String(n + report.heldOut[d]))));
      const key = report.thumbnails.map((t) => `${t.digit}${t.name ?? ''}${t.pixels.length}`).join('|');
      if (key !== shownThumbs) {
        shownThumbs = key;
        const wall = byId('class-wall');
        wall.replaceChildren(
          ...report.thumbnails.map((t) =>
            el(
              'figure',
              { class: 'digit' },
              thumbnail(t.pixels),
              el('figcaption', {}, t.name ? `${t.digit} · ${t.name}` : String(t.digit)),
            ),
          ),
        );
        byId('class-wall-empty').hidden = report.thumbnails.length > 0;
      }
    },
  };
}
