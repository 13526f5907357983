/**
 * The volunteer page: join a room by its link (the token rides in the URL's #fragment, so it never
 * reaches a server log), compute in a Web Worker, show the room's progress as this tab hears it
 * (epoch, iteration, smoothed training loss and the number of workers, sent after every iteration)
 * and this tab's contribution (backend, speed, share, examples), pause or leave.
 *
 * The room protocol has no pause: Pause leaves the room and Resume joins it again with the same
 * token (a fresh Web Worker; the coordinator plans this tab's share on the others meanwhile).
 *
 * When the host reloads (or has not opened the room yet) the tab keeps trying to join, with backoff
 * and a bounded number of attempts, and says "the host is reconnecting". The student's name is
 * asked once and remembered in this browser; the host's table shows it.
 *
 * URL parameters (query or fragment): room=TOKEN, backend=webgpu|webgl|wasm|cpu (a list, comma
 * separated, tried in order), relay=always (skip WebRTC, use the server's relay), name=NAME.
 */
import '../host/host.css';
import '../volunteer/volunteer.css';
import type { WorkerInfo } from '@gradroom/worker';
import { type BackendName, parseBackendList } from '@gradroom/worker/catalog';
import {
  joinRoom,
  type SimplePeerCtor,
  type Volunteer,
  type VolunteerStatus,
  type WebSocketCtor,
  type WebWorkerEngine,
  webWorkerEngine,
} from '@gradroom/worker/peer';
// the self-contained browser build (it carries its own Buffer and stream polyfills); it has no
// typings of its own and is used through SimplePeerCtor below
// @ts-expect-error: untyped module
import SimplePeer from 'simple-peer/simplepeer.min.js';
import { speedText } from '../host/format.js';
import { drawPad } from '../host/learned.js';
import { backoffMs, MAX_ATTEMPTS, shouldRetry } from '../host/reconnect.js';
import { cleanName } from '../host/roster.js';
import { Contribution, drawContribution } from '../volunteer/contribution.js';
import '../volunteer/drawings.css';
import { mountDrawTrain } from '../volunteer/draw-train.js';
import { DrawingSet } from '../volunteer/drawing-set.js';
import { plainStatus } from '../volunteer/words.js';

const params = new URLSearchParams(location.search);
for (const [k, v] of new URLSearchParams(location.hash.slice(1))) params.set(k, v);

type PageState = VolunteerStatus['state'] | 'idle' | 'paused';
const $ = (id: string) => document.getElementById(id) as HTMLElement;
const $pause = $('pause') as HTMLButtonElement;
const $leave = $('leave') as HTMLButtonElement;

let volunteer: Volunteer | undefined;
let pageState: PageState = 'idle';
/** Examples and shards of earlier sessions (before a pause), so the totals survive one. */
const earlier = { examples: 0, shards: 0 };
let lastSummary = 0;
const contribution = new Contribution();
/**
 * Examples per second while computing, smoothed as the host smooths it (EWA 0.7/0.3 over shards,
 * the first shard left out: it pays for warm-up), so both pages show the same figure for this tab.
 */
let speed = 0;
let speedShards = 0;
let lastShards = 0;

function setState(state: PageState, text: string): void {
  pageState = state;
  const line = $('status');
  line.textContent = text;
  line.dataset.state = state;
}

/**
 * Status updates come with every shard and every iteration's share; the page draws the latest at
 * most 4 times a second (its compute is in a Web Worker, and its UI must not take the CPU from it).
 */
let pending: VolunteerStatus | undefined;
let drawTimer: ReturnType<typeof setTimeout> | undefined;
let lastDraw = 0;
const show = (s: VolunteerStatus) => {
  pending = s;
  const now = performance.now();
  // state changes (joined, left) show at once; numbers wait for the next slot
  if (s.state !== shownState || now - lastDraw >= 250) return draw();
  drawTimer ??= setTimeout(draw, 250 - (now - lastDraw));
};
let shownState = '';
/** When the room's iteration count last moved (a pause or the end shows as a long silence). */
let iterationAt = 0;
let lastIteration = 0;

