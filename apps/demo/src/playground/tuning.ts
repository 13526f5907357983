/**
 * The playground's "Hyperparameters" section: one fieldset per optimizer with its path's gradient
 * (full batch or a mini-batch), its learning-rate decay (and the decay's parameters) and its
 * hyperparameters; Adam's also has bias correction, the buttons that reduce it to RMSProp or
 * momentum, and the measured effect of bias correction on its first step.
 */
import { checkbox, select, slider } from '../ui/controls.js';
import { el } from '../ui/dom.js';
import { adamFirstStep, describeAdamFirstStep } from './adam-bias.js';
import { ADAM_AS } from './scenarios.js';
import {
  BATCH_SIZES,
  DECAY_KINDS,
  DECAYS,
  type DecayKind,
  PATH_KINDS,
  PATH_NAMES,
  type PathKind,
  STAIRCASE_EVERY,
  STAIRCASE_EVERY_MAX,
} from './sim.js';
import { SPECS } from './specs.js';
import { eachOf, type PlaygroundState, swatch } from './state.js';

export interface TuningHost {
  state: PlaygroundState;
  /** New settings: replay the run so far with them. */
  rebuild(): void;
  /** Redraw without replaying (a path shown or hidden). */
  update(): void;
  /** Sets every control from the state (the page's own controls too). */
  syncControls(): void;
}

export interface Tuning {
  /** Sets these controls from the state. */
  sync(): void;
  /** The path Adam was last reduced to, for the "how far apart" line. */
  adamTarget(): 'rmsprop' | 'momentum' | null;
  /** Rewrites the Adam notes from the state (after any change). */
  updateAdamNotes(): void;
}

const BATCH_OPTIONS = [
  { value: 'full', label: 'Full batch (batch GD)' },
  ...BATCH_SIZES.map((b) => ({
    value: String(b),
    label: b === 1 ? 'Mini-batch of 1 (stochastic)' : `Mini-batch of ${b}`,
  })),
];

type Hyper = Record<string, number>;

