/**
 * "What happens in one iteration": one epoch shuffled and cut into mini-batches (an animation over
 * core's planEpoch), then one iteration stage by stage (plan, shards out, gradients back, sum, central
 * step, weights out) from a small in-page run of the real planner, shard splitter and optimizer
 * (src/lesson/iteration-sim.ts). window.__iteration exposes the state for the browser tests.
 */
import '../lesson/lesson.css';
import {
  EXAMPLES,
  epochBatches,
  IterationLesson,
  type IterationTrace,
  LESSON_WORKERS,
} from '../lesson/iteration-sim.js';
import { select } from '../ui/controls.js';
import { byId, el } from '../ui/dom.js';
import { prefersReducedMotion } from '../ui/theme.js';

const SEED = 7;
const LR = 0.1;
const STAGES = ['Plan', 'Shards out', 'Gradients back', 'Sum', 'Central step', 'Weights out'] as const;

let batchSize = 8;
let epochShown = 0;
let lesson = new IterationLesson({ seed: SEED, batchSize, lr: LR });
let trace: IterationTrace | null = null;
let stage = -1; // index into STAGES; -1 before the first iteration

const fmt = (x: number) =>
  Math.abs(x) < 5e-5
    ? '0'
    : x
        .toFixed(4)
        .replace(/\.?0+$/, '')
        .replace('-', '−');
const hue = (i: number) => Math.round((i * 360) / EXAMPLES);

// ---- one epoch: shuffle, then mini-batches --------------------------------------------------------

const tiles = byId('epoch-tiles');
const epochCaption = byId('epoch-caption');

const batchControl = select<string>({
  id: 'epoch-batch',
  label: 'Mini-batch size',
  options: [4, 6, 8, 16].map((b) => ({ value: String(b), label: String(b) })),
  value: String(batchSize),
  onChange(v) {
    batchSize = Number(v);
    lesson = new IterationLesson({ seed: SEED, batchSize, lr: LR });
    trace = null;
    stage = -1;
    epochShown = 0;
    renderEpoch(true);
    renderIteration();
  },
});
const nextEpoch = el('button', { type: 'button', id: 'next-epoch', class: 'primary' }, 'Shuffle: next epoch');
nextEpoch.addEventListener('click', () => {
  epochShown++;
  renderEpoch(true);
});
byId('epoch-controls').append(batchControl.root, nextEpoch);

function tile(i: number): HTMLElement {
  return el('span', { class: 'tile', 'data-example': i, style: `--h: ${hue(i)}`, title: `example ${i}` }, String(i));
}

/** Re-lays the tiles for epochShown; with animate, each tile glides from where it was (FLIP). */
function renderEpoch(animate: boolean): void {
  const before = new Map<string, DOMRect>();
  for (const t of tiles.querySelectorAll<HTMLElement>('.tile'))
    before.set(t.dataset.example ?? '', t.getBoundingClientRect());
  const batches = epochBatches(SEED, epochShown, batchSize);
  const current = trace && trace.position.epoch === epochShown ? trace.position.batch : -1;
  tiles.replaceChildren(
    ...batches.map((b, k) => {
      const last = k === batches.length - 1 && b.length < batchSize;
      const label = last
        ? `Mini-batch ${k + 1}: ${b.length} (the remainder, ${EXAMPLES} mod ${batchSize})`
        : `Mini-batch ${k + 1}: ${b.length}`;
      return el(
        'div',
        { class: `batch${k === current ? ' current' : ''}${last ? ' remainder' : ''}`, 'data-batch': k },
        el('span', { class: 'batch-label' }, label),
        el('span', { class: 'batch-tiles' }, ...b.map(tile)),
      );
    }),
  );
  const n = batches.length;
  const rem = EXAMPLES % batchSize;
  epochCaption.textContent =
    `Epoch ${epochShown + 1} (epoch_num ${epochShown} in the decay formulas): the ${EXAMPLES} examples in a new ` +
    `order from the seed and the epoch, cut into ${n} mini-batches of ${batchSize}` +
    (rem ? `; the last holds the remainder, ${EXAMPLES} mod ${batchSize} = ${rem}.` : ', with no remainder.') +
    ` ${n} iterations make one epoch.`;
  if (!animate || prefersReducedMotion()) return;
  for (const t of tiles.querySelectorAll<HTMLElement>('.tile')) {
    const was = before.get(t.dataset.example ?? '');
    if (!was) continue;
    const now = t.getBoundingClientRect();
    t.animate(
      [{ transform: `translate(${was.left - now.left}px, ${was.top - now.top}px)` }, { transform: 'translate(0, 0)' }],
      { duration: 700, easing: 'cubic-bezier(.3,.7,.3,1)', delay: Number(t.dataset.example) * 15 },
    );
  }
}

// ---- one iteration, stage by stage ----------------------------------------------------------------

const stageList = byId('stages');
const workerBox = byId('workers');
const coordinator = byId('coordinator');
const stageNext = byId<HTMLButtonElement>('stage-next');
const iterationNext = byId<HTMLButtonElement>('iteration-next');
stageNext.addEventListener('click', () => {
  if (!trace || stage >= STAGES.length - 1) startIteration();
  else stage++;
  renderIteration();
});
iterationNext.addEventListener('click', () => {
  if (!trace || stage >= STAGES.length - 1) startIteration();
  stage = STAGES.length - 1;
  renderIteration();
});

