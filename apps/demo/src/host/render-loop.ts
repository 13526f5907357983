/**
 * The host page's render timer. Events only append to the run's series; the charts, counters and
 * worker table redraw from here, at most 4 times a second, from decimated series, and not at all
 * while the page is hidden.
 */
import { byId } from '../ui/dom.js';
import { fitOneLine } from '../ui/fit.js';
import type { HostContext } from './context.js';
import { explainSpeed, speedRatio } from './speed.js';
import { renderNames, renderWorkers } from './workers.js';

const RENDER_MS = 250;

export interface RenderLoop {
  /** Redraws what changed; `force` redraws everything now, hidden page or not. */
  render(force?: boolean): void;
}

/** Starts the timer: counters on every second tick, charts on every fourth, the table at most once a second. */
export function renderLoop(ctx: HostContext): RenderLoop {
  const $workers = byId<HTMLTableSectionElement>('workers');
  let ticks = 0;
  let drawn = 0;
  let tableAt = 0;
  let tableDrawn = 0;

  function text(id: string, value: string): void {
    const n = byId(id);
    if (n.textContent !== value) n.textContent = value;
  }

  function render(force = false): void {
    if (!force && document.hidden) return; // nobody sees it; the next visible tick catches up
    // counters twice a second, charts and the worker table once: each change costs a repaint, and
    // on a laptop without a GPU that repaint takes CPU from the training in the same machine
    if (!force && ticks++ % 2 === 1) return;
    const { charts, series, job, last, lastEpoch, phase } = ctx;
    if (force || ticks % 4 === 1) charts.render(force);
    if (force || (tableDrawn !== ctx.dirty && performance.now() - tableAt >= 1000)) {
      tableAt = performance.now();
      tableDrawn = ctx.dirty;
      const running = phase === 'running' || phase === 'waiting' || phase === 'paused';
      renderWorkers($workers, ctx.roster, { running });
      renderNames(byId('projector-names'), ctx.roster, running, ctx.drewAt);
    }
    if (!force && drawn === ctx.dirty) return;
    drawn = ctx.dirty;
    ctx.tta.render();
    if (last) {
      text('count-epoch', `${Math.min(last.epoch + 1, job.epochs)} of ${job.epochs}`);
      text('count-iteration', last.iteration.toLocaleString('en'));
      text('count-batch', `mini-batch ${last.batch + 1} of ${last.batchesPerEpoch} in this epoch`);
      text('count-steps', series.steps.toLocaleString('en'));
      text('count-loss', last.lossSmoothed.toFixed(4));
      text('count-lr', `α = ${last.lr.toPrecision(3)}`);
      const ratio = speedRatio(series);
      text('count-speed', Math.round(ratio.room).toLocaleString('en'));
      text(
        'count-ratio',
        ratio.alone > 0
          ? `room vs fastest member alone: ${ratio.ratio.toFixed(2)}×`
          : 'room vs fastest member alone: measuring…',
      );
      text('speed-why', explainSpeed(series, ratio));
      text('projector-iteration', last.iteration.toLocaleString('en'));
      text('projector-loss', last.lossSmoothed.toFixed(3));
    } else if (series.length === 0) {
      for (const id of ['count-epoch', 'count-iteration', 'count-steps', 'count-loss', 'count-speed']) text(id, '—');
      text('count-lr', `α = ${job.optimizer.lr}`);
      text('count-batch', 'one mini-batch, one update');
      text('count-ratio', 'room vs fastest member alone');
      text('speed-why', '');
    }
    const acc = lastEpoch ? `${(lastEpoch.testAccuracy * 100).toFixed(1)}%` : '—';
    text('count-accuracy', acc);
    text('projector-accuracy', acc);
  }

  setInterval(render, RENDER_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) render();
  });
  // the charts' display options
  byId<HTMLInputElement>('bias-correction').addEventListener('change', (e) => {
    ctx.charts.setBiasCorrection((e.target as HTMLInputElement).checked);
  });
  byId<HTMLInputElement>('log-scale').addEventListener('change', (e) => {
    ctx.charts.setLogScale((e.target as HTMLInputElement).checked);
  });
  return { render };
}

/** Turns the projector view on or off, and writes it to the URL (?view=projector). */
export function setProjector(ctx: HostContext, on: boolean): void {
  document.body.classList.toggle('projector', on);
  byId('projector-toggle').setAttribute('aria-pressed', String(on));
  byId('projector-toggle').textContent = on ? 'Leave projector view' : 'Projector view';
  const u = new URL(location.href);
  if (on) u.searchParams.set('view', 'projector');
  else u.searchParams.delete('view');
  history.replaceState(null, '', u);
  // the charts follow their new boxes, and their ticks the screen
  requestAnimationFrame(() => {
    ctx.charts.setFontSize(axisFontPx(on));
    for (const c of ctx.charts.all) c.resize();
    fitProjectorText();
  });
}

/** The projector's one-line texts (the short link, "room vs this laptop alone") fit their boxes. */
export function fitProjectorText(): void {
  fitOneLine(byId('projector-link'));
  fitOneLine(byId('projector-tta'), 14);
}

/**
 * Axis font size: on the projector it grows with the screen (20 px at 1920 wide, so the back row
 * reads the ticks), never under 12; elsewhere uPlot's 12 px.
 */
export function axisFontPx(projector: boolean, width = innerWidth): number {
  return projector ? Math.min(32, Math.max(12, Math.round(width / 96))) : 12;
}

/** The projector follows a window resized (or moved to the projector's screen). */
export function followScreen(ctx: HostContext): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  addEventListener('resize', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      ctx.charts.setFontSize(axisFontPx(document.body.classList.contains('projector')));
      fitProjectorText();
    }, 200);
  });
}
