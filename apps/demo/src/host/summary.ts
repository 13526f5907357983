/** The end-of-run summary on the host page and its exports (summary CSV, series CSV, charts PNG, model). */
import { byId, el } from '../ui/dom.js';
import type { HostContext } from './context.js';
import { counted } from './format.js';
import { duration, personName, summaryCsv } from './workers.js';

export interface SummaryPanel {
  show(): void;
  hide(): void;
  /** The summary as CSV: one row per person and one for the room. */
  csv(): string;
}

function download(name: string, blob: Blob): void {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export function summaryPanel(ctx: HostContext): SummaryPanel {
  const { roster, series } = ctx;
  const csv = () =>
    summaryCsv(roster, { examples: series.steps, seconds: ctx.runSeconds, testAccuracy: ctx.finalAccuracy });

  function show(): void {
    byId('summary').hidden = false;
    const people = roster.list();
    const total = people.reduce((a, p) => a + roster.examples(p), 0);
    const acc = Number.isFinite(ctx.finalAccuracy) ? `${(ctx.finalAccuracy * 100).toFixed(1)}%` : '—';
    byId('summary-room').textContent =
      `${counted(series.length, 'iteration')}, ${counted(series.steps, 'example')} (steps) in ${duration(ctx.runSeconds * 1000)}; test accuracy ${acc}; ${counted(people.filter((p) => !p.local).length, 'student')} and ${counted(people.filter((p) => p.local).length, 'Web Worker')} of this tab.`;
    byId('summary-people').replaceChildren(
      ...people.map((p) => {
        const ex = roster.examples(p);
        return el(
          'tr',
          {},
          el('th', { scope: 'row' }, personName(p.name)),
          el('td', {}, p.backend || '—'),
          el('td', {}, ex.toLocaleString('en')),
          el('td', {}, total > 0 ? `${((ex / total) * 100).toFixed(1)}%` : '—'),
          el('td', {}, duration(roster.ms(p))),
        );
      }),
    );
  }

  byId('export-summary').addEventListener('click', () =>
    download('gradroom-summary.csv', new Blob([csv()], { type: 'text/csv' })),
  );
  byId('export-series').addEventListener('click', () =>
    download('gradroom-run.csv', new Blob([series.iterationsCsv()], { type: 'text/csv' })),
  );
  byId('export-png').addEventListener('click', async () => {
    try {
      download(
        'gradroom-charts.png',
        await ctx.charts.png(`gradroom run: ${ctx.job.optimizer.kind}, mini-batch ${ctx.job.batchSize}`),
      );
    } catch (e) {
      byId('run-error').textContent = (e as Error).message;
    }
  });
  byId('export-model').addEventListener('click', async () => {
    try {
      // model.json and its weights file: tf.loadLayersModel('…/model.json') loads the pair
      const m = await ctx.coordinator.exportModel();
      download('model.json', new Blob([m.modelJson], { type: 'application/json' }));
      download('model.weights.bin', new Blob([m.weights], { type: 'application/octet-stream' }));
    } catch (e) {
      byId('run-error').textContent = (e as Error).message;
    }
  });

  return {
    show,
    hide: () => {
      byId('summary').hidden = true;
    },
    csv,
  };
}
