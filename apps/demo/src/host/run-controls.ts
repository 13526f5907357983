/**
 * The run controls of the host page: the run's lifecycle (start, continue the saved run, pause,
 * resume, stop, its end) and the learning rate set by hand, from the main panel and the projector.
 */
import type { IterationEvent, JobConfig } from '@gradroom/coordinator/browser';
import type { BackendName } from '@gradroom/worker/catalog';
import type { HostEvent, RunOptions } from '../coordinator-worker/protocol.js';
import { byId } from '../ui/dom.js';
import type { HostContext, Phase } from './context.js';
import { rememberForm, restoreForm } from './form-memory.js';
import { counted } from './format.js';
import { loadHistory } from './history.js';
import { evalEveryFor } from './tta.js';

export interface RunControls {
  setPhase(p: Phase, detail?: string): void;
  /** The coordinator says the run ended (done, stopped or failed). */
  ended(m: Extract<HostEvent, { type: 'ended' }>): void;
  /** Offers the saved run, if this browser has one. */
  offerSavedRun(): Promise<void>;
  /** Called for each iteration: settles a pending α change. */
  onIteration(e: IterationEvent): void;
  /** α set by hand, from the first iteration that used it. */
  lrChanges(): { iteration: number; lr: number }[];
  /** After a reload: continues the run this tab had going, if any (true when it did). */
  resumeIfLive(): Promise<boolean>;
  /** Starts a run of `job` as the Start button does, without the form (bench, console). */
  startJob(job: JobConfig, opts: RunOptions): Promise<void>;
}

/** What the controls call in the other panels. */
export interface RunHooks {
  localBackends: BackendName[] | undefined;
  onReset(): void;
  onEnded(stoppedOrDone: boolean): void;
}

const WORDS: Record<Phase, string> = {
  idle: 'Not started.',
  waiting: 'Waiting for a worker to join…',
  running: 'Training.',
  paused: 'Paused: no new iterations until you resume.',
  stopping: 'Stopping after the iteration in flight…',
  done: 'Done.',
  stopped: 'Stopped.',
  failed: 'The run failed.',
};

/**
 * The run this tab has going, kept in session storage (like the room): a reload, or a crashed tab
 * reopened, continues it by itself from its last checkpoint.
 */
const LIVE_KEY = 'gradroom-host-live-run';

function markLive(o: RunOptions, paused = false): void {
  sessionStorage.setItem(LIVE_KEY, JSON.stringify({ ...o, paused }));
}

/** A paused run stays paused across a reload (the teacher paused it to explain something). */
function markPaused(paused: boolean): void {
  const o = liveRun();
  if (o && o.paused !== paused) markLive(o, paused);
}

function liveRun(): (RunOptions & { paused: boolean }) | null {
  try {
    const o = JSON.parse(sessionStorage.getItem(LIVE_KEY) ?? 'null') as (RunOptions & { paused?: unknown }) | null;
    if (!o || typeof o.local !== 'number') return null;
    const backends = Array.isArray(o.backends) ? o.backends : undefined;
    const target = typeof o.target === 'number' && o.target > 0 && o.target < 1 ? o.target : undefined;
    const evalEvery = typeof o.evalEvery === 'number' ? o.evalEvery : undefined;
    return { local: o.local, backends, planning: o.planning, target, evalEvery, paused: o.paused === true };
  } catch {
    return null;
  }
}

