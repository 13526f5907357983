/**
 * The host page. The coordinator (trainer, room host, peer links, aggregation) runs in a dedicated
 * Web Worker (src/coordinator-worker/); this page only sends it commands through comlink and renders
 * the events it sends back. Weights and gradients never reach this thread: WebRTC endpoints live
 * here only because Chromium has no RTCPeerConnection in workers, and their bytes pass through as
 * transferred buffers (peer-bridge.ts).
 *
 * Rendering does not grow with the run: events only append to the run's series (series.ts); the
 * charts, counters and worker table redraw from a timer, at most 4 times a second, from decimated
 * series, and not at all while the page is hidden.
 *
 * The room survives a reload: its token and host key stay in this tab's session storage and the
 * reloaded page hosts the same room again (the server keeps a room without a coordinator for a
 * while); volunteers reconnect by themselves.
 *
 * URL parameters: backend=webgpu|webgl|wasm|cpu (a list) for this tab's own Web Workers.
 * window.__host exposes the run's data and state for tests and the console.
 */
import 'uplot/dist/uPlot.min.css';
import '../host/host.css';
import type { EpochEvent, IterationEvent, JobConfig, PeerEvent } from '@gradroom/coordinator/browser';
import type { SimplePeerCtor } from '@gradroom/core';
import { type BackendName, FASHION_MNIST_CLASSES, parseBackendList } from '@gradroom/worker/catalog';
import * as Comlink from 'comlink';
import QRCode from 'qrcode';
// the self-contained browser build (it carries its own Buffer and stream polyfills); untyped
// @ts-expect-error: untyped module
import SimplePeer from 'simple-peer/simplepeer.min.js';
import { servePeerBridge } from '../coordinator-worker/peer-bridge.js';
import type { CoordinatorApi, HostEvent, RunOptions, RunTruth } from '../coordinator-worker/protocol.js';
import { HostCharts } from '../host/charts.js';
import { loadHistory, saveHistory } from '../host/history.js';
import { jobForm } from '../host/job-form.js';
import { drawPad, renderConfusion, renderPanel } from '../host/learned.js';
import type { CreatedRoom } from '../host/room.js';
import { Roster } from '../host/roster.js';
import { RunSeries } from '../host/series.js';
import { explainSpeed, speedRatio } from '../host/speed.js';
import { duration, renderWorkers, summaryCsv } from '../host/workers.js';
import { byId, el } from '../ui/dom.js';

type Phase = 'idle' | 'waiting' | 'running' | 'paused' | 'stopping' | 'done' | 'stopped' | 'failed';

const params = new URLSearchParams(location.search);
let localBackends: BackendName[] | undefined;
try {
  const b = params.get('backend');
  if (b) localBackends = parseBackendList(b);
} catch (e) {
  console.warn(`ignoring ?backend=: ${(e as Error).message}`);
}

// ---- the coordinator worker ------------------------------------------------------------------------

const worker = new Worker(new URL('coordinator.js', location.href), { type: 'module', name: 'coordinator' });
const coordinator = Comlink.wrap<CoordinatorApi>(worker);
const eventsChannel = new MessageChannel();
const peersChannel = new MessageChannel();
servePeerBridge(peersChannel.port1, SimplePeer as unknown as SimplePeerCtor);
void coordinator.init(
  Comlink.transfer(eventsChannel.port2, [eventsChannel.port2]),
  Comlink.transfer(peersChannel.port2, [peersChannel.port2]),
  location.href,
);
worker.addEventListener('error', (e) => {
  e.preventDefault();
  byId('run-error').textContent =
    `The coordinator stopped working: ${e.message || 'its script could not load'}. Reload the page.`;
});

const form = jobForm();
byId('job-form').append(form.root);
const series = new RunSeries();
const charts = new HostCharts(series);
const roster = new Roster();

