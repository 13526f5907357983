/**
 * The optimizer playground: gradient descent, momentum, RMSProp and Adam from @gradroom/core racing
 * from one start on a 2-D loss surface. Each path has its own settings (full batch or a mini-batch
 * size, a learning-rate decay from core's schedules) and hyperparameters; "Try:" buttons load the
 * scenarios that show the lecture's points, and the table under the plot gives the numbers to check
 * them by. Runs entirely in the page; the settings live in the URL's query (url-state.ts), so a link
 * reopens the same setup. window.__playground exposes the state for the browser tests.
 *
 * This file composes the page: the setup controls and the play loop. The per-optimizer controls are
 * in playground/tuning.ts, the numbers under the plot in playground/table.ts, the batch-size speed
 * panel in playground/batch-speed.ts.
 */
import '../playground/playground.css';
import { drawAlphaChart } from '../playground/alpha-chart.js';
import { batchSpeedPanel } from '../playground/batch-speed.js';
import { criticalPointsFigure } from '../playground/critical-points.js';
import { type DrawnPath, SurfaceView } from '../playground/render.js';
import { SCENARIOS, type Scenario } from '../playground/scenarios.js';
import {
  BATCH_SIZES,
  createGhosts,
  createPaths,
  describeMixedProgress,
  describeProgress,
  PATH_KINDS,
  PATH_NAMES,
  type Path,
  type PathKind,
  type PathStats,
  pathStats,
  type SimConfig,
} from '../playground/sim.js';
import { eachOf, type PlaygroundState, STYLES } from '../playground/state.js';
import { cloneHyper, type Hyperparameters, SURFACE_IDS, SURFACES, type SurfaceId } from '../playground/surfaces.js';
import { findings, renderTable } from '../playground/table.js';
import { buildTuning } from '../playground/tuning.js';
import { fromQuery, toQuery } from '../playground/url-state.js';
import { fitCanvas } from '../ui/canvas.js';
import { checkbox, select, slider } from '../ui/controls.js';
import { byId, el } from '../ui/dom.js';
import { prefersReducedMotion } from '../ui/theme.js';

const MAX_ITERATIONS = 1000;

const params = new URLSearchParams(location.search);
const fromUrl = fromQuery(params);
const S: PlaygroundState = {
  config: fromUrl.settings.config,
  visible: fromUrl.settings.visible,
  paths: createPaths(fromUrl.settings.config),
  iteration: 0,
};
const config: SimConfig = S.config;
const each = () => eachOf(config);
let ghosts: Partial<Record<PathKind, Path>> = createGhosts(config);
let playing = false;
let speed = 20; // iterations per second
let lastFrame = 0;
let owed = 0;

const canvas = byId<HTMLCanvasElement>('plot');
const alphaCanvas = byId<HTMLCanvasElement>('alpha-plot');
const counter = byId('counter');
const view = new SurfaceView();
view.setSurface(SURFACES[config.surface]);
let ctx: CanvasRenderingContext2D | null = null;
let alphaCtx: { c: CanvasRenderingContext2D; w: number; h: number } | null = null;

// ---- controls -------------------------------------------------------------------------------------

const surfaceSelect = select<SurfaceId>({
  id: 'surface',
  label: 'Loss surface',
  options: SURFACE_IDS.map((id) => ({ value: id, label: SURFACES[id].name })),
  value: config.surface,
  onChange(id) {
    config.surface = id;
    config.hyper = cloneHyper(SURFACES[id].defaults);
    view.setSurface(SURFACES[id]);
    for (const k of PATH_KINDS) S.visible[k] = true;
    currentScenario = null;
    buildScenarios();
    scenarioLook.textContent = '';
    syncControls();
    restart();
  },
});

const batchSelect = select<string>({
  id: 'batch-size',
  label: 'Mini-batch size (all paths)',
  options: BATCH_SIZES.map((b) => ({ value: String(b), label: b === 1 ? '1 (stochastic)' : String(b) })),
  value: String(config.batchSize),
  onChange(v) {
    config.batchSize = Number(v);
    for (const k of PATH_KINDS) each()[k] = { ...each()[k], noise: config.noise, batchSize: config.batchSize };
    syncControls();
    rebuild();
  },
});

const noiseBox = checkbox({
  id: 'noise',
  label: 'Mini-batch noise (all paths)',
  checked: config.noise,
  onChange(on) {
    config.noise = on;
    for (const k of PATH_KINDS) each()[k] = { ...each()[k], noise: on, batchSize: config.batchSize };
    syncControls();
    rebuild();
  },
});

const seedInput = el('input', {
  type: 'number',
  id: 'seed',
  name: 'seed',
  min: 0,
  max: 99999,
  step: 1,
  value: config.seed,
});
seedInput.addEventListener('change', () => {
  const s = Math.trunc(Number(seedInput.value));
  config.seed = Number.isFinite(s) && s >= 0 ? s : 0;
  rebuild();
});
const seedControl = el('div', { class: 'control number' }, el('label', { for: 'seed' }, 'Noise seed'), seedInput);

