/**
 * The EWA explorer: a year of daily temperatures in London averaged with beta 0.5, 0.9 and 0.98 by
 * @gradroom/core's ewaSeries, with and without bias correction, drawn with uPlot. A second chart zooms
 * into the first weeks, where bias correction matters. window.__ewa exposes what is plotted for tests.
 */
import 'uplot/dist/uPlot.min.css';
import { Ewa, ewaSeries } from '@gradroom/core';
import uPlot from 'uplot';
import { DAYS, londonYear } from '../ewa/temperatures.js';
import { checkbox, slider } from '../ui/controls.js';
import { byId, el } from '../ui/dom.js';
import { SERIES_COLORS } from '../ui/theme.js';

const BETAS = [0.5, 0.9, 0.98] as const;
const BETA_COLORS: Record<(typeof BETAS)[number], string> = {
  0.5: SERIES_COLORS.purple,
  0.9: SERIES_COLORS.blue,
  0.98: SERIES_COLORS.green,
};
const EARLY_DAYS = 40;

const state = { seed: 2024, biasCorrection: true, zoomBeta: 0.98 };
let temps = londonYear(state.seed);
const days = Array.from({ length: DAYS }, (_, i) => i + 1);

// ---- controls -------------------------------------------------------------------------------------

const bcBox = checkbox({
  id: 'bias-correction',
  label: 'Bias correction: divide vₜ by 1 − βᵗ',
  checked: state.biasCorrection,
  onChange(on) {
    state.biasCorrection = on;
    refresh();
  },
});

const seedInput = el('input', {
  type: 'number',
  id: 'year-seed',
  name: 'year-seed',
  min: 0,
  step: 1,
  value: state.seed,
});
seedInput.addEventListener('change', () => {
  const s = Math.trunc(Number(seedInput.value));
  state.seed = Number.isFinite(s) && s >= 0 ? s : 0;
  temps = londonYear(state.seed);
  refresh();
});
const anotherYear = el('button', { type: 'button', id: 'another-year' }, 'Another year');
anotherYear.addEventListener('click', () => {
  seedInput.value = String(state.seed + 1);
  seedInput.dispatchEvent(new Event('change'));
});
const seedControl = el(
  'div',
  { class: 'control number' },
  el('label', { for: 'year-seed' }, 'Weather seed'),
  seedInput,
);

const zoomSlider = slider({
  id: 'zoom-beta',
  label: 'β in the close-up',
  min: 0.5,
  max: 0.99,
  step: 0.01,
  value: state.zoomBeta,
  format: (b) => `${b.toFixed(2)} (≈${Math.round(1 / (1 - b))} days)`,
  onInput(v) {
    state.zoomBeta = Math.round(v * 100) / 100;
    refresh();
  },
});

byId('ewa-controls').append(bcBox.root, seedControl, anotherYear);
byId('zoom-controls').append(zoomSlider.root);

// ---- charts ---------------------------------------------------------------------------------------

function mainData(): uPlot.AlignedData {
  return [days, temps, ...BETAS.map((b) => ewaSeries(temps, b, state.biasCorrection))];
}

function earlyData(): uPlot.AlignedData {
  const xs = temps.slice(0, EARLY_DAYS);
  return [days.slice(0, EARLY_DAYS), xs, ewaSeries(xs, state.zoomBeta, false), ewaSeries(xs, state.zoomBeta, true)];
}

const axisStyle: uPlot.Axis = { stroke: '#1d2733', grid: { stroke: '#e3e7ec' }, ticks: { stroke: '#cfd6df' } };
// The unit sits on the ticks (20 °C) rather than in an axis title, which saves width on a phone.
const yAxis: uPlot.Axis = { ...axisStyle, size: 52, values: (_u, ticks) => ticks.map((t) => `${t} °C`) };
const tempFmt = (_u: uPlot, v: number | null) => (v == null ? '—' : `${v.toFixed(1)} °C`);
const dayFmt = (_u: uPlot, v: number | null) => (v == null ? '—' : `day ${v}`);

function chartWidth(box: HTMLElement): number {
  return Math.max(260, Math.floor(box.clientWidth));
}
/** Wide screens get a wide chart; a phone gets a taller one, so the curves aren't squashed flat. */
function chartHeight(box: HTMLElement, ratio: number): number {
  const w = chartWidth(box);
  return Math.round(Math.min(420, Math.max(240, w * (w < 560 ? 0.8 : ratio))));
}