const $create = byId<HTMLButtonElement>('create-room');
const $start = byId<HTMLButtonElement>('start');
const $continue = byId<HTMLButtonElement>('continue-run');
const $pause = byId<HTMLButtonElement>('pause');
const $stop = byId<HTMLButtonElement>('stop');
const $local = byId<HTMLInputElement>('local-workers');
const $localCount = byId<HTMLInputElement>('local-count');
const $manualLr = byId<HTMLInputElement>('manual-lr');
const $setLr = byId<HTMLButtonElement>('set-lr');
const $workers = byId<HTMLTableSectionElement>('workers');
const $log = byId('log');

let room: CreatedRoom | undefined;
let phase: Phase = 'idle';
let job: JobConfig = form.job();
let last: IterationEvent | undefined;
let lastEpoch: EpochEvent | undefined;
let runStarted = 0;
let runSeconds = 0;
let finalAccuracy = Number.NaN;
/** α set by hand, from the first iteration that used it (pending until that iteration is seen). */
const lrChanges: { iteration: number; lr: number; pending?: boolean }[] = [];
function settleLrChange(e: IterationEvent): void {
  const c = lrChanges.at(-1);
  // an iteration already in flight when α changed keeps the α it started with
  if (c?.pending && e.iteration >= c.iteration && e.lr === c.lr) {
    c.iteration = e.iteration;
    c.pending = false;
  }
}
/** Bumped by anything the counters or the table show; the timer redraws when it moved. */
let dirty = 1;

function log(line: string): void {
  const time = new Date().toLocaleTimeString('en-GB');
  $log.prepend(el('li', {}, el('time', {}, time), ' ', line));
  while ($log.childElementCount > 200) $log.lastElementChild?.remove();
}

// ---- events from the coordinator ------------------------------------------------------------------

/** A reason as a person reads it: without the layers' prefixes ("left the room: left: …"). */
function plainReason(r: string | undefined): string {
  let s = r ?? '';
  for (let i = 0; i < 4; i++) s = s.replace(/^(left the room|left|room server|channel closed): /, '');
  return s;
}

function onPeer(e: PeerEvent): void {
  if (e.type === 'joined' || e.type === 'accepted') {
    const p = roster.join(e.id, e.name, e.via, e.type === 'accepted');
    if (e.type === 'accepted')
      log(`${p.name} joined${p.sessions > 1 ? ' again' : ''} via ${e.via === 'relay' ? 'the relay' : 'WebRTC'}`);
  } else {
    const p = roster.get(e.id);
    const reason = plainReason(e.reason);
    if (e.type === 'rejected') log(`${p?.name ?? e.id} was turned away: ${reason}`);
    else log(`${p?.name ?? e.id} left${reason ? ` (${reason})` : ''}`);
    roster.leave(e.id, reason || 'left');
  }
  showPeople();
}

eventsChannel.port1.onmessage = (ev: MessageEvent<HostEvent>) => {
  const m = ev.data;
  switch (m.type) {
    case 'iteration':
      last = m.e;
      series.push(m.e);
      settleLrChange(m.e);
      // every iteration's snapshot: a student who leaves keeps the examples of their last shard
      roster.update(m.e.workers);
      break;
    case 'epoch':
      lastEpoch = m.e;
      series.pushEpoch(m.e);
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
      // the batch-size advice follows the room's measured workers (rounded: it changes little)
      form.setWorkers(
        m.list
          .filter((w) => w.status !== 'gone' && w.speed > 0 && w.fixedMs !== undefined)
          .map((w) => ({ fixedMs: Math.round(w.fixedMs ?? 0), msPerExample: Number((1000 / w.speed).toPrecision(2)) })),
      );
      break;
    case 'state':
      if (m.e.state === 'waiting') setPhase('waiting');
      else if (m.e.state === 'running' && phase !== 'stopping') setPhase('running');
      else if (m.e.state === 'paused') setPhase('paused');
      break;
    case 'run':
      job = m.job;
      for (const l of m.local) roster.local(l.id, l.name);
      break;
    case 'peer':
      onPeer(m.e);
      break;
    case 'log':
      log(m.line);
      break;
    case 'checkpoint':
      void saveHistory(series.record(), m.iteration);
      break;
    case 'ended':
      ended(m);
      break;
    case 'predictions':
      renderPanel(byId('panel'), m.epoch, m.panel, classNames());
      predictions = m.panel;
      break;
    case 'confusion':
      renderConfusion(byId('confusion'), m.matrix, classNames());
      confusion = m.matrix;
      break;
  }
  dirty++;
};

