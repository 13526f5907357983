/**
 * The host page: the coordinator runs in this tab. Create a room (POST /api/rooms on this origin),
 * share its link and QR code, choose the job, start, pause, resume or stop the run, lower the
 * learning rate by hand, and watch loss, accuracy, learning rate, speed and every worker's share.
 *
 * URL parameters: backend=webgpu|webgl|wasm|cpu (a list) for this tab's own Web Workers.
 * window.__host exposes the plotted data and the run's state for tests and the console.
 */
import 'uplot/dist/uPlot.min.css';
import '../host/host.css';
import {
  decodeCheckpoint,
  type EpochEvent,
  IndexedDbCheckpointStore,
  type IterationEvent,
  spawnWebWorker,
  Trainer,
  type WorkerHandle,
  type WorkerStatus,
} from '@gradroom/coordinator/browser';
import { type BackendName, parseBackendList } from '@gradroom/worker/catalog';
import QRCode from 'qrcode';
import { HostCharts } from '../host/charts.js';
import { jobForm } from '../host/job-form.js';
import { createRoom, HostedRoom, type HostedRoom as Room, RoomKeyRequired } from '../host/room.js';
import { renderWorkers, type WorkerRow } from '../host/workers.js';
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

const form = jobForm();
byId('job-form').append(form.root);
const charts = new HostCharts();

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

let room: Room | undefined;
let trainer: Trainer | undefined;
let phase: Phase = 'idle';
let job = form.job();
let last: IterationEvent | undefined;
let lastEpoch: EpochEvent | undefined;
let steps = 0;
let localHandles: WorkerHandle[] = [];
const localNames = new Map<string, string>();
const lrChanges: { iteration: number; lr: number }[] = [];

function log(line: string): void {
  const time = new Date().toLocaleTimeString('en-GB');
  $log.prepend(el('li', {}, `${time} ${line}`));
  while ($log.childElementCount > 200) $log.lastElementChild?.remove();
}

// ---- the room ---------------------------------------------------------------------------------------

function showPeople(): void {
  const n = room?.volunteers.size ?? 0;
  byId('room-people').textContent =
    n === 0
      ? 'No volunteers yet.'
      : `${n} volunteer${n === 1 ? '' : 's'} in the room${trainer ? '' : ', waiting for the run to start'}.`;
  scheduleRender();
}

byId<HTMLFormElement>('room-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (room) return;
  const err = byId('room-error');
  err.textContent = '';
  $create.disabled = true;
  try {
    const key = byId<HTMLInputElement>('room-key').value.trim() || undefined;
    const created = await createRoom(key);
    const r = new HostedRoom(
      created,
      (e) => {
        if (e.type === 'accepted')
          log(`volunteer ${e.name ?? ''} (${e.id}) joined via ${e.via === 'relay' ? 'the relay' : 'WebRTC'}`);
        if (e.type === 'left') log(`volunteer ${e.name ?? ''} (${e.id}) left: ${e.reason ?? ''}`);
        if (e.type === 'rejected') log(`volunteer ${e.id} rejected: ${e.reason ?? ''}`);
        showPeople();
      },
      (line) => console.log(`[room] ${line}`),
    );
    await r.open();
    room = r;
    if (trainer) room.attach(trainer);
    byId<HTMLInputElement>('join-link').value = created.joinUrl;
    byId('room-info').hidden = false;
    byId('qr-box').hidden = false;
    byId('room-key-row').hidden = true;
    await QRCode.toCanvas(byId<HTMLCanvasElement>('qr'), created.joinUrl, {
      width: 232,
      margin: 1,
      errorCorrectionLevel: 'M',
      color: { dark: '#1d2733', light: '#ffffff' },
    });
    if (/^(localhost|127\.|\[::1\])/.test(location.hostname)) {
      const note = byId('lan-note');
      note.hidden = false;
      note.textContent =
        'This link uses this computer’s local address, so it works in other tabs here. For a classroom, start the server with --host 0.0.0.0 and open this page through the computer’s network address.';
    }
    $create.textContent = 'Room created';
    log(`room ${created.label} created`);
    showPeople();
  } catch (e) {
    $create.disabled = false;
    if (e instanceof RoomKeyRequired) {
      byId('room-key-row').hidden = false;
      byId('room-key').focus();
    }
    err.textContent = (e as Error).message;
  }
});

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
  $pause.disabled = !(p === 'running' || p === 'paused');
  $pause.textContent = p === 'paused' ? 'Resume' : 'Pause';
  $pause.setAttribute('aria-pressed', String(p === 'paused'));
  $stop.disabled = !live || p === 'stopping';
  $manualLr.disabled = $setLr.disabled = !live || p === 'stopping';
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
}

