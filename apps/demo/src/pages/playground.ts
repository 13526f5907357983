/**
 * The optimizer playground: gradient descent, momentum, RMSProp and Adam from @gradroom/core racing
 * from one start on a 2-D loss surface. Each path has its own settings (full batch or a mini-batch
 * size, a learning-rate decay from core's schedules) and hyperparameters; "Try:" buttons load the
 * scenarios that show the lecture's points, and the table under the plot gives the numbers to check
 * them by. Runs entirely in the page. window.__playground exposes the state for the browser tests.
 */
import '../playground/playground.css';
import { drawAlphaChart } from '../playground/alpha-chart.js';
import { criticalPointsFigure } from '../playground/critical-points.js';
import { type DrawnPath, type PathStyle, SurfaceView } from '../playground/render.js';
import { ADAM_AS, SCENARIOS, type Scenario } from '../playground/scenarios.js';
import {
  BATCH_SIZES,
  createGhosts,
  createPaths,
  DECAY_KINDS,
  DECAYS,
  type DecayKind,
  describeMixedProgress,
  describeProgress,
  NEAR_SADDLE,
  PATH_KINDS,
  PATH_NAMES,
  type Path,
  type PathKind,
  type PathSettings,
  type PathStats,
  pathStats,
  REACHED,
  SETTLE_WINDOW,
  type SimConfig,
  uniformSettings,
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
config.each = uniformSettings(config.noise, config.batchSize);
/** Every path's settings, always filled in (the page sets config.each and keeps it). */
const each = (): Record<PathKind, PathSettings> => config.each as Record<PathKind, PathSettings>;
const visible: Record<PathKind, boolean> = { sgd: true, momentum: true, rmsprop: true, adam: true };
let paths: Record<PathKind, Path> = createPaths(config);
let ghosts: Partial<Record<PathKind, Path>> = createGhosts(config);
let iteration = 0;
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
    for (const k of PATH_KINDS) visible[k] = true;
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
batchSelect.input.disabled = !config.noise;

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

// "Try:" buttons, one per scenario of the surface.
const scenarioBox = byId('scenarios');
const scenarioLook = byId('scenario-look');
let currentScenario: Scenario | null = null;

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
}

function chooseScenario(s: Scenario, autoplay: boolean): void {
  pause();
  currentScenario = s;
  s.apply(config);
  for (const k of PATH_KINDS) visible[k] = s.show.includes(k);
  for (const b of scenarioBox.querySelectorAll('button'))
    b.setAttribute('aria-pressed', String(b.id === `scenario-${s.id}`));
  scenarioLook.textContent = s.look;
  syncControls();
  restart();
  if (autoplay && !prefersReducedMotion()) play();
}

// One fieldset per optimizer: which gradient it uses, its decay, its hyperparameters.
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
    {
      key: 'lr',
      label: 'α (learning rate)',
      min: 1e-4,
      max: 1e4,
      log: true,
      hint: 'W = W − α V_corr / (√S_corr + ε)',
    },
    { key: 'beta1', label: 'β₁', min: 0, max: 0.99, step: 0.01, hint: 'momentum average, usually 0.9' },
    { key: 'beta2', label: 'β₂', min: 0.9, max: 0.9999, step: 0.0001, hint: 'RMSProp average, usually 0.999' },
    { key: 'epsilon', label: 'ε', min: 1e-8, max: 1e4, log: true, hint: 'usually 10⁻⁸' },
  ],
};

const sliders: { kind: PathKind; key: string; s: ReturnType<typeof slider> }[] = [];
const showBoxes = {} as Record<PathKind, HTMLInputElement>;
const batchSelects = {} as Record<PathKind, HTMLSelectElement>;
const decaySelects = {} as Record<PathKind, HTMLSelectElement>;
const decaySlots = {} as Record<PathKind, HTMLElement>;
const tuning = byId('tuning');
let adamBias: HTMLInputElement | null = null;
const adamGap = el('p', { id: 'adam-gap', class: 'note', role: 'status' });

const BATCH_OPTIONS = [
  { value: 'full', label: 'Full batch (batch GD)' },
  ...BATCH_SIZES.map((b) => ({
    value: String(b),
    label: b === 1 ? 'Mini-batch of 1 (stochastic)' : `Mini-batch of ${b}`,
  })),
];