const speedSlider = slider({
  id: 'speed',
  label: 'Speed (iterations/s)',
  min: 1,
  max: 120,
  step: 1,
  value: speed,
  format: (x) => String(Math.round(x)),
  onInput(v) {
    speed = v;
  },
});

byId('setup').append(surfaceSelect.root, noiseBox.root, batchSelect.root, seedControl, speedSlider.root);

const playButton = byId<HTMLButtonElement>('play');
const stepButton = byId<HTMLButtonElement>('step');
const resetButton = byId<HTMLButtonElement>('reset');
playButton.addEventListener('click', () => (playing ? pause() : play()));
stepButton.addEventListener('click', () => {
  pause();
  advance(1);
});
resetButton.addEventListener('click', () => {
  pause();
  restart();
});

// "Try:" buttons, one per scenario of the surface.
const scenarioBox = byId('scenarios');
const scenarioLook = byId('scenario-look');
let currentScenario: Scenario | null =
  SCENARIOS[config.surface].find((s) => s.id === fromUrl.settings.scenario) ?? null;

function buildScenarios(): void {
  const list = SCENARIOS[config.surface];
  scenarioBox.replaceChildren(
    el('span', { class: 'try' }, 'Try:'),
    ...list.map((s) => {
      const b = el('button', { type: 'button', id: `scenario-${s.id}`, class: 'scenario' }, s.label);
      b.addEventListener('click', () => chooseScenario(s, true));
      return b;
    }),
  );
  for (const b of scenarioBox.querySelectorAll('button'))
    b.setAttribute('aria-pressed', String(b.id === `scenario-${currentScenario?.id}`));
}

function chooseScenario(s: Scenario, autoplay: boolean): void {
  pause();
  currentScenario = s;
  s.apply(config);
  for (const k of PATH_KINDS) S.visible[k] = s.show.includes(k);
  for (const b of scenarioBox.querySelectorAll('button'))
    b.setAttribute('aria-pressed', String(b.id === `scenario-${s.id}`));
  scenarioLook.textContent = s.look;
  syncControls();
  restart();
  if (autoplay && !prefersReducedMotion()) play();
}

const tuning = buildTuning(byId('tuning'), { state: S, rebuild, update, syncControls });

function syncControls(): void {
  surfaceSelect.input.value = config.surface;
  noiseBox.input.checked = config.noise;
  batchSelect.input.value = String(config.batchSize);
  batchSelect.input.disabled = !config.noise;
  seedInput.value = String(config.seed);
  tuning.sync();
}

/** The settings into the URL (replaceState: no history entry per slider move). */
function writeUrl(): void {
  const q = toQuery({ config, visible: S.visible, scenario: currentScenario?.id ?? null }, params);
  const u = new URL(location.href);
  u.search = q.toString();
  if (u.href !== location.href) history.replaceState(null, '', u);
}

// ---- simulation -----------------------------------------------------------------------------------

/** Back to iteration 0 with the current settings. */
function restart(): void {
  S.paths = createPaths(config);
  ghosts = createGhosts(config);
  S.iteration = 0;
  update();
}

/** New settings: replay the paths from the start up to the current iteration, so a change shows at once. */
function rebuild(): void {
  const target = S.iteration;
  S.paths = createPaths(config);
  ghosts = createGhosts(config);
  S.iteration = 0;
  advance(target);
}

function advance(n: number): void {
  const k = Math.min(n, MAX_ITERATIONS - S.iteration);
  for (let i = 0; i < k; i++) {
    for (const kind of PATH_KINDS) {
      S.paths[kind].step();
      ghosts[kind]?.step();
    }
    S.iteration++;
  }
  if (S.iteration >= MAX_ITERATIONS) pause();
  update();
}

function play(): void {
  if (S.iteration >= MAX_ITERATIONS) restart();
  playing = true;
  playButton.textContent = 'Pause';
  counter.setAttribute('aria-busy', 'true');
  lastFrame = performance.now();
  owed = 0;
  requestAnimationFrame(frame);
}

function pause(): void {
  if (!playing) return;
  playing = false;
  playButton.textContent = 'Play';
  counter.setAttribute('aria-busy', 'false');
  update();
}

function frame(now: number): void {
  if (!playing) return;
  owed += ((now - lastFrame) / 1000) * speed;
  lastFrame = now;
  const n = Math.floor(owed);
  owed -= n;
  if (n > 0) advance(n);
  if (playing) requestAnimationFrame(frame);
}

// ---- output ---------------------------------------------------------------------------------------

function draw(): void {
  if (ctx) {
    const drawn: DrawnPath[] = [];
    for (const kind of PATH_KINDS) {
      const g = ghosts[kind];
      if (g) drawn.push({ kind, xs: g.xs, ys: g.ys, style: STYLES[kind], visible: S.visible[kind], faint: true });
    }
    for (const kind of PATH_KINDS) {
      const p = S.paths[kind];
      drawn.push({ kind, xs: p.xs, ys: p.ys, style: STYLES[kind], visible: S.visible[kind] });
    }
    view.draw(ctx, drawn, SURFACES[config.surface].start);
  }
  if (alphaCtx) {
    drawAlphaChart(
      alphaCtx.c,
      alphaCtx.w,
      alphaCtx.h,
      PATH_KINDS.map((k) => {
        const lr0 = config.hyper[k].lr;
        return {
          color: STYLES[k].color,
          dash: STYLES[k].dash,
          visible: S.visible[k],
          ratios: S.paths[k].lrs.map((lr) => lr / lr0),
        };
      }),
      Math.max(100, S.iteration),
    );
  }
}