export function buildTuning(root: HTMLElement, host: TuningHost): Tuning {
  const { state } = host;
  const each = () => eachOf(state.config);
  const sliders: { kind: PathKind; key: string; s: ReturnType<typeof slider> }[] = [];
  const showBoxes = {} as Record<PathKind, HTMLInputElement>;
  const batchSelects = {} as Record<PathKind, HTMLSelectElement>;
  const decaySelects = {} as Record<PathKind, HTMLSelectElement>;
  const decaySlots = {} as Record<PathKind, HTMLElement>;
  let adamBias: HTMLInputElement | null = null;
  const adamGap = el('p', { id: 'adam-gap', class: 'note', role: 'status' });
  const adamFirst = el('p', { id: 'adam-first-step', class: 'note' });
  let target: 'rmsprop' | 'momentum' | null = null;

  /** The decay's parameters as sliders, rebuilt when the decay kind changes (their ranges change). */
  function renderDecaySliders(kind: PathKind): void {
    const s = each()[kind];
    const d = DECAYS[s.decay];
    if (s.decay === 'constant') {
      decaySlots[kind].replaceChildren();
      return;
    }
    const rate = slider({
      id: `${kind}-decay-rate`,
      label: d.param,
      min: d.min,
      max: d.max,
      step: d.step,
      value: s.decayRate,
      hint: d.formula,
      onInput(v) {
        each()[kind] = { ...each()[kind], decayRate: v };
        host.rebuild();
      },
    });
    const parts: HTMLElement[] = [rate.root];
    if (s.decay === 'staircase') {
      const every = slider({
        id: `${kind}-decay-every`,
        label: 'N (epochs per stair)',
        min: 1,
        max: STAIRCASE_EVERY_MAX,
        step: 1,
        value: s.every ?? STAIRCASE_EVERY,
        format: (x) => String(Math.round(x)),
        hint: 'α drops by the factor once every N epochs, and stays flat in between',
        onInput(v) {
          each()[kind] = { ...each()[kind], every: Math.round(v) };
          host.rebuild();
        },
      });
      parts.push(every.root);
    }
    decaySlots[kind].replaceChildren(...parts, el('p', { class: 'formula' }, d.formula));
  }

  function reduceAdam(to: 'rmsprop' | 'momentum'): void {
    ADAM_AS[to](state.config);
    // Same gradient and no decay as the path it copies, so the two can coincide.
    each().adam = { ...each()[to], decay: 'constant', decayRate: 0 };
    each()[to] = { ...each()[to], decay: 'constant', decayRate: 0 };
    state.visible.adam = true;
    state.visible[to] = true;
    target = to;
    host.syncControls();
    host.rebuild();
  }

  for (const kind of PATH_KINDS) {
    const fs = el('fieldset', { class: `optimizer opt-${kind}` });
    fs.append(el('legend', {}, swatch(kind), ` ${PATH_NAMES[kind]}`));
    const show = checkbox({
      id: `show-${kind}`,
      label: 'Show path',
      checked: true,
      onChange(on) {
        state.visible[kind] = on;
        host.update();
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
        each()[kind] = {
          ...each()[kind],
          noise: v !== 'full',
          batchSize: v === 'full' ? state.config.batchSize : Number(v),
        };
        host.rebuild();
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
        renderDecaySliders(kind);
        host.rebuild();
      },
    });
    decaySelects[kind] = decay.input;
    decaySlots[kind] = el('div', { class: 'decay-slot' });
    fs.append(batch.root, decay.root, decaySlots[kind]);

    for (const spec of SPECS[kind]) {
      const s = slider({
        id: `${kind}-${spec.key}`,
        label: spec.label,
        min: spec.min,
        max: spec.max,
        step: spec.step,
        log: spec.log,
        value: (state.config.hyper[kind] as unknown as Hyper)[spec.key],
        hint: spec.hint,
        onInput(v) {
          (state.config.hyper[kind] as unknown as Hyper)[spec.key] = v;
          host.rebuild();
        },
      });
      sliders.push({ kind, key: spec.key, s });
      fs.append(s.root);
    }
    if (kind === 'adam') {
      const bias = checkbox({
        id: 'adam-bias',
        label: 'Bias correction (÷ 1 − βᵗ)',
        checked: state.config.hyper.adam.biasCorrection,
        onChange(on) {
          state.config.hyper.adam.biasCorrection = on;
          host.rebuild();
        },
      });
      adamBias = bias.input;
      const asRms = el('button', { type: 'button', id: 'adam-as-rmsprop' }, 'Make Adam RMSProp (β₁ = 0)');
      const asMom = el('button', { type: 'button', id: 'adam-as-momentum' }, 'Make Adam momentum (ε ≫ √S)');
      asRms.addEventListener('click', () => reduceAdam('rmsprop'));
      asMom.addEventListener('click', () => reduceAdam('momentum'));
      fs.append(bias.root, adamFirst, el('div', { class: 'buttons' }, asRms, asMom), adamGap);
    }
    root.append(fs);
  }

  return {
    sync() {
      for (const { kind, key, s } of sliders) s.value = (state.config.hyper[kind] as unknown as Hyper)[key];
      if (adamBias) adamBias.checked = state.config.hyper.adam.biasCorrection;
      for (const kind of PATH_KINDS) {
        const s = each()[kind];
        showBoxes[kind].checked = state.visible[kind];
        batchSelects[kind].value = s.noise ? String(s.batchSize) : 'full';
        decaySelects[kind].value = s.decay;
        renderDecaySliders(kind);
      }
    },
    adamTarget: () => target,
    updateAdamNotes() {
      const { adam } = state.config.hyper;
      adamFirst.textContent = describeAdamFirstStep(adamFirstStep(state.config), adam.beta1, adam.beta2);
      if (target) {
        const a = state.paths.adam;
        const t = state.paths[target];
        const gap = Math.hypot(a.params[0] - t.params[0], a.params[1] - t.params[1]);
        adamGap.textContent = `Adam’s point is ${gap.toExponential(1)} from ${PATH_NAMES[target]}’s after ${state.iteration} iterations.`;
      }
    },
  };
}
