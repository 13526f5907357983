/**
 * The optimizer playground: gradient descent, momentum, RMSProp and Adam from @gradroom/core racing
 * from one start on a 2-D loss surface, with their hyperparameters on sliders and a mini-batch noise
 * toggle. Runs entirely in the page. window.__playground exposes the state for the browser tests.
 */
import { type DrawnPath, type PathStyle, SurfaceView } from '../playground/render.js';
import {
  BATCH_SIZES,
  createPaths,
  describeProgress,
  PATH_KINDS,
  PATH_NAMES,
  type Path,
  type PathKind,
  type SimConfig,
} from '../playground/sim.js';
import { cloneHyper, type Hyperparameters, SURFACE_IDS, SURFACES, type SurfaceId } from '../playground/surfaces.js';
import { fitCanvas } from '../ui/canvas.js';
import { checkbox, select, slider } from '../ui/controls.js';
import { byId, el, formatNumber } from '../ui/dom.js';
import { prefersReducedMotion, SERIES_COLORS } from '../ui/theme.js';

const MAX_ITERATIONS = 1000;
const STYLES: Record<PathKind, PathStyle> = {
  sgd: { color: SERIES_COLORS.orange, dash: [] },
  momentum: { color: SERIES_COLORS.blue, dash: [7, 4] },
  rmsprop: { color: SERIES_COLORS.green, dash: [2, 4] },
  adam: { color: SERIES_COLORS.purple, dash: [10, 4, 2, 4] },
};

const params = new URLSearchParams(location.search);
const initialSurface = (SURFACE_IDS as string[]).includes(params.get('surface') ?? '')
  ? (params.get('surface') as SurfaceId)
  : 'bowl';

const config: SimConfig = {
  surface: initialSurface,
  hyper: cloneHyper(SURFACES[initialSurface].defaults),
  noise: params.get('noise') === '1',
  batchSize: 64,
  seed: 1,
};
const visible: Record<PathKind, boolean> = { sgd: true, momentum: true, rmsprop: true, adam: true };
let paths: Record<PathKind, Path> = createPaths(config);
let iteration = 0;
let playing = false;
let speed = 20; // iterations per second
let lastFrame = 0;
let owed = 0;

const canvas = byId<HTMLCanvasElement>('plot');
const counter = byId('counter');
const view = new SurfaceView();
view.setSurface(SURFACES[config.surface]);
let ctx: CanvasRenderingContext2D | null = null;

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
    syncSliders();
    restart();
  },
});

const batchSelect = select<string>({
  id: 'batch-size',
  label: 'Mini-batch size',
  options: BATCH_SIZES.map((b) => ({ value: String(b), label: b === 1 ? '1 (stochastic)' : String(b) })),
  value: String(config.batchSize),
  onChange(v) {
    config.batchSize = Number(v);
    rebuild();
  },
});
batchSelect.input.disabled = !config.noise;

const noiseBox = checkbox({
  id: 'noise',
  label: 'Mini-batch noise',
  checked: config.noise,
  onChange(on) {
    config.noise = on;
    batchSelect.input.disabled = !on;
    rebuild();
  },
});

const seedInput = el('input', { type: 'number', id: 'seed', name: 'seed', min: 0, max: 99999, step: 1, value: 1 });
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

// One fieldset of sliders per optimizer.
type SliderSpec = {
  key: string;
  label: string;
  min: number;
  max: number;
  step?: number;
  log?: boolean;
  hint: string;
};
const SPECS: Record<PathKind, SliderSpec[]> = {
  sgd: [{ key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α dW' }],
  momentum: [
    { key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α v' },
    {
      key: 'beta',
      label: 'β (momentum)',
      min: 0,
      max: 0.99,
      step: 0.01,
      hint: 'v = β v + (1 − β) dW, an average over about 1/(1 − β) gradients',
    },
  ],
  rmsprop: [
    { key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α dW / (√S + ε)' },
    { key: 'rho', label: 'β₂ (decay of S)', min: 0, max: 0.999, step: 0.001, hint: 'S = β₂ S + (1 − β₂) dW²' },
    { key: 'epsilon', label: 'ε', min: 1e-8, max: 1, log: true, hint: 'added to √S so the step never divides by 0' },
  ],
  adam: [
    { key: 'lr', label: 'α (learning rate)', min: 1e-4, max: 10, log: true, hint: 'W = W − α V_corr / (√S_corr + ε)' },
    { key: 'beta1', label: 'β₁', min: 0, max: 0.99, step: 0.01, hint: 'momentum average, usually 0.9' },
    { key: 'beta2', label: 'β₂', min: 0.9, max: 0.9999, step: 0.0001, hint: 'RMSProp average, usually 0.999' },
    { key: 'epsilon', label: 'ε', min: 1e-8, max: 1, log: true, hint: 'usually 10⁻⁸' },
  ],
};

const sliders: { kind: PathKind; key: string; s: ReturnType<typeof slider> }[] = [];
const legendRows = {} as Record<PathKind, { loss: HTMLElement; pos: HTMLElement; status: HTMLElement }>;
const tuning = byId('tuning');
const legendBody = byId('legend-body');

for (const kind of PATH_KINDS) {
  const fs = el('fieldset', { class: `optimizer opt-${kind}` });
  fs.append(el('legend', {}, swatch(kind), ` ${PATH_NAMES[kind]}`));
  const show = checkbox({
    id: `show-${kind}`,
    label: 'Show path',
    checked: true,
    onChange(on) {
      visible[kind] = on;
      draw();
    },
  });
  fs.append(show.root);
  for (const spec of SPECS[kind]) {
    const hyper = config.hyper[kind] as Record<string, number>;
    const s = slider({
      id: `${kind}-${spec.key}`,
      label: spec.label,
      min: spec.min,
      max: spec.max,
      step: spec.step,
      log: spec.log,
      value: hyper[spec.key],
      hint: spec.hint,
      onInput(v) {
        (config.hyper[kind] as Record<string, number>)[spec.key] = v;
        rebuild();
      },
    });
    sliders.push({ kind, key: spec.key, s });
    fs.append(s.root);
  }
  tuning.append(fs);

  const loss = el('td', { class: 'num' });
  const pos = el('td', { class: 'num' });
  const status = el('td');
  legendRows[kind] = { loss, pos, status };
  legendBody.append(el('tr', {}, el('th', { scope: 'row' }, swatch(kind), ` ${PATH_NAMES[kind]}`), loss, pos, status));
}

function swatch(kind: PathKind): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'swatch');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '10');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'line');
  line.setAttribute('x1', '1');
  line.setAttribute('y1', '5');
  line.setAttribute('x2', '27');
  line.setAttribute('y2', '5');
  line.setAttribute('stroke', STYLES[kind].color);
  line.setAttribute('stroke-width', '3');
  if (STYLES[kind].dash.length) line.setAttribute('stroke-dasharray', STYLES[kind].dash.join(' '));
  svg.append(line);
  return svg;
}