function startIteration(): void {
  trace = lesson.next();
  stage = 0;
  if (trace.position.epoch !== epochShown) {
    epochShown = trace.position.epoch;
    renderEpoch(true);
  } else renderEpoch(false);
}

function stageText(i: number, t: IterationTrace): string {
  const p = t.position;
  const v = t.version;
  switch (i) {
    case 0:
      return (
        `Iteration ${p.iteration + 1} is mini-batch ${p.batch + 1} of ${t.batchesPerEpoch} in epoch ${p.epoch + 1}. ` +
        `The coordinator takes examples ${t.indices.join(', ')} from this epoch's shuffled order (${t.indices.length} examples).`
      );
    case 1:
      return (
        `splitShards divides the ${t.indices.length} examples by the workers' measured speeds ` +
        `(${LESSON_WORKERS.map((w) => w.speed).join(' : ')}): ${t.shardSizes.join(' + ')}. Each worker gets its ` +
        `example numbers and weights version ${v} (w = ${fmt(t.before[0])}, b = ${fmt(t.before[1])}).`
      );
    case 2:
      return (
        'Each worker returns sums over its shard, never means, tagged with version ' +
        `${v}: ` +
        t.results
          .map(
            (r) =>
              `${LESSON_WORKERS[r.worker].name}: Σ∂L/∂w = ${fmt(r.gradSum[0])}, Σ∂L/∂b = ${fmt(r.gradSum[1])} over ${r.count}`,
          )
          .join('; ') +
        '.'
      );
    case 3:
      return (
        `The coordinator adds them: Σ∂L/∂w = ${fmt(t.gradSum[0])}, Σ∂L/∂b = ${fmt(t.gradSum[1])}, ${t.count} examples, ` +
        `and divides by the ${t.indices.length} it planned: the mean gradient is (${fmt(t.mean[0])}, ${fmt(t.mean[1])}). ` +
        `Mean loss ${fmt(t.lossSum / t.indices.length)}.`
      );
    case 4:
      return (
        `One optimizer step, only on the coordinator: W = W − α · mean with α = ${t.lr}: ` +
        `w = ${fmt(t.before[0])} − ${t.lr} × ${fmt(t.mean[0])} = ${fmt(t.after[0])}, ` +
        `b = ${fmt(t.before[1])} − ${t.lr} × ${fmt(t.mean[1])} = ${fmt(t.after[1])}.`
      );
    default:
      return (
        `Weights version ${v + 1} goes out to every worker. A result for version ${v} arriving now would be ` +
        'discarded, so nothing is applied twice.'
      );
  }
}

function renderIteration(): void {
  const t = trace;
  stageList.replaceChildren(
    ...STAGES.map((name, i) => {
      const li = el(
        'li',
        { class: i < stage ? 'done' : i === stage ? 'now' : 'later', 'data-stage': i },
        el('strong', {}, `${name}.`),
        el('span', { class: 'stage-text' }, t && i <= stage ? ` ${stageText(i, t)}` : ''),
      );
      if (i === stage) li.setAttribute('aria-current', 'step');
      return li;
    }),
  );
  workerBox.replaceChildren(
    ...LESSON_WORKERS.map((w, k) => {
      const r = t?.results.find((x) => x.worker === k);
      const shard = t && stage >= 1 && r ? r.indices : [];
      const state =
        !t || stage < 1
          ? 'waiting'
          : stage === 1
            ? `computing on v${t.version}`
            : stage < 5
              ? 'sent its sums'
              : `has v${t.version + 1}`;
      return el(
        'div',
        { class: 'worker', id: `worker-${k}` },
        el('strong', {}, w.name),
        el('span', { class: 'muted' }, `relative speed ${w.speed} · ${state}`),
        el('span', { class: 'batch-tiles' }, ...shard.map(tile)),
        el(
          'span',
          { class: 'sums' },
          t && r && stage >= 2
            ? `Σ∂L/∂w ${fmt(r.gradSum[0])} · Σ∂L/∂b ${fmt(r.gradSum[1])} · ${r.count} example${r.count === 1 ? '' : 's'}`
            : '',
        ),
      );
    }),
  );
  const w = t ? (stage >= 4 ? t.after : t.before) : [lesson.weights[0], lesson.weights[1]];
  const version = t ? (stage >= 4 ? t.version + 1 : t.version) : lesson.version;
  coordinator.replaceChildren(
    el('strong', {}, 'Coordinator (the host tab)'),
    el('span', { class: 'muted' }, `weights version ${version}: w = ${fmt(w[0])}, b = ${fmt(w[1])}`),
    el('span', { class: 'sums' }, t && stage >= 3 ? `mean gradient (${fmt(t.mean[0])}, ${fmt(t.mean[1])})` : ''),
  );
  stageNext.textContent = !t || stage >= STAGES.length - 1 ? 'Start the next iteration' : `Next: ${STAGES[stage + 1]}`;
}

renderEpoch(false);
renderIteration();

declare global {
  interface Window {
    __iteration?: {
      trace(): IterationTrace | null;
      stage(): number;
      seed: number;
      batchSize(): number;
      epochShown(): number;
      data(): { x: number; y: number }[];
    };
  }
}
window.__iteration = {
  trace: () => (trace ? structuredClone(trace) : null),
  stage: () => stage,
  seed: SEED,
  batchSize: () => batchSize,
  epochShown: () => epochShown,
  data: () => lesson.data.map((d) => ({ ...d })),
};