// ---- the room ---------------------------------------------------------------------------------------

const ROOM_KEY = 'gradroom-host-room';

function showPeople(): void {
  const n = roster.present().length;
  byId('room-people').textContent =
    n === 0
      ? 'No volunteers yet.'
      : `${n} volunteer${n === 1 ? '' : 's'} in the room${phase === 'idle' ? ', waiting for the run to start' : ''}.`;
  byId('projector-people').textContent = String(n);
  dirty++;
}

async function showRoom(created: CreatedRoom, again: boolean): Promise<void> {
  room = created;
  sessionStorage.setItem(ROOM_KEY, JSON.stringify(created));
  byId<HTMLInputElement>('join-link').value = created.joinUrl;
  byId('room-info').hidden = false;
  byId('qr-box').hidden = false;
  byId('room-key-row').hidden = true;
  for (const [id, width] of [
    ['qr', 232],
    ['projector-qr', 360],
  ] as const) {
    await QRCode.toCanvas(byId<HTMLCanvasElement>(id), created.joinUrl, {
      width,
      margin: 1,
      errorCorrectionLevel: 'M',
      color: { dark: '#1d2733', light: '#ffffff' },
    });
  }
  // the projector's code scales with its column (CSS), not with the size toCanvas writes inline
  byId('projector-qr').style.removeProperty('width');
  byId('projector-qr').style.removeProperty('height');
  byId('projector-link').textContent = created.joinUrl.replace(/#.*/, '#…');
  if (/^(localhost|127\.|\[::1\])/.test(location.hostname)) {
    const note = byId('lan-note');
    note.hidden = false;
    note.replaceChildren(
      'This link uses this computer’s local address, so it works in other tabs here. For a classroom, start the server with ',
      el('code', { class: 'nowrap' }, '--host 0.0.0.0'),
      ' and open this page through the computer’s network address.',
    );
  }
  $create.disabled = true;
  $create.textContent = 'Room created';
  log(again ? `room ${created.label} hosted again after a reload` : `room ${created.label} created`);
  showPeople();
}

byId<HTMLFormElement>('room-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (room) return;
  const err = byId('room-error');
  err.textContent = '';
  $create.disabled = true;
  try {
    const key = byId<HTMLInputElement>('room-key').value.trim() || undefined;
    await showRoom(await coordinator.openRoom(key), false);
  } catch (e) {
    $create.disabled = false;
    const message = (e as Error).message;
    if (/needs a room key/.test(message)) {
      byId('room-key-row').hidden = false;
      byId('room-key').focus();
    }
    err.textContent = message;
  }
});

/** After a reload: host the room this tab had, if the server still keeps it. */
async function hostAgain(): Promise<void> {
  const raw = sessionStorage.getItem(ROOM_KEY);
  if (!raw) return;
  let saved: CreatedRoom;
  try {
    saved = JSON.parse(raw) as CreatedRoom;
    if (typeof saved.token !== 'string' || typeof saved.hostKey !== 'string') throw new Error('bad');
  } catch {
    sessionStorage.removeItem(ROOM_KEY);
    return;
  }
  byId('room-error').textContent = '';
  $create.disabled = true;
  $create.textContent = 'Reconnecting to the room…';
  // the server may not yet have seen the old connection close: try a few times
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await showRoom(await coordinator.openRoom(undefined, saved), true);
      return;
    } catch (e) {
      const message = (e as Error).message;
      if (!/already has a coordinator/.test(message)) {
        sessionStorage.removeItem(ROOM_KEY);
        byId('room-error').textContent =
          `The room of the last session could not be hosted again (${message}). Create a new one.`;
        break;
      }
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
  $create.disabled = false;
  $create.textContent = 'Create a room';
}