export function runControls(ctx: HostContext, hooks: RunHooks): RunControls {
  const $start = byId<HTMLButtonElement>('start');
  const $continue = byId<HTMLButtonElement>('continue-run');
  const $pause = byId<HTMLButtonElement>('pause');
  const $stop = byId<HTMLButtonElement>('stop');
  const $local = byId<HTMLInputElement>('local-workers');
  const $localCount = byId<HTMLInputElement>('local-count');
  const $manualLr = byId<HTMLInputElement>('manual-lr');
  const $setLr = byId<HTMLButtonElement>('set-lr');
  const $projectorLr = byId<HTMLInputElement>('projector-lr');
  const { coordinator, series } = ctx;
  /** α set by hand, from the first iteration that used it (pending until that iteration is seen). */
  const lrChanges: { iteration: number; lr: number; pending?: boolean }[] = [];

  function setPhase(p: Phase, detail = ''): void {
    ctx.phase = p;
    const live = p === 'waiting' || p === 'running' || p === 'paused' || p === 'stopping';
    $start.disabled = live;
    $start.textContent = p === 'idle' ? 'Start' : 'Start a new run';
    for (const b of [$pause, byId<HTMLButtonElement>('projector-pause')]) {
      b.disabled = !(p === 'running' || p === 'paused');
      b.textContent = p === 'paused' ? 'Resume' : 'Pause';
      b.setAttribute('aria-pressed', String(p === 'paused'));
    }
    $stop.disabled = byId<HTMLButtonElement>('projector-stop').disabled = !live || p === 'stopping';
    $manualLr.disabled = $setLr.disabled = !live || p === 'stopping';
    $projectorLr.disabled = byId<HTMLButtonElement>('projector-set-lr').disabled = !live || p === 'stopping';
    ctx.form.setRunning(live);
    $local.disabled = $localCount.disabled = live;
    byId('run-state').textContent = `${WORDS[p]}${detail ? ` ${detail}` : ''}`;
    document.body.dataset.phase = p;
    if (p === 'paused' || p === 'running') markPaused(p === 'paused');
    ctx.dirty++;
  }

  /** The run's options from the page's controls (throws with a message for a bad target). */
  function runOptions(): RunOptions {
    const n = $local.checked ? Math.max(1, Math.min(8, Math.trunc(Number($localCount.value)) || 1)) : 0;
    const everyone = byId<HTMLInputElement>('everyone').checked;
    const target = ctx.form.target();
    const evalEvery = evalEveryFor(ctx.form.job().batchSize);
    return { local: n, backends: hooks.localBackends, planning: everyone ? 'all' : 'cost', target, evalEvery };
  }

  function resetRun(): void {
    ctx.last = ctx.lastEpoch = undefined;
    ctx.finalAccuracy = Number.NaN;
    lrChanges.length = 0;
    ctx.roster.newRun();
    hooks.onReset();
    ctx.runStarted = performance.now();
    ctx.runSeconds = 0;
  }

  function needsWorkers(): void {
    if (!ctx.room && !$local.checked) throw new Error('Create a room for volunteers, or tick “This tab trains too”.');
  }

  $start.addEventListener('click', async () => {
    const err = byId('run-error');
    err.textContent = '';
    try {
      const j = ctx.form.job();
      const opts = runOptions();
      needsWorkers();
      resetRun();
      series.clear();
      ctx.job = j;
      ctx.target = opts.target ?? ctx.target;
      $manualLr.value = $projectorLr.value = String(j.optimizer.lr);
      setPhase('waiting');
      await coordinator.start(j, opts);
      markLive(opts);
      rememberForm(ctx.form.root);
      ctx.log(
        `run started: ${j.optimizer.kind}, α = ${j.optimizer.lr}, mini-batch ${j.batchSize}, ${counted(j.epochs, 'epoch')}`,
      );
      $continue.hidden = true;
    } catch (e) {
      setPhase('idle');
      err.textContent = (e as Error).message;
    }
  });

  /**
   * Continues the saved run with its chart history, ledger, clock and α changes; `opts` are the
   * options the run had (after a reload) or the form's (the button).
   */
  async function continueRun(opts: RunOptions, auto: boolean): Promise<void> {
    const err = byId('run-error');
    err.textContent = '';
    try {
      if (!auto) needsWorkers();
      resetRun();
      // the charts, counters and per-person figures go on from where the saved run was, not from zero
      const history = await loadHistory().catch(() => null);
      series.clear();
      if (history) series.load(history.series);
      setPhase('waiting');
      ctx.target = opts.target ?? ctx.target;
      const from = await coordinator.continueSaved(opts);
      markLive(opts);
      series.truncate(from.iteration);
      ctx.lastEpoch = series.epochs.at(-1);
      // the history saved with this very checkpoint matches it; an older one would count twice
      if (history?.iteration === from.iteration) {
        if (history.roster) ctx.roster.restore(history.roster);
        ctx.runStarted -= (history.seconds ?? 0) * 1000;
        for (const c of history.lrChanges ?? []) if (c.iteration <= from.iteration) lrChanges.push(c);
      }
      const lr = series.cols.lr.at(-1) ?? ctx.job.optimizer.lr;
      $manualLr.value = $projectorLr.value = String(lr);
      ctx.log(
        `${auto ? 'the run goes on by itself after the reload' : 'continuing the saved run'}: from epoch ${from.epoch + 1}, iteration ${from.iteration}`,
      );
      $continue.hidden = true;
    } catch (e) {
      setPhase('idle');
      err.textContent = (e as Error).message;
    }
  }

  $continue.addEventListener('click', () => {
    try {
      void continueRun(runOptions(), false);
    } catch (e) {
      byId('run-error').textContent = (e as Error).message;
    }
  });

  async function resumeIfLive(): Promise<boolean> {
    const opts = liveRun();
    if (!opts || ctx.phase !== 'idle') return false;
    const saved = await coordinator.savedRun().catch((e: Error) => {
      ctx.log(`the saved run could not be read: ${e.message}`);
      return null;
    });
    if (!saved) {
      sessionStorage.removeItem(LIVE_KEY);
      ctx.log('the run this tab had going left no checkpoint to continue from: start it again');
      return false;
    }
    restoreForm(ctx.form.root);
    // the run's own options, shown as they were chosen
    byId<HTMLInputElement>('everyone').checked = opts.planning === 'all';
    $local.checked = opts.local > 0;
    if (opts.local > 0) $localCount.value = String(opts.local);
    const { paused, ...runOpts } = opts;
    await continueRun(runOpts, true);
    if (paused && ctx.phase !== 'idle') await coordinator.pause();
    return true;
  }

  async function offerSavedRun(): Promise<void> {
    const s = await coordinator.savedRun().catch(() => null);
    $continue.hidden = !s;
    if (s)
      $continue.textContent = `Continue the saved run (epoch ${s.epoch + 1} of ${s.epochs}, iteration ${s.iteration})`;
  }

  function ended(m: Extract<HostEvent, { type: 'ended' }>): void {
    sessionStorage.removeItem(LIVE_KEY); // a reload after the end offers the saved run, it does not start it
    ctx.runSeconds = (performance.now() - ctx.runStarted) / 1000;
    ctx.roster.endRun();
    const failed = Boolean(m.error && ctx.phase !== 'stopping');
    if (failed) {
      setPhase('failed', m.error);
      byId('run-error').textContent = m.error ?? '';
    } else {
      ctx.finalAccuracy = m.testAccuracy;
      const acc = Number.isNaN(m.testAccuracy) ? '' : `Test accuracy ${(m.testAccuracy * 100).toFixed(1)}%.`;
      setPhase(m.stopped || m.error ? 'stopped' : 'done', acc);
      ctx.log(m.stopped || m.error ? 'run stopped' : `run done: ${acc}`);
    }
    hooks.onEnded(!failed);
    void offerSavedRun();
  }

  function pauseOrResume(): void {
    if (ctx.phase === 'paused') void coordinator.resume();
    else if (ctx.phase === 'running') void coordinator.pause();
  }
  $pause.addEventListener('click', pauseOrResume);
  byId('projector-pause').addEventListener('click', pauseOrResume);

  function stop(): void {
    setPhase('stopping');
    void coordinator.stop();
  }
  $stop.addEventListener('click', stop);
  byId('projector-stop').addEventListener('click', stop);

  async function setLr(input: HTMLInputElement): Promise<void> {
    const lr = Number(input.value);
    const err = byId('run-error');
    try {
      if (input.value.trim() === '' || !Number.isFinite(lr) || lr <= 0)
        throw new Error('The learning rate must be a number above 0, such as 0.001.');
      const from = await coordinator.setLearningRate(lr);
      lrChanges.push({ iteration: from, lr, pending: true });
      $manualLr.value = $projectorLr.value = String(lr);
      ctx.log(`α set by hand to ${lr} from iteration ${from}`);
      err.textContent = '';
    } catch (e) {
      err.textContent = (e as Error).message;
    }
  }
  byId<HTMLFormElement>('manual-lr-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void setLr($manualLr);
  });
  byId<HTMLFormElement>('projector-lr-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void setLr($projectorLr);
  });

  return {
    setPhase,
    ended,
    offerSavedRun,
    resumeIfLive,
    onIteration(e) {
      const c = lrChanges.at(-1);
      // an iteration already in flight when α changed keeps the α it started with
      if (c?.pending && e.iteration >= c.iteration && e.lr === c.lr) {
        c.iteration = e.iteration;
        c.pending = false;
      }
    },
    lrChanges: () => lrChanges.map(({ iteration, lr }) => ({ iteration, lr })),
    startJob: async (j, o) => {
      resetRun();
      series.clear();
      ctx.job = j;
      ctx.target = o.target ?? ctx.target;
      setPhase('waiting');
      await coordinator.start(j, o);
      markLive(o);
    },
  };
}