function draw(): void {
  clearTimeout(drawTimer);
  drawTimer = undefined;
  lastDraw = performance.now();
  const s = pending;
  if (!s) return;
  shownState = s.state;
  if (s.iteration !== lastIteration) {
    lastIteration = s.iteration;
    iterationAt = performance.now();
  }
  // plain words on the page; the coordinator's own figures go to the technical fold
  if (pageState !== 'paused') setState(s.state, plainStatus(s));
  $('backend').textContent = s.backend || '—';
  $('via').textContent = s.via === 'direct' ? 'direct (WebRTC)' : s.via === 'relay' ? 'through the room server' : '—';
  if (s.shards !== lastShards) {
    lastShards = s.shards;
    if (++speedShards > 1 && s.examplesPerSec > 0)
      speed = speed <= 0 ? s.examplesPerSec : 0.7 * speed + 0.3 * s.examplesPerSec;
  }
  // the coordinator's figure for this tab when it has one: the host's table shows the same number
  const shown = s.roomSpeed ?? speed;
  // not from a probe or a few tiny shards: their time is mostly latency (the same rule as the host's)
  $('speed').textContent = s.examples === 0 ? '—' : speedText(shown, s.examples);
  $('share').textContent = s.standby
    ? '0% (waiting)'
    : s.workers > 0
      ? `${(s.share * 100).toFixed(1)}% (${s.workers === 1 ? 'all of it' : `split ${s.workers} ways`})`
      : '—';
  $('standby-why').textContent = s.standby ?? '—';
  const examples = earlier.examples + s.examples;
  $('examples').textContent = examples.toLocaleString('en');
  $('shards').textContent = (earlier.shards + s.shards).toLocaleString('en');
  $('room-iteration').textContent = s.iteration > 0 ? s.iteration.toLocaleString('en') : '—';
  $('room-epoch').textContent = s.iteration > 0 ? String(s.epoch + 1) : '—';
  $('room-loss').textContent = Number.isFinite(s.loss) ? s.loss.toFixed(4) : '—';
  $('room-workers').textContent = s.workers > 0 ? String(s.workers) : '—';
  $('own-used').textContent = s.ownExamples
    ? `${s.ownExamples.toLocaleString('en')} (your drawings, counted once per local round)`
    : drawings.items.length > 0
      ? 'not yet (they train when the class uses local steps)'
      : '—';
  // a screen reader hears the numbers now and then, not at every iteration
  const now = performance.now();
  if (s.iteration > 0 && now - lastSummary > 5000) {
    lastSummary = now;
    $('summary').textContent =
      `Room at epoch ${s.epoch + 1}, iteration ${s.iteration}, loss ${s.loss.toFixed(3)}. This tab computed ${examples} examples, ${(s.share * 100).toFixed(0)}% of the last mini-batch.`;
  }
}

// The room does not tell its volunteers that the teacher paused or stopped (the protocol has no
// message for it), so a long silence is said as what it likely is.
// Only while the room has said nothing: a pause, stop or end it announced stays on screen as long as
// it holds (the room sends no iteration while paused, and that silence is not news).
const ANNOUNCED = new Set(['paused', 'stopped', 'done', 'failed']);
setInterval(() => {
  const s = pending;
  // the contribution chart: one sample a second while in the room
  if (volunteer && pageState !== 'paused') {
    contribution.add(performance.now(), earlier.examples + (volunteer.status.examples ?? 0));
    if (!document.hidden) drawContribution($('contribution') as unknown as SVGSVGElement, contribution);
  }
  if (!volunteer || !s || pageState === 'paused' || s.state !== 'ready' || lastIteration === 0) return;
  if (s.roomState && ANNOUNCED.has(s.roomState)) return;
  const quiet = (performance.now() - iterationAt) / 1000;
  if (quiet >= 8)
    setState(
      'ready',
      `Nothing new for ${Math.round(quiet)} s: the teacher may have paused or stopped, or the training has finished. Your laptop stays in the room and carries on when the class does.`,
    );
}, 1000);

/** For tests and the console: the current status, and the page's buttons. */
const api = {
  status: (): VolunteerStatus | null => (volunteer ? { ...volunteer.status } : null),
  /** 'paused' while paused (left for now), else the volunteer's state. */
  state: (): PageState => pageState,
  totals: () => ({
    examples: earlier.examples + (volunteer?.status.examples ?? 0),
    shards: earlier.shards + (volunteer?.status.shards ?? 0),
  }),
  error: '',
  leave: () => volunteer?.leave('left from the page'),
  /** The smoothed examples/s this page shows. */
  speed: () => speed,
  /** Why this tab computes on its backend. */
  backendWhy: () => $('backend-why').textContent ?? '',
  /** Attempts to join again since the connection was lost (0 when connected). */
  retries: () => attempt,
  /** Times this tab joined again by itself after losing the room, and what it said meanwhile. */
  reconnects: () => reconnects,
  said: () => [...said],
  name: () => studentName,
  /** Draw to train: the prompted digit, and the drawings kept in this tab (for tests). */
  prompt: () => drawings.prompt(),
  drawings: () =>
    drawings.items.map((d) => ({ digit: d.digit, heldOut: d.heldOut, shared: d.shared, pixels: Array.from(d.pixels) })),
  /** The contribution chart's samples: [seconds, examples]. */
  contribution: () => contribution.points.map((p) => [...p]),
};
(window as unknown as { gradroomVolunteer: typeof api }).gradroomVolunteer = api;

