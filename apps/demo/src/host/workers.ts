/** The host page's worker table: each worker's name, backend, measured speed, share and status. */
import type { WorkerStatus } from '@gradroom/coordinator/browser';
import { el } from '../ui/dom.js';

export interface WorkerRow extends Partial<WorkerStatus> {
  id: string;
  name: string;
  /** Where it runs: a volunteer tab (direct or relayed) or a Web Worker of this tab. */
  where: string;
  /** Shown when the trainer does not know it yet (in the room, waiting for a run). */
  note?: string;
}

const STATUS: Record<WorkerStatus['status'], string> = {
  joining: 'setting up',
  ready: 'ready',
  busy: 'computing',
  standby: 'standing by',
  gone: 'gone',
};

export function renderWorkers(body: HTMLTableSectionElement, rows: WorkerRow[]): void {
  if (rows.length === 0) {
    body.replaceChildren(
      el(
        'tr',
        {},
        el('td', { colspan: 6, class: 'empty' }, 'No workers yet: share the join link, or let this tab train too.'),
      ),
    );
    return;
  }
  body.replaceChildren(
    ...rows.map((r) =>
      el(
        'tr',
        { 'data-id': r.id, 'data-status': r.status ?? 'waiting' },
        el('th', { scope: 'row' }, r.name, el('span', { class: 'hint block where' }, r.where)),
        el('td', { 'data-col': 'backend' }, r.backend || '—'),
        el('td', { 'data-col': 'speed' }, r.speed ? Math.round(r.speed).toLocaleString('en') : '—'),
        el('td', { 'data-col': 'share' }, r.share !== undefined ? `${(r.share * 100).toFixed(1)}%` : '—'),
        el(
          'td',
          { 'data-col': 'examples', class: 'col-examples' },
          r.examples !== undefined ? r.examples.toLocaleString('en') : '—',
        ),
        el('td', { 'data-col': 'status' }, r.status ? STATUS[r.status] : (r.note ?? 'in the room')),
      ),
    ),
  );
}
