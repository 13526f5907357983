/**
 * The volunteer page: join a room by its link (the token rides in the URL's #fragment, so it never
 * reaches a server log), compute in a Web Worker, show backend, speed, share and status, leave.
 *
 * URL parameters (query or fragment): room=TOKEN, backend=webgpu|webgl|wasm|cpu (a list, comma
 * separated, tried in order), relay=always (skip WebRTC, use the server's relay), name=NAME.
 */
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

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const show = (s: VolunteerStatus) => {
  const state: Record<VolunteerStatus['state'], string> = {
    connecting: 'connecting',
    'setting-up': 'setting up the model and data',
    ready: 'ready, waiting for work',
    computing: 'computing',
    left: `left: ${s.reason ?? ''}`,
  };
  $('status').textContent = state[s.state];
  $('backend').textContent = s.backend || '-';
  $('via').textContent = s.via === 'direct' ? 'direct (WebRTC)' : s.via === 'relay' ? 'through the room server' : '-';
  $('speed').textContent = s.examplesPerSec > 0 ? s.examplesPerSec.toFixed(0) : '-';
  $('share').textContent = s.workers > 0 ? `${(s.share * 100).toFixed(1)}% (of ${s.workers} workers)` : '-';
  $('examples').textContent = String(s.examples);
};

let volunteer: Volunteer | undefined;
/** For tests and the console: the current status, and a way to leave. */
const api = {
  status: (): VolunteerStatus | null => (volunteer ? { ...volunteer.status } : null),
  error: '',
  leave: () => volunteer?.leave('left from the page'),
};
(window as unknown as { gradroomVolunteer: typeof api }).gradroomVolunteer = api;

function tokenFrom(input: string): string {
  const s = input.trim();
  const m = /[#?&]room=([\w-]+)/.exec(s);
  return m ? m[1] : s;
}

async function join(token: string): Promise<void> {
  let backends: BackendName[] | undefined;
  const b = params.get('backend');
  if (b) backends = parseBackendList(b);
  const engine = webWorkerEngine(new URL('worker.js?data=/data/', location.href));
  $('status').textContent = 'connecting';
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
    $('status').textContent = `could not join: ${api.error}`;
    return;
  }
  const v = volunteer;
  v.onStatus(show);
  show(v.status);
  engine.failed.then((r) => v.leave(r));
  v.done.then(() => {
    engine.terminate();
    ($('leave') as HTMLButtonElement).disabled = true;
  });
  const leave = $('leave') as HTMLButtonElement;
  leave.disabled = false;
  leave.onclick = () => v.leave('left from the page');
  addEventListener('pagehide', () => v.leave('tab closed'));
}

const token = params.get('room');
if (token) void join(token);
else {
  const form = $('join') as HTMLFormElement;
  form.hidden = false;
  form.onsubmit = (e) => {
    e.preventDefault();
    form.hidden = true;
    void join(tokenFrom(($('token') as HTMLInputElement).value));
  };
}
