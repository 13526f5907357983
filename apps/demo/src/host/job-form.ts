/**
 * The host page's job form: model (the zoo), optimizer and its hyperparameters, learning-rate
 * schedule, mini-batch size (with the lecture's advice from @gradroom/core's adviseBatchSize) and
 * epochs. Builds a JobConfig that @gradroom/coordinator's validateJob accepts.
 */
import type { JobConfig } from '@gradroom/coordinator/browser';
import {
  adviseBatchSize,
  type BatchSizeAdvice,
  defaultInnerScale,
  defaultOuter,
  estimateBytesPerExample,
  fixedShareOfSplit,
  type ModelSpec,
  type OptimizerConfig,
  type ScheduleConfig,
  type ShardSpeed,
} from '@gradroom/core';
import { datasetSizes, ZOO, type ZooName } from '@gradroom/worker/catalog';
import { el } from '../ui/dom.js';
import { jobDataset } from './chunked-data.js';
import { counted } from './format.js';
import { FIELDS } from './job-fields.js';
import { DEFAULT_TARGET, parseTarget, type TargetDataset } from './target.js';

export type OptimizerChoice = 'sgd' | 'momentum' | 'rmsprop' | 'adam';
export type ScheduleChoice =
  | 'constant'
  | 'inverse-time'
  | 'exponential'
  | 'staircase'
  | 'inverse-sqrt-epoch'
  | 'inverse-sqrt-iteration';

/** The models the host offers (a subset of the zoo: each one the class can train in a few minutes). */
const MODELS: Partial<Record<ZooName, string>> = {
  'mlp-small': 'MLP 784 → 128 → 10',
  'mlp-wide': 'MLP 784 → 256 → 128 → 10',
  'cnn-small': 'CNN (8, 16 filters) → 64 → 10',
  'cnn-portable': 'CNN as Conv3D (the same, and trains on wasm)',
};

/** Mode local's warm start on this page: the command line's default (DEFAULT_WARMUP), 160 iterations. */
const LOCAL_WARM_START = 160;

/** Mode local in words, for H (as typed) and the warm start: what the room will do, and what was measured. */
function localText(h: string, warm: number): string {
  const steps = Number(h) === 1 ? '1 step' : `${h || 'H'} steps`;
  const outer = defaultOuter({ steps: Number(h) >= 1 ? Math.floor(Number(h)) : 'auto', workers: 1, exactFirst: warm });
  const start =
    warm > 0
      ? `The room averages those moves and steps to their mean. The first ${warm} mini-batches run as ordinary mini-batch steps on this laptop (a warm start, when this tab trains too) while the students' laptops wait, so the rounds start from a model that has already learned. Measured: a warm start of 160 took MNIST to 92 % in 2 epochs instead of 7, and on the classroom testbed 8 laptops then reached 85 % on Fashion-MNIST in 47-52 s where one such laptop alone took 57-65 s (the warm start itself is a third of that).`
      : `Without a warm start the room steps ${outer.lr} times along the mean of those moves, and each laptop's own step grows with the square root of the number of laptops in a round (with 8, 2.8 times the rate above): from scratch, measured, 8 laptops then reached 92 % on MNIST in 40,000 examples instead of never. After a warm start both would overshoot, so the room then steps to the mean, at the rate above.`;
  return `Each laptop takes ${steps} on its own mini-batches with the optimizer above, then sends back how far its weights moved. ${start} Far fewer messages, so a slow Wi-Fi cell stops being the bottleneck; but the weights are no longer exactly those of the plain loop, and each epoch brings fewer, bigger steps, so it may need more epochs to reach the same accuracy.`;
}

/**
 * The built-in data sets (28x28 grey images, 10 classes: every model above fits both). The page
 * offers Fashion-MNIST's 12,000-image subset: every tab downloads the whole file it trains on, and
 * the full 60,000 (55 MB) through one classroom Wi-Fi cell would hold up every start.
 */