function startLocalWorkers(t: Trainer): void {
  const n = Math.max(1, Math.min(8, Math.trunc(Number($localCount.value)) || 1));
  for (let i = 0; i < n; i++) {
    const h = spawnWebWorker(new URL(`worker.js?data=${new URL('data/', location.href).pathname}`, location.href), {
      name: `this tab #${i + 1}`,
    });
    localNames.set(h.id, `This tab, Web Worker ${i + 1}`);
    localHandles.push(h);
    t.addWorker(h).catch((e) => log(`Web Worker ${i + 1} could not be set up: ${(e as Error).message}`));
  }
}

/**
 * The run saves a checkpoint in this browser (IndexedDB) after every epoch and when stopped, so a
 * reloaded or closed host tab can continue it exactly where it was.
 */
const saved = new IndexedDbCheckpointStore({ key: 'host-run' });
const trainerOptions = () => ({
  waitForWorkers: true,
  backends: localBackends,
  wasmPaths: new URL('wasm/', location.href).href,
  checkpoint: { store: saved },
});

$start.addEventListener('click', () => {
  const err = byId('run-error');
  err.textContent = '';
  try {
    const j = form.job();
    if (!room && !$local.checked) throw new Error('Create a room for volunteers, or tick “This tab trains too”.');
    begin(new Trainer(j, trainerOptions()));
  } catch (e) {
    err.textContent = (e as Error).message;
  }
});

$continue.addEventListener('click', async () => {
  const err = byId('run-error');
  err.textContent = '';
  try {
    const bytes = await saved.load();
    if (!bytes) throw new Error('There is no saved run in this browser.');
    if (!room && !$local.checked) throw new Error('Create a room for volunteers, or tick “This tab trains too”.');
    const t = Trainer.fromCheckpoint(bytes, trainerOptions());
    log(`continuing the saved run from epoch ${t.position.epoch + 1}, iteration ${t.position.iteration}`);
    begin(t);
  } catch (e) {
    err.textContent = (e as Error).message;
  }
});

/** Offers the saved run, if this browser has one. */
async function offerSavedRun(): Promise<void> {
  const bytes = await saved.load().catch(() => null);
  $continue.hidden = !bytes;
  if (!bytes) return;
  const c = decodeCheckpoint(bytes);
  $continue.textContent = `Continue the saved run (epoch ${c.position.epoch + 1} of ${c.job.epochs}, iteration ${c.position.iteration})`;
}
void offerSavedRun();

/** Wires a trainer (new, or continued from a checkpoint) to the page and runs it. */
function begin(t: Trainer): void {
  const err = byId('run-error');
  job = t.job;
  trainer = t;
  charts.clear();
  last = lastEpoch = undefined;
  for (const id of ['count-epoch', 'count-iteration', 'count-steps', 'count-loss', 'count-accuracy'])
    byId(id).textContent = '—';
  byId('count-lr').textContent = `α = ${job.optimizer.lr}`;
  byId('count-batch').textContent = 'one mini-batch, one update';
  steps = 0;
  lrChanges.length = 0;
  $manualLr.value = String(job.optimizer.lr);
  t.on('iteration', (e) => {
    last = e;
    steps += e.examples;
    charts.iteration(e);
    scheduleRender();
  });
  t.on('epoch', (e) => {
    lastEpoch = e;
    charts.epoch(e);
    log(
      `epoch ${e.epoch + 1} done: test accuracy ${(e.testAccuracy * 100).toFixed(1)}%, test loss ${e.testLoss.toFixed(3)}`,
    );
    scheduleRender();
  });
  t.on('worker', (e) => {
    if (e.type !== 'joined') log(`worker ${localNames.get(e.id) ?? e.id} ${e.type}${e.reason ? `: ${e.reason}` : ''}`);
    scheduleRender();
  });
  t.on('state', (s) => {
    if (s.state === 'waiting') setPhase('waiting');
    else if (s.state === 'running' && phase !== 'stopping') setPhase('running');
    else if (s.state === 'paused') setPhase('paused');
  });
  room?.attach(t);
  if ($local.checked) startLocalWorkers(t);
  setPhase('waiting');
  showPeople();
  log(
    `run started: ${job.optimizer.kind}, α = ${job.optimizer.lr}, mini-batch ${job.batchSize}, ${job.epochs} epoch(s)`,
  );
  $continue.hidden = true;
  t.run()
    .then(
      async (r) => {
        // a finished run is not offered again; a stopped one is, at once
        if (!r.stopped) await saved.clear().catch(() => {});
        await offerSavedRun();
        const acc = Number.isNaN(r.testAccuracy) ? '' : `Test accuracy ${(r.testAccuracy * 100).toFixed(1)}%.`;
        setPhase(r.stopped ? 'stopped' : 'done', acc);
        log(r.stopped ? 'run stopped' : `run done: ${acc}`);
      },
      (e: unknown) => {
        const stopped = phase === 'stopping';
        setPhase(stopped ? 'stopped' : 'failed', stopped ? '' : (e as Error).message);
        if (!stopped) err.textContent = (e as Error).message;
      },
    )
    .finally(() => {
      room?.detach();
      for (const h of localHandles) void h.close('the run ended').catch(() => {});
      localHandles = [];
      showPeople();
    });
}

