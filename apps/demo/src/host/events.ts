/** The coordinator worker's events, each handed to the part of the host page that shows it. */
import type { HostEvent } from '../coordinator-worker/protocol.js';
import type { ClassPanel } from './class-panel.js';
import { type HostContext, plainReason } from './context.js';
import { saveHistory } from './history.js';
import type { LearnedPanel } from './learned-panel.js';
import type { RoomPanel } from './room-panel.js';
import type { RunControls } from './run-controls.js';

export interface Panels {
  room: RoomPanel;
  run: RunControls;
  learned: LearnedPanel;
  classData: ClassPanel;
}

/** The run has Web Workers of this tab ("this laptop"), now or before in this run. */
const hasLocal = (ctx: HostContext) => ctx.roster.list().some((p) => p.local);

export function onHostEvent(ctx: HostContext, panels: Panels, m: HostEvent): void {
  const { roster, series, log } = ctx;
  switch (m.type) {
    case 'iteration':
      ctx.last = m.e;
      series.push(m.e);
      panels.run.onIteration(m.e);
      // every iteration's snapshot: a student who leaves keeps the examples of their last shard
      roster.update(m.e.workers);
      ctx.tta.onIteration(m.e.timing.totalMs, m.e.batchesPerEpoch);
      ctx.tta.onWorkers(m.e.workers, hasLocal(ctx));
      break;
    case 'evaluation':
      ctx.tta.onScore(m.e.testAccuracy, m.e.evalMs, m.e.iteration);
      break;
    case 'epoch':
      ctx.lastEpoch = m.e;
      series.pushEpoch(m.e);
      ctx.tta.onScore(m.e.testAccuracy, 0, m.e.iteration);
      log(
        `epoch ${m.e.epoch + 1} done: test accuracy ${(m.e.testAccuracy * 100).toFixed(1)}%, test loss ${m.e.testLoss.toFixed(3)}`,
      );
      break;
    case 'worker': {
      const p = roster.get(m.e.id);
      // a volunteer's leaving is logged once, from the room (onPeer)
      const reason = plainReason(m.e.reason);
      if (m.e.type === 'rejected' || (m.e.type === 'left' && p?.local))
        log(
          `${p?.name ?? m.e.id} ${m.e.type === 'left' ? 'stopped computing' : 'was dropped'}${reason ? `: ${reason}` : ''}`,
        );
      break;
    }
    case 'workers':
      roster.update(m.list);
      ctx.tta.onWorkers(m.list, hasLocal(ctx));
      // the batch-size advice follows the room's measured workers (rounded: it changes little)
      ctx.form.setWorkers(
        m.list
          .filter((w) => w.status !== 'gone' && w.speed > 0 && w.fixedMs !== undefined)
          .map((w) => ({ fixedMs: Math.round(w.fixedMs ?? 0), msPerExample: Number((1000 / w.speed).toPrecision(2)) })),
      );
      break;
    case 'state':
      if (m.e.state === 'waiting') panels.run.setPhase('waiting');
      else if (m.e.state === 'running' && ctx.phase !== 'stopping') panels.run.setPhase('running');
      else if (m.e.state === 'paused') panels.run.setPhase('paused');
      panels.room.showPeople(); // its line says whether the run has started
      break;
    case 'run':
      ctx.job = m.job;
      for (const l of m.local) roster.local(l.id, l.name);
      ctx.tta.begin(m.job, ctx.target);
      break;
    case 'peer':
      panels.room.onPeer(m.e);
      break;
    case 'log':
      log(m.line);
      break;
    case 'checkpoint':
      void saveHistory({
        iteration: m.iteration,
        series: series.record(),
        roster: roster.record(),
        seconds: (performance.now() - ctx.runStarted) / 1000,
        lrChanges: panels.run.lrChanges(),
      });
      break;
    case 'ended':
      panels.run.ended(m);
      ctx.tta.onEnded();
      break;
    case 'predictions':
      panels.learned.showPredictions(
        m.stoppedAt === undefined ? m.epoch : `When stopped, at iteration ${m.stoppedAt.toLocaleString('en')}`,
        m.panel,
      );
      break;
    case 'confusion':
      panels.learned.showConfusion(m.matrix);
      break;
    case 'class':
      panels.classData.show(m);
      ctx.drewAt = m.report.drewAt;
      break;
  }
  ctx.dirty++;
}