function syncSliders(): void {
  surfaceSelect.input.value = config.surface;
  for (const { kind, key, s } of sliders) s.value = (config.hyper[kind] as Record<string, number>)[key];
}

// ---- simulation -----------------------------------------------------------------------------------

/** Back to iteration 0 with the current settings. */
function restart(): void {
  paths = createPaths(config);
  iteration = 0;
  update();
}

/** New settings: replay the paths from the start up to the current iteration, so a change shows at once. */
function rebuild(): void {
  const target = iteration;
  paths = createPaths(config);
  iteration = 0;
  advance(target);
}

function advance(n: number): void {
  const k = Math.min(n, MAX_ITERATIONS - iteration);
  for (let i = 0; i < k; i++) {
    for (const kind of PATH_KINDS) paths[kind].step();
    iteration++;
  }
  if (iteration >= MAX_ITERATIONS) pause();
  update();
}

function play(): void {
  if (iteration >= MAX_ITERATIONS) restart();
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
  if (!ctx) return;
  const drawn: DrawnPath[] = PATH_KINDS.map((kind) => ({
    kind,
    xs: paths[kind].xs,
    ys: paths[kind].ys,
    style: STYLES[kind],
    visible: visible[kind],
  }));
  view.draw(ctx, drawn, SURFACES[config.surface].start);
}

function update(): void {
  draw();
  counter.textContent = describeProgress(iteration, config.noise, config.batchSize);
  for (const kind of PATH_KINDS) {
    const p = paths[kind];
    const row = legendRows[kind];
    const x = p.xs[p.xs.length - 1];
    const y = p.ys[p.ys.length - 1];
    row.loss.textContent = p.diverged ? '—' : formatNumber(p.loss);
    row.pos.textContent = p.diverged ? '—' : `(${x.toFixed(3)}, ${y.toFixed(3)})`;
    row.status.textContent = p.diverged ? 'diverged: lower α' : '';
  }
  canvas.dataset.iteration = String(iteration);
  canvas.dataset.endpoints = JSON.stringify(endpoints());
  if (!playing) {
    const s = SURFACES[config.surface];
    canvas.setAttribute(
      'aria-label',
      `Contour plot of the ${s.name.toLowerCase()} with the paths of ${PATH_KINDS.map((k) => PATH_NAMES[k]).join(', ')} ` +
        `after ${iteration} iterations from (${s.start[0]}, ${s.start[1]}). The table below lists where each one is.`,
    );
  }
  byId('blurb').textContent = SURFACES[config.surface].blurb;
}

function endpoints(): Record<PathKind, { x: number; y: number; diverged: boolean }> {
  const out = {} as Record<PathKind, { x: number; y: number; diverged: boolean }>;
  for (const kind of PATH_KINDS) {
    const p = paths[kind];
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

update();

// The state, for the browser tests and for anyone poking at the page from the console.
declare global {
  interface Window {
    __playground?: {
      config(): SimConfig;
      iteration(): number;
      endpoints(): ReturnType<typeof endpoints>;
      paths(): Record<PathKind, { xs: number[]; ys: number[] }>;
      advance(n: number): void;
      pause(): void;
      reset(): void;
      setHyper(h: Hyperparameters): void;
    };
  }
}
window.__playground = {
  config: () => structuredClone(config),
  iteration: () => iteration,
  endpoints,
  paths: () =>
    Object.fromEntries(PATH_KINDS.map((k) => [k, { xs: [...paths[k].xs], ys: [...paths[k].ys] }])) as Record<
      PathKind,
      { xs: number[]; ys: number[] }
    >,
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
    syncSliders();
    rebuild();
  },
};

if (!prefersReducedMotion() && params.get('autoplay') !== '0') play();