$pause.addEventListener('click', () => {
  if (!trainer) return;
  if (phase === 'paused') trainer.resume();
  else trainer.pause();
});

$stop.addEventListener('click', () => {
  if (!trainer) return;
  setPhase('stopping');
  trainer.stop();
});

byId<HTMLFormElement>('manual-lr-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (!trainer) return;
  const lr = Number($manualLr.value);
  try {
    trainer.setLearningRate(lr);
    const from = trainer.position.iteration + 1;
    lrChanges.push({ iteration: from, lr });
    log(`α set by hand to ${lr} from iteration ${from}`);
    byId('run-error').textContent = '';
  } catch (e) {
    byId('run-error').textContent = (e as Error).message;
  }
});

byId<HTMLInputElement>('bias-correction').addEventListener('change', (e) => {
  charts.setBiasCorrection((e.target as HTMLInputElement).checked);
});

// ---- rendering ------------------------------------------------------------------------------------------

let renderPending = false;
let lastCounters = 0;
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function workerRows(): WorkerRow[] {
  const rows: WorkerRow[] = [];
  const live = new Map((trainer ? trainer.pool.status() : []).map((w) => [w.id, w]));
  // the last iteration's snapshot, with the pool's newer word on each worker still in it
  const ids = [...new Set([...(last?.workers ?? []).map((w) => w.id), ...live.keys()])];
  const ended = phase === 'done' || phase === 'stopped' || phase === 'failed';
  for (const id of ids) {
    const w = { ...last?.workers.find((x) => x.id === id), ...live.get(id) } as WorkerStatus;
    const local = localNames.has(id);
    const v = room?.seen.get(id);
    const gone = !live.has(id);
    rows.push({
      ...w,
      id,
      status: gone ? undefined : w.status,
      note: gone ? (ended && (local || v) ? 'finished' : 'left') : undefined,
      name: localNames.get(id) ?? v?.name ?? id,
      where: local
        ? 'Web Worker in this tab'
        : `volunteer tab, ${v?.via === 'relay' ? 'relayed by the server' : 'WebRTC'}`,
    });
  }
  for (const v of room?.volunteers.values() ?? []) {
    if (ids.includes(v.id)) continue;
    rows.push({
      id: v.id,
      name: v.name,
      where: `volunteer tab${v.via ? `, ${v.via === 'relay' ? 'relayed by the server' : 'WebRTC'}` : ''}`,
      note: trainer && !ended ? 'joining' : 'waiting for a run',
    });
  }
  return rows;
}

function render(): void {
  renderWorkers($workers, workerRows());
  // counters change every iteration; a screen reader hears them at most once a second
  const now = performance.now();
  if (now - lastCounters < 1000 && phase === 'running') {
    setTimeout(scheduleRender, 1000 - (now - lastCounters));
    return;
  }
  lastCounters = now;
  if (last) {
    byId('count-epoch').textContent = `${Math.min(last.epoch + 1, job.epochs)} of ${job.epochs}`;
    byId('count-iteration').textContent = last.iteration.toLocaleString('en');
    byId('count-batch').textContent = `mini-batch ${last.batch + 1} of ${last.batchesPerEpoch} in this epoch`;
    byId('count-steps').textContent = steps.toLocaleString('en');
    byId('count-loss').textContent = last.lossSmoothed.toFixed(4);
    byId('count-lr').textContent = `α = ${last.lr.toPrecision(3)}`;
  }
  if (lastEpoch) byId('count-accuracy').textContent = `${(lastEpoch.testAccuracy * 100).toFixed(1)}%`;
}
render();
setPhase('idle');

// ---- for tests and the console -----------------------------------------------------------------------------

declare global {
  interface Window {
    __host?: {
      phase(): Phase;
      joinUrl(): string | null;
      volunteers(): number;
      /** uPlot's data: [iterations, loss, smoothed loss] */
      loss(): number[][];
      /** [epochs, test accuracy, training accuracy] */
      accuracy(): number[][];
      /** [iterations, learning rate] */
      lr(): number[][];
      speed(): number[][];
      /** What uPlot draws now (after its last redraw), to check the charts follow the data. */
      drawn(): { loss: number; accuracy: number; lr: number };
      iteration(): number;
      lrChanges(): { iteration: number; lr: number }[];
      workers(): WorkerRow[];
    };
  }
}
window.__host = {
  phase: () => phase,
  joinUrl: () => room?.room.joinUrl ?? null,
  volunteers: () => room?.accepted ?? 0,
  loss: () => charts.loss.data(),
  accuracy: () => charts.accuracy.data(),
  lr: () => charts.lr.data(),
  speed: () => charts.speed.data(),
  drawn: () => ({
    loss: charts.loss.plot.data[0].length,
    accuracy: charts.accuracy.plot.data[0].length,
    lr: charts.lr.plot.data[0].length,
  }),
  iteration: () => last?.iteration ?? 0,
  lrChanges: () => [...lrChanges],
  workers: workerRows,
};