byId('copy-link').addEventListener('click', async () => {
  const input = byId<HTMLInputElement>('join-link');
  try {
    await navigator.clipboard.writeText(input.value);
    byId('copy-link').textContent = 'Copied';
  } catch {
    input.select(); // no clipboard permission: select it for Ctrl-C
  }
});

// ---- the run ------------------------------------------------------------------------------------------

function setPhase(p: Phase, detail = ''): void {
  phase = p;
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
  byId<HTMLInputElement>('projector-lr').disabled = byId<HTMLButtonElement>('projector-set-lr').disabled =
    !live || p === 'stopping';
  form.setRunning(live);
  $local.disabled = $localCount.disabled = live;
  const words: Record<Phase, string> = {
    idle: 'Not started.',
    waiting: 'Waiting for a worker to join…',
    running: 'Training.',
    paused: 'Paused: no new iterations until you resume.',
    stopping: 'Stopping after the iteration in flight…',
    done: 'Done.',
    stopped: 'Stopped.',
    failed: 'The run failed.',
  };
  byId('run-state').textContent = `${words[p]}${detail ? ` ${detail}` : ''}`;
  document.body.dataset.phase = p;
  dirty++;
}

function runOptions(): RunOptions {
  const n = $local.checked ? Math.max(1, Math.min(8, Math.trunc(Number($localCount.value)) || 1)) : 0;
  const everyone = (document.getElementById('everyone') as HTMLInputElement).checked;
  return { local: n, backends: localBackends, planning: everyone ? 'all' : 'cost' };
}

function resetRun(): void {
  last = lastEpoch = undefined;
  finalAccuracy = Number.NaN;
  lrChanges.length = 0;
  roster.newRun();
  byId('summary').hidden = true;
  byId('confusion').replaceChildren();
  confusion = undefined;
  runStarted = performance.now();
  runSeconds = 0;
}

$start.addEventListener('click', async () => {
  const err = byId('run-error');
  err.textContent = '';
  try {
    const j = form.job();
    if (!room && !$local.checked) throw new Error('Create a room for volunteers, or tick “This tab trains too”.');
    resetRun();
    series.clear();
    job = j;
    $manualLr.value = byId<HTMLInputElement>('projector-lr').value = String(j.optimizer.lr);
    setPhase('waiting');
    await coordinator.start(j, runOptions());
    log(`run started: ${j.optimizer.kind}, α = ${j.optimizer.lr}, mini-batch ${j.batchSize}, ${j.epochs} epoch(s)`);
    $continue.hidden = true;
  } catch (e) {
    setPhase('idle');
    err.textContent = (e as Error).message;
  }
});

$continue.addEventListener('click', async () => {
  const err = byId('run-error');
  err.textContent = '';
  try {
    if (!room && !$local.checked) throw new Error('Create a room for volunteers, or tick “This tab trains too”.');
    resetRun();
    // the charts and counters go on from where the saved run was, not from zero
    const history = await loadHistory().catch(() => null);
    series.clear();
    if (history) series.load(history.series);
    setPhase('waiting');
    const from = await coordinator.continueSaved(runOptions());
    series.truncate(from.iteration);
    lastEpoch = series.epochs.at(-1);
    log(`continuing the saved run from epoch ${from.epoch + 1}, iteration ${from.iteration}`);
    $continue.hidden = true;
  } catch (e) {
    setPhase('idle');
    err.textContent = (e as Error).message;
  }
});

/** Offers the saved run, if this browser has one. */
async function offerSavedRun(): Promise<void> {
  const s = await coordinator.savedRun().catch(() => null);
  $continue.hidden = !s;
  if (s)
    $continue.textContent = `Continue the saved run (epoch ${s.epoch + 1} of ${s.epochs}, iteration ${s.iteration})`;
}