for (const kind of PATH_KINDS) {
  const fs = el('fieldset', { class: `optimizer opt-${kind}` });
  fs.append(el('legend', {}, swatch(kind), ` ${PATH_NAMES[kind]}`));
  const show = checkbox({
    id: `show-${kind}`,
    label: 'Show path',
    checked: true,
    onChange(on) {
      visible[kind] = on;
      update();
    },
  });
  showBoxes[kind] = show.input;
  fs.append(show.root);

  const batch = select<string>({
    id: `${kind}-batch`,
    label: 'Gradient from',
    options: BATCH_OPTIONS,
    value: 'full',
    onChange(v) {
      each()[kind] = { ...each()[kind], noise: v !== 'full', batchSize: v === 'full' ? config.batchSize : Number(v) };
      rebuild();
    },
  });
  batchSelects[kind] = batch.input;
  const decay = select<DecayKind>({
    id: `${kind}-decay`,
    label: 'Learning-rate decay',
    options: DECAY_KINDS.map((d) => ({ value: d, label: DECAYS[d].label })),
    value: 'constant',
    onChange(d) {
      each()[kind] = { ...each()[kind], decay: d, decayRate: DECAYS[d].value };
      renderDecaySlider(kind);
      rebuild();
    },
  });
  decaySelects[kind] = decay.input;
  decaySlots[kind] = el('div', { class: 'decay-slot' });
  fs.append(batch.root, decay.root, decaySlots[kind]);

  for (const spec of SPECS[kind]) {
    const hyper = config.hyper[kind] as unknown as Record<string, number>;
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
        (config.hyper[kind] as unknown as Record<string, number>)[spec.key] = v;
        rebuild();
      },
    });
    sliders.push({ kind, key: spec.key, s });
    fs.append(s.root);
  }
  if (kind === 'adam') {
    const bias = checkbox({
      id: 'adam-bias',
      label: 'Bias correction (÷ 1 − βᵗ)',
      checked: config.hyper.adam.biasCorrection,
      onChange(on) {
        config.hyper.adam.biasCorrection = on;
        rebuild();
      },
    });
    adamBias = bias.input;
    const asRms = el('button', { type: 'button', id: 'adam-as-rmsprop' }, 'Make Adam RMSProp (β₁ = 0)');
    const asMom = el('button', { type: 'button', id: 'adam-as-momentum' }, 'Make Adam momentum (ε ≫ √S)');
    asRms.addEventListener('click', () => reduceAdam('rmsprop'));
    asMom.addEventListener('click', () => reduceAdam('momentum'));
    fs.append(bias.root, el('div', { class: 'buttons' }, asRms, asMom), adamGap);
  }
  tuning.append(fs);
}

/** The decay's one parameter as a slider, rebuilt when the decay kind changes (its range changes). */
function renderDecaySlider(kind: PathKind): void {
  const s = each()[kind];
  const d = DECAYS[s.decay];
  if (s.decay === 'constant') {
    decaySlots[kind].replaceChildren();
    return;
  }
  const sl = slider({
    id: `${kind}-decay-rate`,
    label: d.param,
    min: d.min,
    max: d.max,
    step: d.step,
    value: s.decayRate,
    hint: d.formula,
    onInput(v) {
      each()[kind] = { ...each()[kind], decayRate: v };
      rebuild();
    },
  });
  decaySlots[kind].replaceChildren(sl.root, el('p', { class: 'formula' }, d.formula));
}