function tokenFrom(input: string): string {
  const s = input.trim();
  const m = /[#?&]room=([\w-]+)/.exec(s);
  return m ? m[1] : s;
}

let token = '';
const NAME_KEY = 'gradroom-name';
let studentName = cleanName(params.get('name') ?? localStorage.getItem(NAME_KEY) ?? '', '');
/** Attempts to join again since the last connection ended on its own; 0 while connected. */
let attempt = 0;
let reconnects = 0;
/** What the tab said while reconnecting (the last few lines; tests read them). */
const said: string[] = [];
let retryTimer: ReturnType<typeof setTimeout> | undefined;

/** "wasm: this browser has no WebGPU": the backend, and why faster ones were not used. */
function explainBackend(info: WorkerInfo): string {
  const skipped = info.skipped.map((s) => `${s.backend}: ${s.reason}`);
  return skipped.length === 0
    ? `${info.backend}: ${info.reason ?? 'the fastest one this browser has'}.`
    : `${info.backend}, because ${skipped.join('; ')}.`;
}

/** After the connection ended by itself: try again later, or say why not. */
function retryLater(reason: string): boolean {
  const v = shouldRetry(reason);
  if (!v.retry || attempt >= MAX_ATTEMPTS) return false;
  const wait = backoffMs(attempt++);
  const why =
    v.waitingFor === 'host'
      ? 'The host is reconnecting (or has not opened the room yet).'
      : 'The connection to the room was lost; the host may be reconnecting.';
  setState('connecting', `${why} Trying again in ${Math.round(wait / 1000)} s…`);
  said.push(why);
  if (said.length > 20) said.shift();
  $pause.disabled = false;
  $pause.textContent = 'Stop trying';
  pauseAction = 'stop-retry';
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    void join();
  }, wait);
  return true;
}

/**
 * Draw to train: the student's drawings live in this page (memory only); each change goes to this
 * tab's Web Worker (which trains on them in mode local) and, as counts, to the room.
 */
const drawings = new DrawingSet();
let engineNow: { setOwnExamples: WebWorkerEngine['setOwnExamples'] } | undefined;
const drawTrain = mountDrawTrain(drawings, () => void syncDrawings());
async function syncDrawings(): Promise<void> {
  try {
    await engineNow?.setOwnExamples(drawings.own());
  } catch (e) {
    console.log(`[volunteer] drawings: ${(e as Error).message}`);
  }
  volunteer?.setDrawings(drawings.summary(drawTrain.named()));
  if (volunteer) show(volunteer.status);
}

/** The engine of the current session: the draw pad asks it, with the weights it holds. */
let classifier: ((features: Float32Array) => Promise<number[]>) | undefined;
const pad = drawPad($('draw-pad') as HTMLCanvasElement, () => void classifyDrawing());
async function classifyDrawing(): Promise<void> {
  const out = $('draw-result');
  if (!classifier) {
    out.textContent = 'Join the room first: this tab classifies with the weights the room sends it.';
    return;
  }
  try {
    const p = await classifier(pad.pixels());
    const order = p.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]);
    out.textContent = `Looks like ${order[0][1]} (${Math.round(order[0][0] * 100)}%), then ${order[1][1]} (${Math.round(order[1][0] * 100)}%).`;
  } catch (e) {
    out.textContent = readable((e as Error).message);
  }
}
$('draw-clear').addEventListener('click', () => {
  pad.clear();
  $('draw-result').textContent =
    'This tab classifies it with the weights it computed with last, when you lift the pen.';
});

