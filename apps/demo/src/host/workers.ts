/**
 * The host page's worker table (one row per person or local Web Worker: name, backend, measured
 * speed, share, examples, time in the room, status) and the end-of-run summary as CSV.
 */
import type { WorkerStatus } from '@gradroom/coordinator/browser';
import { el } from '../ui/dom.js';
import { speedText } from './format.js';
import type { Person, Roster } from './roster.js';
import { csvNumber, csvText } from './series.js';

const STATUS: Record<WorkerStatus['status'], string> = {
  joining: 'setting up',
  ready: 'ready',
  busy: 'computing',
  standby: 'standing by',
  gone: 'gone',
};

export interface RowContext {
  /** A run is going. */
  running: boolean;
}

/** "12 min 5 s", "40 s". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The status cell's words for a person. */
export function statusText(p: Person, ctx: RowContext): string {
  if (p.left) return p.local ? 'finished' : 'left the room';
  const s = p.status;
  if (!s) return ctx.running ? 'joining' : 'waiting for a run';
  if (s.status === 'standby') {
    const why = s.standby ?? 'standing by: its link costs more than it adds';
    // the planner's sentence usually carries its figures; add the fixed cost when it does not
    const fixed =
      s.fixedMs !== undefined && s.fixedMs > 0 && !/\d\s*ms/.test(why)
        ? ` (fixed cost ${Math.round(s.fixedMs)} ms per shard)`
        : '';
    return `${why.startsWith('standing by') ? why : `standing by: ${why}`}${fixed}`;
  }
  return STATUS[s.status];
}

/** A student kept a drawing this recently (ms): the projector says they are drawing. */
export const DRAWING_MS = 20_000;

export type Doing = 'training' | 'drawing' | 'standing by' | 'joining' | 'waiting for a run';

/**
 * What a student in the room is doing, in a word the back row reads (the projector's list). `drewAt`:
 * when they last kept a drawing (Date.now() ms); drawing wins over standing by or waiting, while
 * training wins over drawing (their drawings train with them).
 */
export function doing(p: Person, running: boolean, drewAt?: number, now = Date.now()): Doing {
  const s = p.status;
  const drawing = drewAt !== undefined && now - drewAt < DRAWING_MS;
  if (!running) return drawing ? 'drawing' : 'waiting for a run';
  if (!s || s.status === 'joining') return 'joining';
  if (s.status === 'standby') return drawing ? 'drawing' : 'standing by';
  return 'training';
}

/** The projector's list of students in the room: name and what each is doing, unchanged lists kept. */
export function renderNames(
  list: HTMLElement,
  roster: Roster,
  running: boolean,
  drewAt: Readonly<Record<string, number>> = {},
): void {
  const people = roster.present();
  const now = Date.now();
  const doings = people.map((p) => doing(p, running, p.id === undefined ? undefined : drewAt[p.id], now));
  const key = JSON.stringify(people.map((p, i) => [p.name, doings[i]]));
  if (list.dataset.shown === key) return;
  list.dataset.shown = key;
  list.replaceChildren(
    ...people.map((p, i) => {
      const d = doings[i];
      return el('li', { 'data-doing': d }, personName(p.name), ' ', el('span', { class: 'doing' }, d));
    }),
  );
}

/** What the table showed last, per body: an unchanged table is not rebuilt (no layout, no repaint). */
const shown = new WeakMap<HTMLTableSectionElement, string>();

/**
 * A student's name for a table cell: cut short on screen (CSS ellipsis) so a 40-character name
 * without spaces cannot squeeze the other columns; the full name is in its title (a tooltip).
 */
export function personName(name: string): HTMLSpanElement {
  return el('span', { class: 'person-name', title: name }, name);
}

export function renderWorkers(body: HTMLTableSectionElement, roster: Roster, ctx: RowContext): void {
  const rows = roster.list();
  const key = JSON.stringify(
    rows.map((p) => [
      p.key,
      p.id,
      p.name,
      p.left,
      p.backend,
      p.status,
      roster.examples(p),
      Math.round(roster.ms(p) / 1000),
      p.sessions,
    ]),
  );
  if (shown.get(body) === key) return;
  shown.set(body, key);
  if (rows.length === 0) {
    body.replaceChildren(
      el(
        'tr',
        {},
        el('td', { colspan: 7, class: 'empty' }, 'No workers yet: share the join link, or let this tab train too.'),
      ),
    );
    return;
  }
  body.replaceChildren(
    ...rows.map((p) => {
      const s = p.status;
      const where = p.local
        ? 'Web Worker in this tab'
        : `volunteer tab, ${p.via === 'relay' ? 'relayed by the server' : 'WebRTC'}${p.sessions > 1 ? `, joined ${p.sessions} times` : ''}`;
      const state = p.left ? 'left' : (s?.status ?? 'waiting');
      return el(
        'tr',
        { 'data-id': p.id ?? '', 'data-key': p.key, 'data-status': state },
        el('th', { scope: 'row' }, personName(p.name), el('span', { class: 'hint block where' }, where)),
        el('td', { 'data-col': 'backend' }, p.backend || '—'),
        el('td', { 'data-col': 'speed' }, s && !p.left ? speedText(s.speed, p.examplesNow) : '—'),
        el('td', { 'data-col': 'share' }, s && !p.left ? `${(s.share * 100).toFixed(1)}%` : '—'),
        el('td', { 'data-col': 'examples', class: 'col-examples' }, roster.examples(p).toLocaleString('en')),
        el('td', { 'data-col': 'time', class: 'col-time' }, duration(roster.ms(p))),
        el('td', { 'data-col': 'status' }, statusText(p, ctx)),
      );
    }),
  );
}

/** The end-of-run summary per person and for the room, as CSV. */
export function summaryCsv(roster: Roster, room: { examples: number; seconds: number; testAccuracy: number }): string {
  const people = roster.list();
  const total = people.reduce((a, p) => a + roster.examples(p), 0);
  const rows = ['name,kind,backend,examples,share of all examples,seconds in the room,sessions,state'];
  for (const p of people) {
    const ex = roster.examples(p);
    rows.push(
      [
        csvText(p.name),
        p.local ? 'web worker in the host tab' : 'volunteer',
        csvText(p.backend ?? ''),
        String(ex),
        csvNumber(total > 0 ? Number((ex / total).toFixed(4)) : 0),
        csvNumber(Math.round(roster.ms(p) / 1000)),
        String(p.sessions),
        p.left ? (p.local ? 'finished' : 'left') : 'in the room',
      ].join(','),
    );
  }
  rows.push(
    [
      'the room',
      'all',
      '',
      String(room.examples),
      '1',
      csvNumber(Math.round(room.seconds)),
      '',
      Number.isFinite(room.testAccuracy) ? `test accuracy ${(room.testAccuracy * 100).toFixed(1)}%` : '',
    ].join(','),
  );
  return `${rows.join('\n')}\n`;
}
