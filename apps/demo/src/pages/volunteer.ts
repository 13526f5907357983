/**
 * The volunteer page: join a room by its link (the token rides in the URL's #fragment, so it never
 * reaches a server log), compute in a Web Worker, show the room's progress as this tab hears it
 * (epoch, iteration, smoothed training loss and the number of workers, sent after every iteration)
 * and this tab's contribution (backend, speed, share, examples), pause or leave.
 *
 * The room protocol has no pause: Pause leaves the room and Resume joins it again with the same
 * token (a fresh Web Worker; the coordinator plans this tab's share on the others meanwhile).
 *
 * URL parameters (query or fragment): room=TOKEN, backend=webgpu|webgl|wasm|cpu (a list, comma
 * separated, tried in order), relay=always (skip WebRTC, use the server's relay), name=NAME.
 */
import '../host/host.css';
import { type BackendName, parseBackendList } from '@gradroom/worker/catalog';
import {
  joinRoom,
  type SimplePeerCtor,
  type Volunteer,
  type VolunteerStatus,
  type WebSocketCtor,
  webWorkerEngine,
} from '@gradroom/worker/peer';
// the self-contained browser build (it carries its own Buffer and stream polyfills); it has no
// typings of its own and is used through SimplePeerCtor below
// @ts-expect-error: untyped module
import SimplePeer from 'simple-peer/simplepeer.min.js';

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

function setState(state: PageState, text: string): void {
  pageState = state;
  const line = $('status');
  line.textContent = text;
  line.dataset.state = state;
}

const show = (s: VolunteerStatus) => {
  const words: Record<VolunteerStatus['state'], string> = {
    connecting: 'Connecting to the room…',
    'setting-up': s.backend
      ? 'Setting up the model and the data…'
      : 'Joined. Waiting for the host to start a run (this tab then loads the model and the data).',
    ready: 'Ready: waiting for the next shard of a mini-batch.',
    computing: 'Computing gradients for the room.',
    left: `Left the room: ${s.reason ?? ''}`,
  };
  if (pageState !== 'paused') setState(s.state, words[s.state]);
  $('backend').textContent = s.backend || '—';
  $('via').textContent = s.via === 'direct' ? 'direct (WebRTC)' : s.via === 'relay' ? 'through the room server' : '—';
  $('speed').textContent = s.examplesPerSec > 0 ? Math.round(s.examplesPerSec).toLocaleString('en') : '—';
  $('share').textContent = s.workers > 0 ? `${(s.share * 100).toFixed(1)}% (of ${s.workers} workers)` : '—';
  const examples = earlier.examples + s.examples;
  $('examples').textContent = examples.toLocaleString('en');
  $('shards').textContent = (earlier.shards + s.shards).toLocaleString('en');
  $('room-iteration').textContent = s.iteration > 0 ? s.iteration.toLocaleString('en') : '—';
  $('room-epoch').textContent = s.iteration > 0 ? String(s.epoch + 1) : '—';
  $('room-loss').textContent = Number.isFinite(s.loss) ? s.loss.toFixed(4) : '—';
  $('room-workers').textContent = s.workers > 0 ? String(s.workers) : '—';
  // a screen reader hears the numbers now and then, not at every iteration
  const now = performance.now();
  if (s.iteration > 0 && now - lastSummary > 5000) {
    lastSummary = now;
    $('summary').textContent =
      `Room at epoch ${s.epoch + 1}, iteration ${s.iteration}, loss ${s.loss.toFixed(3)}. This tab computed ${examples} examples, ${(s.share * 100).toFixed(0)}% of the last mini-batch.`;
  }
};

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
};
(window as unknown as { gradroomVolunteer: typeof api }).gradroomVolunteer = api;

function tokenFrom(input: string): string {
  const s = input.trim();
  const m = /[#?&]room=([\w-]+)/.exec(s);
  return m ? m[1] : s;
}

let token = '';

async function join(): Promise<void> {
  let backends: BackendName[] | undefined;
  const b = params.get('backend');
  if (b) backends = parseBackendList(b);
  const engine = webWorkerEngine(new URL(`worker.js?data=${new URL('data/', location.href).pathname}`, location.href));
  setState('connecting', 'Connecting to the room…');
  $pause.disabled = true;
  try {
    volunteer = await joinRoom({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
      token,
      name: params.get('name') ?? 'browser tab',
      engine,
      backends,
      wasmPaths: new URL('wasm/', location.href).href,
      relay: params.get('relay') === 'always' ? 'always' : 'auto',
      WebSocket: WebSocket as unknown as WebSocketCtor,
      SimplePeer: SimplePeer as unknown as SimplePeerCtor,
      log: (line) => console.log(`[volunteer] ${line}`),
    });
  } catch (e) {
    engine.terminate();
    api.error = (e as Error).message;
    setState('left', `Could not join: ${api.error}`);
    $pause.disabled = false;
    $pause.textContent = 'Try again';
    pauseAction = 'resume';
    return;
  }
  const v = volunteer;
  v.onStatus(show);
  show(v.status);
  engine.failed.then((r) => v.leave(r));
  v.done.then(() => {
    engine.terminate();
    earlier.examples += v.status.examples;
    earlier.shards += v.status.shards;
    if (volunteer === v) volunteer = undefined;
    if (pageState === 'paused') return;
    // left for another reason (the host ended the room, the connection broke): offer to join again
    $pause.textContent = 'Join again';
    pauseAction = 'resume';
    $leave.disabled = true;
  });
  $pause.disabled = false;
  $pause.textContent = 'Pause';
  pauseAction = 'pause';
  $leave.disabled = false;
}

let pauseAction: 'pause' | 'resume' = 'pause';
$pause.addEventListener('click', () => {
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
  volunteer?.leave('left from the page');
  setState('left', 'You left the room. Open the join link again to come back.');
  $leave.disabled = true;
  $pause.disabled = true;
});
addEventListener('pagehide', () => volunteer?.leave('tab closed'));

const fromUrl = params.get('room');
if (fromUrl) {
  token = fromUrl;
  void join();
} else {
  const form = $('join') as HTMLFormElement;
  form.hidden = false;
  form.onsubmit = (e) => {
    e.preventDefault();
    form.hidden = true;
    token = tokenFrom(($('token') as HTMLInputElement).value);
    void join();
  };
}