async function join(): Promise<void> {
  let backends: BackendName[] | undefined;
  const b = params.get('backend');
  if (b) backends = parseBackendList(b);
  const raw = webWorkerEngine(new URL(`worker.js?data=${new URL('data/', location.href).pathname}`, location.href));
  // the same engine, telling this page which backend it took and why
  const engine = {
    ...raw,
    init: async (init: Parameters<typeof raw.init>[0]) => {
      const info = await raw.init(init);
      $('backend-why').textContent = explainBackend(info);
      return info;
    },
  };
  engineNow = raw;
  void syncDrawings();
  if (attempt === 0) setState('connecting', 'Connecting to the room…');
  $pause.disabled = true;
  try {
    volunteer = await joinRoom({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
      token,
      name: studentName || 'student',
      engine,
      backends,
      wasmPaths: new URL('wasm/', location.href).href,
      relay: params.get('relay') === 'always' ? 'always' : 'auto',
      WebSocket: WebSocket as unknown as WebSocketCtor,
      SimplePeer: SimplePeer as unknown as SimplePeerCtor,
      log: (line) => console.log(`[volunteer] ${line}`),
    });
  } catch (e) {
    raw.terminate();
    api.error = (e as Error).message;
    if (retryLater(api.error)) return;
    setState('left', `Could not join: ${readable(api.error)}`);
    $pause.disabled = false;
    $pause.textContent = 'Try again';
    pauseAction = 'resume';
    return;
  }
  const v = volunteer;
  v.setDrawings(drawings.summary(drawTrain.named()));
  classifier = (features) => raw.classify(features);
  if (attempt > 0) reconnects++;
  attempt = 0;
  v.onStatus(show);
  show(v.status);
  raw.failed.then((r) => v.leave(r));
  v.done.then((reason) => {
    raw.terminate();
    if (engineNow === raw) engineNow = undefined;
    earlier.examples += v.status.examples;
    earlier.shards += v.status.shards;
    if (volunteer === v) volunteer = undefined;
    if (pageState === 'paused' || left) return;
    if (retryLater(reason)) return;
    // left for another reason (the room expired, this tab was turned away): offer to join again
    setState('left', `Left the room: ${readable(reason)}`);
    $pause.textContent = 'Join again';
    pauseAction = 'resume';
    $leave.disabled = true;
  });
  $pause.disabled = false;
  $pause.textContent = 'Pause';
  pauseAction = 'pause';
  $leave.disabled = false;
}

/** Error texts from the room in the words of a student, not of the protocol. */
function readable(reason: string): string {
  return reason
    .replace(/^room server refused: /, '')
    .replace(/^channel closed: data channel error: .*/i, 'the connection to the host broke')
    .replace(/unknown room or wrong token/, 'this link is not (or no longer) a room on this server; ask for a new one')
    .replace(/the room's coordinator is not connected/, 'the host is not in the room')
    .replace(/^room closed: /, 'the room was closed: ');
}

let left = false;
let pauseAction: 'pause' | 'resume' | 'stop-retry' = 'pause';
$pause.addEventListener('click', () => {
  if (pauseAction === 'stop-retry') {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    attempt = 0;
    setState('left', 'Stopped trying to join. Join again when the host is back.');
    $pause.textContent = 'Join again';
    pauseAction = 'resume';
    return;
  }
  if (pauseAction === 'pause') {
    setState('paused', 'Paused: this tab left the room for now. Resume joins it again with the same link.');
    $pause.textContent = 'Resume';
    $pause.setAttribute('aria-pressed', 'true');
    pauseAction = 'resume';
    volunteer?.leave('paused by the volunteer');
  } else {
    $pause.removeAttribute('aria-pressed');
    pageState = 'idle';
    void join();
  }
});

$leave.addEventListener('click', () => {
  left = true;
  clearTimeout(retryTimer);
  volunteer?.leave('left from the page');
  setState('left', 'You left the room. Open the join link again to come back.');
  $leave.disabled = true;
  $pause.disabled = true;
});
addEventListener('pagehide', () => volunteer?.leave('tab closed'));

// the join form asks for the room (when the link did not carry it) and the student's name (when
// this browser does not remember one); a link with both joins at once
const fromUrl = params.get('room');
const $name = $('name') as HTMLInputElement;
$name.value = studentName;
if (fromUrl && studentName) {
  token = fromUrl;
  void join();
} else {
  const form = $('join') as HTMLFormElement;
  form.hidden = false;
  if (fromUrl) {
    token = fromUrl;
    $('token-row').hidden = true;
    ($('token') as HTMLInputElement).required = false;
  }
  setState('idle', fromUrl ? 'Say who you are, then join.' : 'Paste the room’s link, say who you are, then join.');
  form.onsubmit = (e) => {
    e.preventDefault();
    studentName = cleanName($name.value, '');
    if (studentName) localStorage.setItem(NAME_KEY, studentName);
    if (!fromUrl) token = tokenFrom(($('token') as HTMLInputElement).value);
    form.hidden = true;
    void join();
  };
}