function allStats(): Record<PathKind, PathStats> {
  return Object.fromEntries(PATH_KINDS.map((k) => [k, pathStats(S.paths[k])])) as Record<PathKind, PathStats>;
}

function sameSettings(): boolean {
  const shown = PATH_KINDS.filter((k) => S.visible[k]);
  const a = each()[shown[0] ?? 'sgd'];
  return shown.every((k) => {
    const b = each()[k];
    return b.noise === a.noise && (!a.noise || b.batchSize === a.batchSize);
  });
}

function update(): void {
  draw();
  const shown = PATH_KINDS.filter((k) => S.visible[k]);
  const first = each()[shown[0] ?? 'sgd'];
  counter.textContent = sameSettings()
    ? describeProgress(S.iteration, first.noise, first.batchSize)
    : describeMixedProgress(S.iteration, each(), shown);
  const stats = allStats();
  renderTable(byId<HTMLTableElement>('legend'), S, stats);
  byId('findings').textContent = findings(S, stats);
  tuning.updateAdamNotes();
  canvas.dataset.iteration = String(S.iteration);
  canvas.dataset.endpoints = JSON.stringify(endpoints());
  if (!playing) {
    const s = SURFACES[config.surface];
    canvas.setAttribute(
      'aria-label',
      `Contour plot of the ${s.name.toLowerCase()} with the paths of ${shown.map((k) => PATH_NAMES[k]).join(', ')} after ${S.iteration} iterations from (${s.start[0]}, ${s.start[1]}). The table below lists the numbers.`,
    );
  }
  byId('blurb').textContent = SURFACES[config.surface].blurb;
  writeUrl();
}

function endpoints(): Record<PathKind, { x: number; y: number; diverged: boolean }> {
  const out = {} as Record<PathKind, { x: number; y: number; diverged: boolean }>;
  for (const kind of PATH_KINDS) {
    const p = S.paths[kind];
    out[kind] = { x: p.params[0], y: p.params[1], diverged: p.diverged };
  }
  return out;
}

fitCanvas(canvas, (c, w, h) => {
  ctx = c;
  view.width = w;
  view.height = h;
  view.dpr = window.devicePixelRatio || 1;
  draw();
});
fitCanvas(alphaCanvas, (c, w, h) => {
  alphaCtx = { c, w, h };
  draw();
});

byId('critical-figure').append(criticalPointsFigure());
const batchPanel = batchSpeedPanel(byId('batch-speed'));
buildScenarios();
if (currentScenario) scenarioLook.textContent = currentScenario.look;
if (fromUrl.ignored.length)
  byId('url-note').textContent = `Ignored from the link (not valid here): ${fromUrl.ignored.join(', ')}.`;
syncControls();
update();

// The state, for the browser tests and for anyone poking at the page from the console.
declare global {
  interface Window {
    __playground?: {
      config(): SimConfig;
      iteration(): number;
      endpoints(): ReturnType<typeof endpoints>;
      paths(): Record<PathKind, { xs: number[]; ys: number[]; lrs: number[] }>;
      ghosts(): Partial<Record<PathKind, { xs: number[]; ys: number[]; lrs: number[] }>>;
      stats(): Record<PathKind, PathStats>;
      visible(): Record<PathKind, boolean>;
      scenario(): string | null;
      advance(n: number): void;
      pause(): void;
      reset(): void;
      setHyper(h: Hyperparameters): void;
      /** The batch-size panel's last measurement (null before one). */
      batchSpeeds(): ReturnType<typeof batchPanel.last>;
    };
  }
}
type PathCopy = { xs: number[]; ys: number[]; lrs: number[] };
const copy = (p: Path): PathCopy => ({ xs: [...p.xs], ys: [...p.ys], lrs: [...p.lrs] });
window.__playground = {
  config: () => structuredClone(config),
  iteration: () => S.iteration,
  endpoints,
  paths: () => Object.fromEntries(PATH_KINDS.map((k) => [k, copy(S.paths[k])])) as Record<PathKind, PathCopy>,
  ghosts: () =>
    Object.fromEntries(PATH_KINDS.filter((k) => ghosts[k]).map((k) => [k, copy(ghosts[k] as Path)])) as Partial<
      Record<PathKind, PathCopy>
    >,
  stats: allStats,
  visible: () => ({ ...S.visible }),
  scenario: () => currentScenario?.id ?? null,
  advance(n) {
    pause();
    advance(n);
  },
  pause,
  reset() {
    pause();
    restart();
  },
  setHyper(h) {
    config.hyper = cloneHyper(h);
    syncControls();
    rebuild();
  },
  batchSpeeds: () => batchPanel.last(),
};

if (!prefersReducedMotion() && params.get('autoplay') !== '0') play();