let adamTarget: 'rmsprop' | 'momentum' | null = null;
function reduceAdam(target: 'rmsprop' | 'momentum'): void {
  ADAM_AS[target](config);
  // Same gradient and no decay as the path it copies, so the two can coincide.
  each().adam = { ...each()[target], decay: 'constant', decayRate: 0 };
  each()[target] = { ...each()[target], decay: 'constant', decayRate: 0 };
  visible.adam = true;
  visible[target] = true;
  adamTarget = target;
  syncControls();
  rebuild();
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

function syncControls(): void {
  surfaceSelect.input.value = config.surface;
  noiseBox.input.checked = config.noise;
  batchSelect.input.value = String(config.batchSize);
  batchSelect.input.disabled = !config.noise;
  for (const { kind, key, s } of sliders) s.value = (config.hyper[kind] as unknown as Record<string, number>)[key];
  if (adamBias) adamBias.checked = config.hyper.adam.biasCorrection;
  for (const kind of PATH_KINDS) {
    const s = each()[kind];
    showBoxes[kind].checked = visible[kind];
    batchSelects[kind].value = s.noise ? String(s.batchSize) : 'full';
    decaySelects[kind].value = s.decay;
    renderDecaySlider(kind);
  }
}

// ---- the table under the plot -----------------------------------------------------------------------

type Column = { key: string; head: string; cell(kind: PathKind, p: Path, st: PathStats): string };
const table = byId<HTMLTableElement>('legend');

function columns(): Column[] {
  const s = SURFACES[config.surface];
  const anyNoise = PATH_KINDS.some((k) => visible[k] && each()[k].noise);
  const cols: Column[] = [
    {
      key: 'grad',
      head: 'Gradient',
      cell: (k) => {
        const e = each()[k];
        const g = e.noise ? `mini-batch ${e.batchSize}` : 'full batch';
        return e.decay === 'constant' ? g : `${g}, decay`;
      },
    },
    { key: 'alpha', head: 'α now', cell: (_k, p) => formatNumber(p.lr) },
    { key: 'loss', head: 'Loss', cell: (_k, p) => (p.diverged ? '—' : formatNumber(p.loss)) },
    { key: 'dist', head: 'Distance to the minimum', cell: (_k, p, st) => (p.diverged ? '—' : st.distance.toFixed(3)) },
  ];
  if (s.narrowAxis) {
    cols.push({
      key: 'swing',
      head: `Sideways swing Σ|Δ${s.narrowAxis}|`,
      cell: (_k, p, st) => (p.diverged ? '—' : (st.swing ?? 0).toFixed(1)),
    });
  }
  if (s.saddles.length) {
    cols.push({
      key: 'saddle',
      head: `Iterations within ${NEAR_SADDLE} of the saddle`,
      cell: (_k, _p, st) => String(st.nearSaddle ?? 0),
    });
  }
  cols.push({
    key: 'reached',
    head: `Within ${REACHED} of a minimum at`,
    cell: (_k, _p, st) => (st.reachedAt === null ? 'not yet' : `iteration ${st.reachedAt}`),
  });
  if (anyNoise) {
    cols.push({
      key: 'settle',
      head: `Mean distance, last ${SETTLE_WINDOW} iterations`,
      cell: (_k, p, st) => (p.diverged ? '—' : st.settle.toFixed(3)),
    });
  }
  cols.push({ key: 'status', head: '', cell: (_k, p) => (p.diverged ? 'diverged: lower α' : '') });
  return cols;
}

function renderTable(stats: Record<PathKind, PathStats>): void {
  const cols = columns();
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col' }, 'Optimizer'),
    ...cols.map((c) =>
      c.head
        ? el('th', { scope: 'col' }, c.head)
        : el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Status')),
    ),
  );
  const rows = PATH_KINDS.filter((k) => visible[k]).map((k) =>
    el(
      'tr',
      { 'data-kind': k },
      el('th', { scope: 'row' }, swatch(k), ` ${PATH_NAMES[k]}`),
      ...cols.map((c) =>
        el('td', { class: c.key === 'status' ? 'status' : 'num', 'data-col': c.key }, c.cell(k, paths[k], stats[k])),
      ),
    ),
  );
  table.replaceChildren(
    el('caption', {}, 'Where each path is now: the numbers behind the picture'),
    el('thead', {}, head),
    el('tbody', {}, ...rows),
  );
}

/** One sentence a student can check against the plot, from the same numbers. */
function findings(stats: Record<PathKind, PathStats>): string {
  const s = SURFACES[config.surface];
  const shown = PATH_KINDS.filter((k) => visible[k]);
  if (iteration === 0 || shown.length === 0) return 'Press Play or Step to start.';
  const alpha = (k: PathKind) => formatNumber(config.hyper[k].lr);
  if (s.narrowAxis) {
    return (
      `After ${iteration} iterations, sideways swing Σ|Δ${s.narrowAxis}|: ` +
      shown.map((k) => `${PATH_NAMES[k]} ${(stats[k].swing ?? 0).toFixed(1)} (α ${alpha(k)})`).join(', ') +
      '. Distance to the minimum: ' +
      shown.map((k) => `${PATH_NAMES[k]} ${paths[k].diverged ? 'diverged' : stats[k].distance.toFixed(3)}`).join(', ') +
      '.'
    );
  }
  if (s.saddles.length) {
    return shown
      .map((k) => {
        const st = stats[k];
        const reached =
          st.reachedAt === null ? 'has not reached a minimum yet' : `reached a minimum at iteration ${st.reachedAt}`;
        return `${PATH_NAMES[k]} spent ${st.nearSaddle} iterations within ${NEAR_SADDLE} of the saddle and ${reached}.`;
      })
      .join(' ');
  }
  return (
    `After ${iteration} iterations, distance to the minimum: ` +
    shown.map((k) => `${PATH_NAMES[k]} ${paths[k].diverged ? 'diverged' : stats[k].distance.toFixed(3)}`).join(', ') +
    '.'
  );
}