type DataChoice = 'mnist' | 'fashion-mnist-small';
const DATASETS: Record<DataChoice, string> = {
  mnist: 'MNIST digits',
  'fashion-mnist-small': 'Fashion-MNIST clothes (12,000 of the 60,000)',
};

const OPTIMIZERS: Record<OptimizerChoice, string> = {
  sgd: 'Gradient descent (no momentum)',
  momentum: 'Momentum',
  rmsprop: 'RMSProp',
  adam: 'Adam',
};

const SCHEDULES: Record<ScheduleChoice, string> = {
  constant: 'Constant α',
  'inverse-time': 'α₀ / (1 + decay·epoch)',
  exponential: 'base^epoch · α₀',
  staircase: 'Staircase: α₀ · factor^⌊epoch/every⌋',
  'inverse-sqrt-epoch': 'k / √epoch · α₀',
  'inverse-sqrt-iteration': 'k / √t · α₀ (t = iteration)',
};

/** A usual learning rate per optimizer: what the field resets to when the optimizer changes. */
const DEFAULT_LR: Record<OptimizerChoice, number> = { sgd: 0.1, momentum: 0.1, rmsprop: 0.002, adam: 0.005 };

/** 0.92 as 92 (not 92.00000000000001). */
const percent = (x: number) => Math.round(x * 1000) / 10;

const BATCH_SIZES = [1, 8, 16, 32, 64, 128, 256, 512, 1024];

export interface JobForm {
  root: HTMLElement;
  /** The job the form describes (throws with a message naming the field when a value is unusable). */
  job(): JobConfig;
  advice(): BatchSizeAdvice;
  /**
   * The workers in the room, as measured (fixed cost per shard and time per example): the advice
   * then picks the mini-batch at which communication stops dominating. Empty: no measurements yet.
   */
  setWorkers(workers: ShardSpeed[]): void;
  /** Locks the fields that cannot change during a run. */
  setRunning(running: boolean): void;
  /** The target accuracy (0..1) the run is timed to (throws with a message when unusable). */
  target(): number;
}

function labelled(id: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  const root = el('div', { class: 'control', 'data-field': id }, el('label', { for: id }, label), input);
  if (hint) {
    const hid = `${id}-hint`;
    root.append(el('span', { class: 'hint', id: hid }, hint));
    input.setAttribute('aria-describedby', hid);
  }
  return root;
}

function selectOf<T extends string>(id: string, options: Record<T, string>, value: T): HTMLSelectElement {
  const s = el('select', { id, name: id });
  for (const [v, label] of Object.entries(options) as [T, string][])
    s.append(el('option', { value: v, selected: v === value }, label));
  return s;
}

function numberInput(
  id: string,
  value: number,
  o: { min?: number; max?: number; step?: number | 'any' } = {},
): HTMLInputElement {
  return el('input', {
    type: 'number',
    id,
    name: id,
    value,
    min: o.min,
    max: o.max,
    step: o.step ?? 'any',
    inputmode: 'decimal',
    required: true,
  });
}