function ended(m: Extract<HostEvent, { type: 'ended' }>): void {
  runSeconds = (performance.now() - runStarted) / 1000;
  roster.endRun();
  if (m.error && phase !== 'stopping') {
    setPhase('failed', m.error);
    byId('run-error').textContent = m.error;
  } else {
    finalAccuracy = m.testAccuracy;
    const acc = Number.isNaN(m.testAccuracy) ? '' : `Test accuracy ${(m.testAccuracy * 100).toFixed(1)}%.`;
    setPhase(m.stopped || m.error ? 'stopped' : 'done', acc);
    log(m.stopped || m.error ? 'run stopped' : `run done: ${acc}`);
    showSummary();
  }
  void offerSavedRun();
  showPeople();
  render(true);
}

function pauseOrResume(): void {
  if (phase === 'paused') void coordinator.resume();
  else if (phase === 'running') void coordinator.pause();
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
    $manualLr.value = byId<HTMLInputElement>('projector-lr').value = String(lr);
    log(`α set by hand to ${lr} from iteration ${from}`);
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
  void setLr(byId<HTMLInputElement>('projector-lr'));
});

byId<HTMLInputElement>('bias-correction').addEventListener('change', (e) => {
  charts.setBiasCorrection((e.target as HTMLInputElement).checked);
});
byId<HTMLInputElement>('log-scale').addEventListener('change', (e) => {
  charts.setLogScale((e.target as HTMLInputElement).checked);
});

// ---- what the model learned ------------------------------------------------------------------------

let predictions: Extract<HostEvent, { type: 'predictions' }>['panel'] | undefined;
let confusion: number[][] | undefined;
let drawn_: number[] | undefined;
function classNames(): readonly string[] {
  return job.dataset.kind === 'fashion-mnist'
    ? FASHION_MNIST_CLASSES
    : ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
}
const pad = drawPad(byId<HTMLCanvasElement>('draw-pad'), () => void classifyDrawing());
async function classifyDrawing(): Promise<void> {
  const out = byId('draw-result');
  try {
    const p = await coordinator.classify(Comlink.transfer(pad.pixels(), []));
    drawn_ = p;
    const order = p.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]);
    const names = classNames();
    out.textContent = `Looks like ${names[order[0][1]]} (${Math.round(order[0][0] * 100)}%), then ${names[order[1][1]]} (${Math.round(order[1][0] * 100)}%).`;
  } catch (e) {
    out.textContent = (e as Error).message;
  }
}
byId('draw-clear').addEventListener('click', () => {
  pad.clear();
  drawn_ = undefined;
  byId('draw-result').textContent = 'The current weights classify it when you lift the pen.';
});

// ---- projector view -----------------------------------------------------------------------------

function setProjector(on: boolean): void {
  document.body.classList.toggle('projector', on);
  byId('projector-toggle').setAttribute('aria-pressed', String(on));
  byId('projector-toggle').textContent = on ? 'Leave projector view' : 'Projector view';
  const u = new URL(location.href);
  if (on) u.searchParams.set('view', 'projector');
  else u.searchParams.delete('view');
  history.replaceState(null, '', u);
  // the charts follow their new boxes
  requestAnimationFrame(() => {
    for (const c of charts.all) c.resize();
  });
}
byId('projector-toggle').addEventListener('click', () => setProjector(!document.body.classList.contains('projector')));

// ---- summary and exports --------------------------------------------------------------------------