// ---- simulation -----------------------------------------------------------------------------------

/** Back to iteration 0 with the current settings. */
function restart(): void {
  paths = createPaths(config);
  ghosts = createGhosts(config);
  iteration = 0;
  update();
}

/** New settings: replay the paths from the start up to the current iteration, so a change shows at once. */
function rebuild(): void {
  const target = iteration;
  paths = createPaths(config);
  ghosts = createGhosts(config);
  iteration = 0;
  advance(target);
}

function advance(n: number): void {
  const k = Math.min(n, MAX_ITERATIONS - iteration);
  for (let i = 0; i < k; i++) {
    for (const kind of PATH_KINDS) {
      paths[kind].step();
      ghosts[kind]?.step();
    }
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
  if (ctx) {
    const drawn: DrawnPath[] = [];
    for (const kind of PATH_KINDS) {
      const g = ghosts[kind];
      if (g) drawn.push({ kind, xs: g.xs, ys: g.ys, style: STYLES[kind], visible: visible[kind], faint: true });
    }
    for (const kind of PATH_KINDS) {
      drawn.push({ kind, xs: paths[kind].xs, ys: paths[kind].ys, style: STYLES[kind], visible: visible[kind] });
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
          visible: visible[k],
          ratios: paths[k].lrs.map((lr) => lr / lr0),
        };
      }),
      Math.max(100, iteration),
    );
  }
}

function allStats(): Record<PathKind, PathStats> {
  return Object.fromEntries(PATH_KINDS.map((k) => [k, pathStats(paths[k])])) as Record<PathKind, PathStats>;
}

function sameSettings(): boolean {
  const shown = PATH_KINDS.filter((k) => visible[k]);
  const a = each()[shown[0] ?? 'sgd'];
  return shown.every((k) => {
    const b = each()[k];
    return b.noise === a.noise && (!a.noise || b.batchSize === a.batchSize);
  });
}

function update(): void {
  draw();
  const first = each()[PATH_KINDS.find((k) => visible[k]) ?? 'sgd'];
  counter.textContent = sameSettings()
    ? describeProgress(iteration, first.noise, first.batchSize)
    : describeMixedProgress(
        iteration,
        each(),
        PATH_KINDS.filter((k) => visible[k]),
      );
  const stats = allStats();
  renderTable(stats);
  byId('findings').textContent = findings(stats);
  if (adamTarget) {
    const a = paths.adam;
    const t = paths[adamTarget];
    const gap = Math.hypot(a.params[0] - t.params[0], a.params[1] - t.params[1]);
    adamGap.textContent = `Adam’s point is ${gap.toExponential(1)} from ${PATH_NAMES[adamTarget]}’s after ${iteration} iterations.`;
  }
  canvas.dataset.iteration = String(iteration);
  canvas.dataset.endpoints = JSON.stringify(endpoints());
  if (!playing) {
    const s = SURFACES[config.surface];
    canvas.setAttribute(
      'aria-label',
      `Contour plot of the ${s.name.toLowerCase()} with the paths of ${PATH_KINDS.filter((k) => visible[k])
        .map((k) => PATH_NAMES[k])
        .join(
          ', ',
        )} after ${iteration} iterations from (${s.start[0]}, ${s.start[1]}). The table below lists the numbers.`,
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
fitCanvas(alphaCanvas, (c, w, h) => {
  alphaCtx = { c, w, h };
  draw();
});

byId('critical-figure').append(criticalPointsFigure());
buildScenarios();
const askedScenario = SCENARIOS[config.surface].find((s) => s.id === params.get('scenario'));
if (askedScenario) chooseScenario(askedScenario, false);
else {
  syncControls();
  update();
}

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
    };
  }
}
type PathCopy = { xs: number[]; ys: number[]; lrs: number[] };
const copy = (p: Path): PathCopy => ({ xs: [...p.xs], ys: [...p.ys], lrs: [...p.lrs] });
window.__playground = {
  config: () => structuredClone(config),
  iteration: () => iteration,
  endpoints,
  paths: () => Object.fromEntries(PATH_KINDS.map((k) => [k, copy(paths[k])])) as Record<PathKind, PathCopy>,
  ghosts: () =>
    Object.fromEntries(PATH_KINDS.filter((k) => ghosts[k]).map((k) => [k, copy(ghosts[k] as Path)])) as Partial<
      Record<PathKind, PathCopy>
    >,
  stats: allStats,
  visible: () => ({ ...visible }),
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
};

if (!prefersReducedMotion() && params.get('autoplay') !== '0') play();