const mainBox = byId('main-chart');
const mainChart = new uPlot(
  {
    width: chartWidth(mainBox),
    height: chartHeight(mainBox, 0.45),
    scales: { x: { time: false } },
    axes: [{ ...axisStyle, label: 'day of the year' }, yAxis],
    series: [
      { label: 'Day', value: dayFmt },
      {
        label: 'Temperature θₜ',
        stroke: '#8a94a3',
        width: 0,
        points: { show: true, size: 4, fill: '#8a94a3', stroke: '#8a94a3' },
        value: tempFmt,
      },
      ...BETAS.map((b) => ({
        label: `β = ${b} (≈${Math.round(1 / (1 - b))} days)`,
        stroke: BETA_COLORS[b],
        width: 2.25,
        dash: b === 0.98 ? [8, 3] : undefined,
        value: tempFmt,
      })),
    ],
  },
  mainData(),
  mainBox,
);

const earlyBox = byId('early-chart');
const earlyChart = new uPlot(
  {
    width: chartWidth(earlyBox),
    height: chartHeight(earlyBox, 0.4),
    scales: { x: { time: false } },
    axes: [{ ...axisStyle, label: 'day of the year' }, yAxis],
    series: [
      { label: 'Day', value: dayFmt },
      {
        label: 'Temperature θₜ',
        stroke: '#8a94a3',
        width: 0,
        points: { show: true, size: 6, fill: '#8a94a3', stroke: '#8a94a3' },
        value: tempFmt,
      },
      { label: 'vₜ, no correction', stroke: SERIES_COLORS.orange, width: 2.25, dash: [6, 4], value: tempFmt },
      { label: 'vₜ / (1 − βᵗ)', stroke: SERIES_COLORS.green, width: 2.25, value: tempFmt },
    ],
  },
  earlyData(),
  earlyBox,
);

for (const [chart, box, ratio] of [
  [mainChart, mainBox, 0.45],
  [earlyChart, earlyBox, 0.4],
] as const) {
  new ResizeObserver(() => chart.setSize({ width: chartWidth(box), height: chartHeight(box, ratio) })).observe(box);
}

// ---- text -----------------------------------------------------------------------------------------

function refresh(): void {
  mainChart.setData(mainData());
  earlyChart.setData(earlyData());
  describe();
}

/** Numbers for the caption, from core's Ewa: the first day and how far from the truth it starts. */
function describe(): void {
  const b = state.zoomBeta;
  const theta1 = temps[0];
  const raw = new Ewa(b, { biasCorrection: false });
  const v1 = raw.update(theta1);
  const weekMean = temps.slice(0, 7).reduce((s, x) => s + x, 0) / 7;
  for (let i = 1; i < 7; i++) raw.update(temps[i]);
  byId('early-text').textContent =
    `With β = ${b.toFixed(2)}, day 1 is ${theta1.toFixed(1)} °C but v₁ = (1 − β)·θ₁ = ${v1.toFixed(2)} °C: ` +
    `the average starts from v₀ = 0. Dividing by 1 − β¹ = ${(1 - b).toFixed(2)} gives back ${theta1.toFixed(1)} °C. ` +
    `After a week the raw average is ${raw.value.toFixed(1)} °C, the corrected one ${raw.corrected.toFixed(1)} °C, ` +
    `and the week's plain mean ${weekMean.toFixed(1)} °C.`;
  byId('main-caption').textContent =
    `A year of daily temperatures and their averages with β = ${BETAS.join(', ')}, ` +
    `${state.biasCorrection ? 'with' : 'without'} bias correction`;
}
describe();

declare global {
  interface Window {
    __ewa?: {
      temps(): number[];
      biasCorrection(): boolean;
      betas: readonly number[];
      zoomBeta(): number;
      /** The data uPlot is drawing: [days, temps, ...series]. */
      mainPlotted(): (number | null | undefined)[][];
      earlyPlotted(): (number | null | undefined)[][];
    };
  }
}
window.__ewa = {
  temps: () => [...temps],
  biasCorrection: () => state.biasCorrection,
  betas: BETAS,
  zoomBeta: () => state.zoomBeta,
  mainPlotted: () => mainChart.data.map((s) => Array.from(s)),
  earlyPlotted: () => earlyChart.data.map((s) => Array.from(s)),
};