export function jobForm(): JobForm {
  const model = selectOf('model', MODELS as Record<ZooName, string>, 'mlp-small');
  const data = selectOf<DataChoice>('dataset', DATASETS, 'mnist');
  const trainN = () => datasetSizes({ kind: data.value as DataChoice, split: 'train' })?.train ?? 0;
  const optimizer = selectOf<OptimizerChoice>('optimizer', OPTIMIZERS, 'adam');
  const lr = numberInput('lr', DEFAULT_LR.adam, { min: 0 });
  const schedule = selectOf<ScheduleChoice>('schedule', SCHEDULES, 'inverse-time');
  const batch = el('select', { id: 'batch-size', name: 'batch-size' });
  for (const b of BATCH_SIZES) batch.append(el('option', { value: b, selected: b === 64 }, String(b)));
  const whole = el('option', { value: trainN() }, `${trainN()} (the whole set: batch GD)`);
  batch.append(whole);
  const epochs = numberInput('epochs', 3, { min: 1, max: 100, step: 1 });
  // the target follows the data set until someone types one
  const target = numberInput('target-accuracy', percent(DEFAULT_TARGET.mnist), { min: 50, max: 99.9, step: 'any' });
  let targetEdited = false;
  target.addEventListener('input', () => {
    targetEdited = true;
  });
  data.addEventListener('change', () => {
    if (!targetEdited) target.value = String(percent(DEFAULT_TARGET[data.value as TargetDataset]));
  });
  const seed = numberInput('seed', 1, { min: 0, step: 1 });
  const fields = new Map(FIELDS.map((f) => [f.id, { f, input: numberInput(f.id, f.value, f) }]));
  const fieldRoots = new Map(
    [...fields.values()].map(({ f, input }) => [f.id, labelled(f.id, f.label, input, f.hint)] as const),
  );

  const adviceText = el('p', { id: 'batch-advice', class: 'advice' });
  const useAdvice = el('button', { type: 'button', id: 'use-advice' }, 'Use the advised size');
  const perEpoch = el('span', { id: 'per-epoch', class: 'hint' });

  const optimizerBox = el(
    'fieldset',
    { class: 'group' },
    el('legend', {}, 'Optimizer'),
    labelled('optimizer', 'Algorithm', optimizer),
    labelled('lr', 'Learning rate α', lr, 'α₀ when a schedule decays it'),
    ...['momentum-beta', 'rho', 'beta1', 'beta2', 'epsilon'].map((id) => fieldRoots.get(id) as HTMLElement),
  );
  const scheduleBox = el(
    'fieldset',
    { class: 'group' },
    el('legend', {}, 'Learning-rate decay'),
    labelled('schedule', 'Schedule', schedule),
    ...['decay-rate', 'decay-base', 'decay-factor', 'decay-every', 'k'].map((id) => fieldRoots.get(id) as HTMLElement),
  );
  const dataBox = el(
    'fieldset',
    { class: 'group' },
    el('legend', {}, 'Model and mini-batches'),
    labelled('dataset', 'Data set', data),
    labelled('target-accuracy', 'Target test accuracy (%)', target, 'the room and this laptop alone are timed to it'),
    labelled('model', 'Model', model),
    el('div', { class: 'control' }, el('label', { for: 'batch-size' }, 'Mini-batch size'), batch, perEpoch),
    adviceText,
    el('div', { class: 'buttons tight' }, useAdvice),
    labelled('epochs', 'Epochs', epochs, 'one epoch = one pass over the training set'),
    labelled('seed', 'Seed', seed, 'shuffling and initial weights'),
  );
  // how the room shares the work: the lecture's exact mini-batch SGD, or fewer and bigger steps
  const mode = selectOf<'exact' | 'local'>(
    'mode',
    { exact: 'Exact: one central step per mini-batch', local: 'Local steps: fewer, bigger central steps' },
    'exact',
  );
  const localSteps = numberInput('local-steps', 8, { min: 1, max: 500, step: 1 });
  const warmStart = numberInput('warm-start', LOCAL_WARM_START, { min: 0, max: 100_000, step: 1 });
  const compress = selectOf<'default' | 'none' | 'fp16' | 'int8'>(
    'compress',
    {
      // measured on the classroom testbed: the students' link is the round's bottleneck (README)
      default: "int8 from students' laptops, float32 from this one",
      none: 'none (float32)',
      fp16: 'fp16 (half the bytes)',
      int8: 'int8 (a quarter)',
    },
    'default',
  );
  const localRoots = [
    labelled('local-steps', 'Inner steps per round (H)', localSteps, 'mini-batches each laptop trains alone'),
    labelled(
      'warm-start',
      'Warm start',
      warmStart,
      'mini-batches of ordinary steps first, on this tab (0: none; without “This tab trains too”, until a student joins)',
    ),
    labelled('compress', 'Updates travel as', compress, 'rounding is carried to the next round, not lost'),
  ];
  const modeText = el('p', { id: 'mode-explain', class: 'advice' });
  const modeBox = el(
    'fieldset',
    { class: 'group' },
    el('legend', {}, 'How the room shares the work'),
    labelled('mode', 'Mode', mode),
    ...localRoots,
    modeText,
  );
  const showMode = () => {
    const local = mode.value === 'local';
    for (const r of localRoots) r.hidden = !local;
    modeText.textContent = local
      ? localText(localSteps.value, Math.max(0, Math.floor(Number(warmStart.value) || 0)))
      : 'Every mini-batch is split among the laptops, their gradients are added up, and the room takes one optimizer step: exactly the plain loop of the lecture, whatever the number of laptops. Each laptop receives the weights and returns a gradient every iteration, so on a shared Wi-Fi the link can cost more than the computing.';
  };
  mode.addEventListener('change', showMode);
  localSteps.addEventListener('input', showMode);
  warmStart.addEventListener('input', showMode);
  showMode();
  const root = el('div', { class: 'job-form' }, dataBox, optimizerBox, scheduleBox, modeBox);

  const spec = (): ModelSpec => structuredClone(ZOO[model.value as ZooName]) as ModelSpec;
  let workers: ShardSpeed[] = [];
  const advice = (): BatchSizeAdvice => {
    const input = { examples: trainN(), bytesPerExample: estimateBytesPerExample(spec()) };
    const a = adviseBatchSize(workers.length > 0 ? { ...input, workers } : input);
    // without measurements the lecture's list is a range (64 to 512, all fitting in memory here);
    // advise its start, which is also the default, rather than its top
    return a.mode === 'mini-batch' && workers.length === 0 ? { ...a, size: Math.min(a.size, 64) } : a;
  };
  /** The advice in a teacher's words (core's reason carries the arithmetic). */
  const adviceWords = (a: BatchSizeAdvice, total: number): string => {
    const n = total.toLocaleString('en');
    const its = (b: number) => `${counted(Math.ceil(total / b), 'iteration')} per epoch`;
    if (a.mode === 'batch')
      return `${n} training examples is a small set (2,000 or fewer), so the lecture says: use them all in every iteration (batch gradient descent, ${its(a.size)}).`;
    const fits = adviseBatchSize({ examples: total, bytesPerExample: estimateBytesPerExample(spec()) }).size;
    const range = [64, 128, 256, 512].filter((b) => b <= fits).join(', ');
    const head = `${n} training examples is more than 2,000, so the lecture says: mini-batches of a power of two that fit in memory (${range} do here).`;
    if (workers.length === 0)
      return `${head} 64 gives the most updates per epoch (${its(64)}). In a room, larger mini-batches give each worker more to compute per message sent; once workers are measured, this advice says which size pays.`;
    const share = fixedShareOfSplit(a.size, workers);
    const who = workers.length === 1 ? 'the one worker measured' : `the ${workers.length} workers measured`;
    return share <= 0.2
      ? `${head} With ${who}, ${a.size} is the smallest at which sending weights and gradients takes at most a fifth of each shard (${its(a.size)}).`
      : `${head} Even at ${a.size}, the largest that fits, ${who} spend ${Math.round(share * 100)}% of each shard on sending weights and gradients: fewer workers, or a faster link, would waste less (${its(a.size)}).`;
  };

  const refresh = () => {
    const shown = new Set<string>([optimizer.value, schedule.value]);
    for (const { f } of fields.values())
      (fieldRoots.get(f.id) as HTMLElement).hidden = !f.for.some((k) => shown.has(k));
    const a = advice();
    const total = trainN();
    whole.value = String(total);
    whole.textContent = `${total} (the whole set: batch GD)`;
    adviceText.textContent = adviceWords(a, total);
    adviceText.title = a.reason;
    const b = Number(batch.value);
    const n = Math.ceil(total / b);
    perEpoch.textContent = `${n.toLocaleString('en')} iteration${n === 1 ? '' : 's'} per epoch${b === 1 ? ' (stochastic GD)' : b >= total ? ' (batch GD)' : ''}`;
    useAdvice.disabled = b === a.size || model.disabled;
  };
  optimizer.addEventListener('change', () => {
    lr.value = String(DEFAULT_LR[optimizer.value as OptimizerChoice]);
    refresh();
  });
  for (const s of [schedule, model, batch, data]) s.addEventListener('change', refresh);
  useAdvice.addEventListener('click', () => {
    batch.value = String(advice().size);
    refresh();
    batch.focus();
  });
  refresh();

  const value = (id: string, input: HTMLInputElement, label: string): number => {
    const v = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(v))
      throw new Error(`${label} must be a number${id === 'lr' ? ', such as 0.001' : ''}.`);
    return v;
  };
  const f = (id: string) => {
    const x = fields.get(id);
    if (!x) throw new Error(`no field ${id}`);
    return value(id, x.input, x.f.label);
  };

  return {
    root,
    advice,
    setWorkers(list) {
      const before = JSON.stringify(workers);
      workers = list.filter((w) => w.fixedMs >= 0 && w.msPerExample > 0);
      if (JSON.stringify(workers) !== before) refresh();
    },
    target: () => parseTarget(target.value),
    job(): JobConfig {
      const alpha = value('lr', lr, 'Learning rate');
      const kind = optimizer.value as OptimizerChoice;
      const opt: OptimizerConfig =
        kind === 'sgd'
          ? { kind, lr: alpha }
          : kind === 'momentum'
            ? { kind, lr: alpha, momentum: f('momentum-beta'), form: 'ewa' }
            : kind === 'rmsprop'
              ? { kind, lr: alpha, rho: f('rho'), epsilon: f('epsilon') }
              : { kind, lr: alpha, beta1: f('beta1'), beta2: f('beta2'), epsilon: f('epsilon') };
      const s = schedule.value as ScheduleChoice;
      const sched: ScheduleConfig =
        s === 'constant'
          ? { kind: s, lr: alpha }
          : s === 'inverse-time'
            ? { kind: s, lr0: alpha, decayRate: f('decay-rate') }
            : s === 'exponential'
              ? { kind: s, lr0: alpha, base: f('decay-base') }
              : s === 'staircase'
                ? { kind: s, lr0: alpha, factor: f('decay-factor'), every: f('decay-every') }
                : { kind: s, lr0: alpha, k: f('k') };
      return {
        model: spec(),
        dataset: jobDataset(data.value as DataChoice),
        optimizer: opt,
        schedule: sched,
        batchSize: Number(batch.value),
        epochs: value('epochs', epochs, 'Epochs'),
        seed: value('seed', seed, 'Seed'),
        ...(mode.value === 'local'
          ? {
              mode: ((steps: number, warmup: number) => ({
                kind: 'local' as const,
                steps,
                // the measured defaults (README, Training modes): a warm start, then the outer step
                // and the inner step's scale with the laptops in a round that follow from it
                outer: defaultOuter({ steps, workers: 1, exactFirst: warmup }),
                warmup,
                innerScale: defaultInnerScale(warmup),
                ...(compress.value === 'default' ? {} : { compress: compress.value as 'none' | 'fp16' | 'int8' }),
              }))(
                value('local-steps', localSteps, 'Inner steps per round'),
                value('warm-start', warmStart, 'Warm start'),
              ),
            }
          : {}),
      };
    },
    setRunning(running: boolean) {
      for (const c of root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>(
        'input, select, button',
      )) {
        c.disabled = running;
      }
      if (!running) refresh();
    },
  };
}
