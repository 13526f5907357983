/**
 * The numbers under the playground's plot: a table row per visible path, and one sentence a student
 * can check against the picture, both from the same statistics of the simulation.
 */
import { el, formatNumber } from '../ui/dom.js';
import {
  NEAR_SADDLE,
  PATH_KINDS,
  PATH_NAMES,
  type Path,
  type PathKind,
  type PathStats,
  REACHED,
  SETTLE_WINDOW,
} from './sim.js';
import { eachOf, type PlaygroundState, swatch } from './state.js';
import { SURFACES } from './surfaces.js';

type Column = { key: string; head: string; cell(kind: PathKind, p: Path, st: PathStats): string };

function columns(s: PlaygroundState): Column[] {
  const surface = SURFACES[s.config.surface];
  const each = eachOf(s.config);
  const anyNoise = PATH_KINDS.some((k) => s.visible[k] && each[k].noise);
  const cols: Column[] = [
    {
      key: 'grad',
      head: 'Gradient',
      cell: (k) => {
        const e = each[k];
        const g = e.noise ? `mini-batch ${e.batchSize}` : 'full batch';
        return e.decay === 'constant' ? g : `${g}, decay`;
      },
    },
    { key: 'alpha', head: 'α now', cell: (_k, p) => formatNumber(p.lr) },
    { key: 'loss', head: 'Loss', cell: (_k, p) => (p.diverged ? '—' : formatNumber(p.loss)) },
    { key: 'dist', head: 'Distance to the minimum', cell: (_k, p, st) => (p.diverged ? '—' : st.distance.toFixed(3)) },
  ];
  if (surface.narrowAxis) {
    cols.push({
      key: 'swing',
      head: `Sideways swing Σ|Δ${surface.narrowAxis}|`,
      cell: (_k, p, st) => (p.diverged ? '—' : (st.swing ?? 0).toFixed(1)),
    });
  }
  if (surface.saddles.length) {
    cols.push({
      key: 'saddle',
      head: `Iterations within ${NEAR_SADDLE} of the saddle`,
      cell: (_k, _p, st) => String(st.nearSaddle ?? 0),
    });
  }
  cols.push({
    key: 'reached',
    head: `Within ${REACHED} of a minimum at`,
    cell: (_k, _p, st) => (st.reachedAt === null ? 'not yet' : `iteration ${st.reachedAt}`),
  });
  if (anyNoise) {
    cols.push({
      key: 'settle',
      head: `Mean distance, last ${SETTLE_WINDOW} iterations`,
      cell: (_k, p, st) => (p.diverged ? '—' : st.settle.toFixed(3)),
    });
  }
  cols.push({ key: 'status', head: '', cell: (_k, p) => (p.diverged ? 'diverged: lower α' : '') });
  return cols;
}

export function renderTable(table: HTMLTableElement, s: PlaygroundState, stats: Record<PathKind, PathStats>): void {
  const cols = columns(s);
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, 'Optimizer'),
    ...cols.map((c) =>
      c.head
        ? el('th', { scope: 'col' }, c.head)
        : el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Status')),
    ),
  );
  const rows = PATH_KINDS.filter((k) => s.visible[k]).map((k) =>
    el(
      'tr',
      { 'data-kind': k },
      el('th', { scope: 'row' }, swatch(k), ` ${PATH_NAMES[k]}`),
      ...cols.map((c) =>
        el('td', { class: c.key === 'status' ? 'status' : 'num', 'data-col': c.key }, c.cell(k, s.paths[k], stats[k])),
      ),
    ),
  );
  table.replaceChildren(
    el('caption', {}, 'Where each path is now: the numbers behind the picture'),
    el('thead', {}, head),
    el('tbody', {}, ...rows),
  );
}

/**
 * The visible paths in the order they first came within REACHED of a minimum, as a sentence:
 * "Adam at iteration 63, RMSProp at 72, …; not yet: …". Ties keep the table's order.
 */
export function arrivalOrder(shown: readonly PathKind[], stats: Record<PathKind, PathStats>): string {
  const arrived = shown.filter((k) => stats[k].reachedAt !== null);
  arrived.sort((a, b) => (stats[a].reachedAt ?? 0) - (stats[b].reachedAt ?? 0));
  const not = shown.filter((k) => stats[k].reachedAt === null);
  const parts = arrived.map((k, i) => `${PATH_NAMES[k]} at ${i === 0 ? 'iteration ' : ''}${stats[k].reachedAt}`);
  const tail = not.length ? `${parts.length ? '; ' : ''}not yet: ${not.map((k) => PATH_NAMES[k]).join(', ')}` : '';
  return `Within ${REACHED} of the minimum: ${parts.join(', ')}${tail}.`;
}

/** One sentence a student can check against the plot, from the same numbers. */
export function findings(s: PlaygroundState, stats: Record<PathKind, PathStats>): string {
  const surface = SURFACES[s.config.surface];
  const { paths, iteration } = s;
  const shown = PATH_KINDS.filter((k) => s.visible[k]);
  if (iteration === 0 || shown.length === 0) return 'Press Play or Step to start.';
  const alpha = (k: PathKind) => formatNumber(s.config.hyper[k].lr);
  const distances = shown
    .map((k) => `${PATH_NAMES[k]} ${paths[k].diverged ? 'diverged' : stats[k].distance.toFixed(3)}`)
    .join(', ');
  if (surface.narrowAxis) {
    return (
      `After ${iteration} iterations, sideways swing Σ|Δ${surface.narrowAxis}|: ` +
      shown.map((k) => `${PATH_NAMES[k]} ${(stats[k].swing ?? 0).toFixed(1)} (α ${alpha(k)})`).join(', ') +
      `. Distance to the minimum: ${distances}.`
    );
  }
  if (surface.saddles.length) {
    return shown
      .map((k) => {
        const st = stats[k];
        const reached =
          st.reachedAt === null ? 'has not reached a minimum yet' : `reached a minimum at iteration ${st.reachedAt}`;
        return `${PATH_NAMES[k]} spent ${st.nearSaddle} iterations within ${NEAR_SADDLE} of the saddle and ${reached}.`;
      })
      .join(' ');
  }
  // the plateau's point is who gets across first: say the order, with each path's α
  if (s.config.surface === 'plateau') {
    return `After ${iteration} iterations (α: ${shown.map((k) => `${PATH_NAMES[k]} ${alpha(k)}`).join(', ')}). ${arrivalOrder(shown, stats)}`;
  }
  return `After ${iteration} iterations, distance to the minimum: ${distances}.`;
}
