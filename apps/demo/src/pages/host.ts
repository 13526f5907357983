/**
 * The host page. The coordinator (trainer, room host, peer links, aggregation) runs in a dedicated
 * Web Worker (src/coordinator-worker/); this page only sends it commands through comlink and renders
 * the events it sends back. Weights and gradients never reach this thread: WebRTC endpoints live
 * here only because Chromium has no RTCPeerConnection in workers, and their bytes pass through as
 * transferred buffers (peer-bridge.ts).
 *
 * This file only composes the page's parts (src/host/): the room panel, the run controls, the
 * learned panel, the summary, and the render loop. Events only append to the run's series; the loop
 * redraws from a timer (render-loop.ts), so rendering does not grow with the run.
 *
 * The room survives a reload: its token and host key stay in this tab's session storage and the
 * reloaded page hosts the same room again (the server keeps a room without a coordinator for a
 * while); volunteers reconnect by themselves.
 *
 * URL parameters: backend=webgpu|webgl|wasm|cpu (a list) for this tab's own Web Workers.
 * window.__host exposes the run's data and state for tests and the console (host/test-api.ts).
 */
import 'uplot/dist/uPlot.min.css';
import '../host/host.css';
import '../host/class.css';
import type { SimplePeerCtor } from '@gradroom/core';
import { type BackendName, datasetName, parseBackendList } from '@gradroom/worker/catalog';
import * as Comlink from 'comlink';
// the self-contained browser build (it carries its own Buffer and stream polyfills); untyped
// @ts-expect-error: untyped module
import SimplePeer from 'simple-peer/simplepeer.min.js';
import { servePeerBridge } from '../coordinator-worker/peer-bridge.js';
import type { CoordinatorApi, HostEvent } from '../coordinator-worker/protocol.js';
import { HostCharts } from '../host/charts.js';
import { classPanel } from '../host/class-panel.js';
import { eventLog, type HostContext } from '../host/context.js';
import { onHostEvent } from '../host/events.js';
import { jobForm } from '../host/job-form.js';
import { learnedPanel } from '../host/learned-panel.js';
import { followScreen, renderLoop, setProjector } from '../host/render-loop.js';
import { roomPanel } from '../host/room-panel.js';
import { Roster } from '../host/roster.js';
import { runControls } from '../host/run-controls.js';
import { RunSeries } from '../host/series.js';
import { summaryPanel } from '../host/summary.js';
import { exposeHostApi } from '../host/test-api.js';
import { ttaPanel } from '../host/tta.js';
import { byId } from '../ui/dom.js';

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

// ---- the page's parts -------------------------------------------------------------------------------

const form = jobForm();
byId('job-form').append(form.root);
const series = new RunSeries();
const ctx: HostContext = {
  coordinator,
  series,
  charts: new HostCharts(series),
  roster: new Roster(),
  form,
  tta: ttaPanel(),
  target: 0.92,
  phase: 'idle',
  job: form.job(),
  room: undefined,
  last: undefined,
  lastEpoch: undefined,
  runStarted: 0,
  runSeconds: 0,
  finalAccuracy: Number.NaN,
  drewAt: {},
  dirty: 1,
  log: eventLog(byId('log')),
};

const room = roomPanel(ctx);
const learned = learnedPanel(ctx);
const classData = classPanel();
const summary = summaryPanel(ctx);
const loop = renderLoop(ctx);
const run = runControls(ctx, {
  localBackends,
  onReset() {
    summary.hide();
    learned.reset();
  },
  onEnded(showSummary) {
    if (showSummary) summary.show();
    room.showPeople();
    loop.render(true);
  },
});

eventsChannel.port1.onmessage = (ev: MessageEvent<HostEvent>) =>
  onHostEvent(ctx, { room, run, learned, classData }, ev.data);
byId('projector-toggle').addEventListener('click', () =>
  setProjector(ctx, !document.body.classList.contains('projector')),
);

// before a run: the line names the form's target (the numbers come with the run's first iterations)
const preview = () => {
  try {
    ctx.tta.preview(datasetName(form.job().dataset), form.target());
  } catch {
    ctx.tta.preview(null, 0); // a field the form refuses: the Start button names it
  }
};
form.root.addEventListener('input', preview);
form.root.addEventListener('change', preview);
preview();

run.setPhase('idle');
loop.render(true);
if (params.get('view') === 'projector') setProjector(ctx, true);
followScreen(ctx);
void run.offerSavedRun();
// the room first (its students come back to it), then the run this tab had going, by itself
void room.hostAgain().then(() => run.resumeIfLive());
exposeHostApi(ctx, run, learned, summary, classData);
