/**
 * Labelled form controls built from standard inputs: every control has a <label>, a range slider
 * shows its value in an <output> tied to it, and log-scale sliders map their position to a value.
 */
import { el, formatNumber } from './dom.js';

export interface SliderOptions {
  id: string;
  label: string;
  min: number;
  max: number;
  value: number;
  /** Linear step (ignored for log sliders, which move in 1/steps-per-decade). */
  step?: number;
  /** Log scale: the slider moves the exponent, so 1e-4 .. 1 is as easy to reach as 0.1 .. 1. */
  log?: boolean;
  /** Text for the readout; formatNumber by default. */
  format?: (x: number) => string;
  /** Extra words for screen readers (aria-describedby text). */
  hint?: string;
  onInput: (value: number) => void;
}

export interface Slider {
  root: HTMLElement;
  input: HTMLInputElement;
  get value(): number;
  set value(v: number);
}

const LOG_STEPS_PER_DECADE = 20;

/** A labelled range input with a live readout. */
export function slider(o: SliderOptions): Slider {
  const fmt = o.format ?? formatNumber;
  const toPos = (v: number) => (o.log ? Math.log10(v) : v);
  const fromPos = (p: number) => (o.log ? roundLog(10 ** p) : p);
  const input = el('input', {
    type: 'range',
    id: o.id,
    name: o.id,
    min: toPos(o.min),
    max: toPos(o.max),
    step: o.log ? 1 / LOG_STEPS_PER_DECADE : (o.step ?? (o.max - o.min) / 100),
    value: toPos(o.value),
  });
  const output = el('output', { for: o.id, id: `${o.id}-out` }, fmt(o.value));
  const root = el('div', { class: 'control slider' }, el('label', { for: o.id }, o.label), input, output);
  if (o.hint) {
    const hintId = `${o.id}-hint`;
    root.append(el('span', { class: 'sr-only', id: hintId }, o.hint));
    input.setAttribute('aria-describedby', hintId);
  }
  let current = o.value;
  const show = () => {
    output.textContent = fmt(current);
    input.setAttribute('aria-valuetext', fmt(current));
  };
  show();
  input.addEventListener('input', () => {
    current = fromPos(Number(input.value));
    show();
    o.onInput(current);
  });
  return {
    root,
    input,
    get value() {
      return current;
    },
    set value(v: number) {
      current = v;
      input.value = String(toPos(v));
      show();
    },
  };
}

/** Keeps log-slider values readable: 3 significant digits (0.0316, not 0.031622776601683794). */
function roundLog(x: number): number {
  return Number(x.toPrecision(3));
}

export interface CheckboxOptions {
  id: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}

/** A labelled checkbox (the label is clickable and read with it). */
export function checkbox(o: CheckboxOptions): { root: HTMLElement; input: HTMLInputElement } {
  const input = el('input', { type: 'checkbox', id: o.id, name: o.id, checked: o.checked });
  input.addEventListener('change', () => o.onChange(input.checked));
  const root = el('div', { class: 'control check' }, input, el('label', { for: o.id }, o.label));
  return { root, input };
}

export interface SelectOptions<T extends string> {
  id: string;
  label: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange: (value: T) => void;
}

/** A labelled <select>. */
export function select<T extends string>(o: SelectOptions<T>): { root: HTMLElement; input: HTMLSelectElement } {
  const input = el('select', { id: o.id, name: o.id });
  for (const opt of o.options) {
    input.append(el('option', { value: opt.value, selected: opt.value === o.value }, opt.label));
  }
  input.addEventListener('change', () => o.onChange(input.value as T));
  const root = el('div', { class: 'control select' }, el('label', { for: o.id }, o.label), input);
  return { root, input };
}