function download(name: string, blob: Blob): void {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function summaryText(): string {
  return summaryCsv(roster, { examples: series.steps, seconds: runSeconds, testAccuracy: finalAccuracy });
}

function showSummary(): void {
  const box = byId('summary');
  box.hidden = false;
  const people = roster.list();
  const total = people.reduce((a, p) => a + roster.examples(p), 0);
  const acc = Number.isFinite(finalAccuracy) ? `${(finalAccuracy * 100).toFixed(1)}%` : '—';
  byId('summary-room').textContent =
    `${series.length.toLocaleString('en')} iterations, ${series.steps.toLocaleString('en')} examples (steps) in ${duration(runSeconds * 1000)}; test accuracy ${acc}; ${people.filter((p) => !p.local).length} student(s) and ${people.filter((p) => p.local).length} Web Worker(s) of this tab.`;
  byId('summary-people').replaceChildren(
    ...people.map((p) => {
      const ex = roster.examples(p);
      return el(
        'tr',
        {},
        el('th', { scope: 'row' }, p.name),
        el('td', {}, p.backend || '—'),
        el('td', {}, ex.toLocaleString('en')),
        el('td', {}, total > 0 ? `${((ex / total) * 100).toFixed(1)}%` : '—'),
        el('td', {}, duration(roster.ms(p))),
      );
    }),
  );
}

byId('export-summary').addEventListener('click', () =>
  download('gradroom-summary.csv', new Blob([summaryText()], { type: 'text/csv' })),
);
byId('export-series').addEventListener('click', () =>
  download('gradroom-run.csv', new Blob([series.iterationsCsv()], { type: 'text/csv' })),
);
byId('export-png').addEventListener('click', async () => {
  try {
    download(
      'gradroom-charts.png',
      await charts.png(`gradroom run: ${job.optimizer.kind}, mini-batch ${job.batchSize}`),
    );
  } catch (e) {
    byId('run-error').textContent = (e as Error).message;
  }
});

byId('export-model').addEventListener('click', async () => {
  try {
    // model.json and its weights file: tf.loadLayersModel('…/model.json') loads the pair
    const m = await coordinator.exportModel();
    download('model.json', new Blob([m.modelJson], { type: 'application/json' }));
    download('model.weights.bin', new Blob([m.weights], { type: 'application/octet-stream' }));
  } catch (e) {
    byId('run-error').textContent = (e as Error).message;
  }
});

// ---- rendering ------------------------------------------------------------------------------------------

/** The render timer: counters on every second tick, charts on every fourth, the table at most once a second. */
const RENDER_MS = 250;
let ticks = 0;
let drawn = 0;

function text(id: string, value: string): void {
  const n = byId(id);
  if (n.textContent !== value) n.textContent = value;
}

let tableAt = 0;
let tableDrawn = 0;
function render(force = false): void {
  if (!force && document.hidden) return; // nobody sees it; the next visible tick catches up
  // counters twice a second, charts and the worker table once: each change costs a repaint, and
  // on a laptop without a GPU that repaint takes CPU from the training in the same machine
  if (!force && ticks++ % 2 === 1) return;
  if (force || ticks % 4 === 1) charts.render(force);
  if (force || (tableDrawn !== dirty && performance.now() - tableAt >= 1000)) {
    tableAt = performance.now();
    tableDrawn = dirty;
    renderWorkers($workers, roster, { running: phase === 'running' || phase === 'waiting' || phase === 'paused' });
  }
  if (!force && drawn === dirty) return;
  drawn = dirty;
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
setPhase('idle');
render(true);
if (params.get('view') === 'projector') setProjector(true);
void offerSavedRun();
void hostAgain();

// ---- for tests and the console -----------------------------------------------------------------------------

declare global {
  interface Window {
    __host?: {
      phase(): Phase;
      joinUrl(): string | null;
      volunteers(): number;
      /** The full series: [iterations, loss, smoothed loss] */
      loss(): number[][];
      /** [epochs, test accuracy, training accuracy] */
      accuracy(): number[][];
      /** [iterations, learning rate] */
      lr(): number[][];
      /** [iterations, room examples/s, fastest member alone] */
      speed(): number[][];
      /** [iterations, compute, transfer, wait, step] (ms) */
      timing(): number[][];
      /** What each chart draws now: its points, and its last point. */
      drawn(): Record<'loss' | 'accuracy' | 'lr' | 'speed' | 'timing', number> & { last: Record<string, number[]> };
      iteration(): number;
      steps(): number;
      lrChanges(): { iteration: number; lr: number }[];
      workers(): {
        id?: string;
        name: string;
        backend?: string;
        speed: number;
        share: number;
        examples: number;
        status: string;
      }[];
      /** The last panel of test digits with the model's answers, the confusion matrix, the drawn digit's probabilities. */
      predictions(): { labels: number[]; predicted: number[]; confidence: number[] } | null;
      confusion(): number[][] | null;
      drawing(): number[] | null;
      seriesCsv(): string;
      summaryCsv(): string;
      /** The loss chart's y scale as drawn: kind (1 linear, 3 log) and range. */
      lossScale(): { distr: number; min: number; max: number };
      /** The trainer's own account, from the coordinator worker (iteration times from `since`). */
      truth(since?: number): Promise<RunTruth>;
      /** Starts a run of `job` as the Start button does, without the form (bench, console). */
      startJob(job: JobConfig, opts: RunOptions): Promise<void>;
      /** Times the charts were redrawn since the page loaded. */
      redraws(): number;
      /** Worker -> page -> worker through the WebRTC bridge (bench). */
      measureBridge(mb: number): Promise<{ mbPerSec: number; msPerChunk: number }>;
    };
  }
}
window.__host = {
  phase: () => phase,
  joinUrl: () => room?.joinUrl ?? null,
  volunteers: () => roster.present().length,
  loss: () => {
    const c = series.cols;
    return [
      c.iteration,
      c.loss,
      charts.loss.plot.series[2].label?.toString().includes('no bias') ? c.lossSmoothedRaw : c.lossSmoothed,
    ].map((x) => [...x]);
  },
  accuracy: () => [
    series.epochs.map((e) => e.epoch + 1),
    series.epochs.map((e) => e.testAccuracy),
    series.epochs.map((e) => e.trainAccuracy),
  ],
  lr: () => [[...series.cols.iteration], [...series.cols.lr]],
  speed: () => [
    [...series.cols.iteration],
    [...series.cols.examplesPerSec],
    [...series.cols.fastestAloneExamplesPerSec],
  ],
  timing: () => {
    const c = series.cols;
    return [c.iteration, c.computeMs, c.transferMs, c.waitMs, c.stepMs].map((x) => [...x]);
  },
  drawn: () => {
    const n = (c: { shown: number[][] }) => c.shown[0]?.length ?? 0;
    const lastOf = (c: { shown: number[][] }) => c.shown.map((col) => Number(col.at(-1)));
    return {
      loss: n(charts.loss),
      accuracy: n(charts.accuracy),
      lr: n(charts.lr),
      speed: n(charts.speed),
      timing: n(charts.timing),
      last: {
        loss: lastOf(charts.loss),
        accuracy: lastOf(charts.accuracy),
        lr: lastOf(charts.lr),
        speed: lastOf(charts.speed),
        timing: lastOf(charts.timing),
      },
    };
  },
  iteration: () => last?.iteration ?? 0,
  steps: () => series.steps,
  lrChanges: () => lrChanges.map(({ iteration, lr }) => ({ iteration, lr })),
  workers: () =>
    roster.list().map((p) => ({
      id: p.id,
      name: p.name,
      backend: p.backend,
      speed: p.status?.speed ?? 0,
      share: p.status?.share ?? 0,
      examples: roster.examples(p),
      status: p.left ? 'left' : (p.status?.status ?? 'waiting'),
    })),
  predictions: () => predictions ?? null,
  confusion: () => confusion ?? null,
  drawing: () => drawn_ ?? null,
  seriesCsv: () => series.iterationsCsv(),
  summaryCsv: summaryText,
  lossScale: () => {
    const y = charts.loss.plot.scales.y;
    return { distr: y.distr ?? 1, min: y.min ?? Number.NaN, max: y.max ?? Number.NaN };
  },
  truth: (since) => coordinator.truth(since),
  startJob: async (j, o) => {
    resetRun();
    series.clear();
    job = j;
    setPhase('waiting');
    await coordinator.start(j, o);
  },
  redraws: () => charts.redraws,
  measureBridge: (mb) => coordinator.measureBridge(mb),
};
