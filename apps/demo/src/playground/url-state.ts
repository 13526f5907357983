/**
 * The playground's settings in its URL's query, so a link reopens the same setup (as TensorFlow
 * Playground does). Only what differs from the base (the surface's defaults, or the chosen scenario)
 * is written, so links stay short. Reading never throws: a value that is not valid is left out, and
 * its key reported, so the page can say what it ignored. Pure: no DOM.
 */
import { SCENARIOS } from './scenarios.js';
import {
  BATCH_SIZES,
  DECAY_KINDS,
  DECAYS,
  type DecayKind,
  PATH_KINDS,
  type PathKind,
  type PathSettings,
  type SimConfig,
  STAIRCASE_EVERY,
  STAIRCASE_EVERY_MAX,
  uniformSettings,
} from './sim.js';
import { SPECS } from './specs.js';
import { cloneHyper, SURFACE_IDS, SURFACES, type SurfaceId } from './surfaces.js';

export interface PageSettings {
  /** With `each` filled in for every path. */
  config: SimConfig;
  visible: Record<PathKind, boolean>;
  /** The scenario the settings start from, if any. */
  scenario: string | null;
}

/** The settings the page starts from for a surface (and a scenario of it, when given). */
export function baseSettings(surface: SurfaceId, scenario: string | null = null): PageSettings {
  const config: SimConfig = {
    surface,
    hyper: cloneHyper(SURFACES[surface].defaults),
    noise: false,
    batchSize: 64,
    seed: 1,
    each: uniformSettings(false, 64),
  };
  const visible = { sgd: true, momentum: true, rmsprop: true, adam: true };
  const s = SCENARIOS[surface].find((x) => x.id === scenario);
  if (s) {
    s.apply(config);
    for (const k of PATH_KINDS) visible[k] = s.show.includes(k);
  }
  return { config, visible, scenario: s ? s.id : null };
}

type Hyper = Record<string, number>;

/** Every setting as key -> text (the query's vocabulary). */
function flatten(p: PageSettings): Map<string, string> {
  const m = new Map<string, string>();
  const c = p.config;
  m.set('noise', c.noise ? '1' : '0');
  m.set('batch', String(c.batchSize));
  m.set('seed', String(c.seed));
  for (const k of PATH_KINDS) {
    for (const spec of SPECS[k]) m.set(`${k}.${spec.key}`, String((c.hyper[k] as unknown as Hyper)[spec.key]));
    const e = (c.each?.[k] ?? uniformSettings(c.noise, c.batchSize)[k]) as PathSettings;
    m.set(`${k}.grad`, e.noise ? String(e.batchSize) : 'full');
    m.set(`${k}.decay`, e.decay);
    if (e.decay !== 'constant') m.set(`${k}.rate`, String(e.decayRate));
    if (e.decay === 'staircase') m.set(`${k}.every`, String(e.every ?? STAIRCASE_EVERY));
  }
  m.set('adam.bc', c.hyper.adam.biasCorrection ? '1' : '0');
  m.set('show', PATH_KINDS.filter((k) => p.visible[k]).join(','));
  return m;
}

const OWN_KEYS = (k: string) =>
  ['surface', 'scenario', 'noise', 'batch', 'seed', 'show'].includes(k) || /^(sgd|momentum|rmsprop|adam)\./.test(k);

/**
 * The query for these settings: `keep`'s other parameters (autoplay, …) stay, the settings' own
 * keys are rewritten with what differs from the base.
 */
export function toQuery(p: PageSettings, keep: URLSearchParams = new URLSearchParams()): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of keep) if (!OWN_KEYS(k)) out.append(k, v);
  out.set('surface', p.config.surface);
  if (p.scenario) out.set('scenario', p.scenario);
  const base = flatten(baseSettings(p.config.surface, p.scenario));
  for (const [k, v] of flatten(p)) if (base.get(k) !== v) out.set(k, v);
  return out;
}

const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

/** The settings a query describes, and the keys whose values it ignored. */
export function fromQuery(q: URLSearchParams): { settings: PageSettings; ignored: string[] } {
  const ignored: string[] = [];
  const askedSurface = q.get('surface');
  const surface = (SURFACE_IDS as string[]).includes(askedSurface ?? '') ? (askedSurface as SurfaceId) : 'bowl';
  if (askedSurface !== null && surface !== askedSurface) ignored.push('surface');
  const askedScenario = q.get('scenario');
  const p = baseSettings(surface, askedScenario);
  if (askedScenario !== null && p.scenario === null) ignored.push('scenario');
  const c = p.config;
  const each = c.each as Record<PathKind, PathSettings>;
  /** Reads one key with a parser that returns undefined for a bad value. */
  function read<T>(key: string, parse: (s: string) => T | undefined, set: (v: T) => void): void {
    const raw = q.get(key);
    if (raw === null) return;
    const v = parse(raw);
    if (v === undefined) ignored.push(key);
    else set(v);
  }
  const flag = (s: string) => (s === '1' ? true : s === '0' ? false : undefined);
  const inRange =
    (lo: number, hi: number, integer = false) =>
    (s: string) => {
      const x = num(s);
      return Number.isFinite(x) && x >= lo && x <= hi && (!integer || Number.isInteger(x)) ? x : undefined;
    };
  const batch = (s: string) => ((BATCH_SIZES as readonly number[]).includes(num(s)) ? num(s) : undefined);
  read('noise', flag, (v) => {
    c.noise = v;
    for (const k of PATH_KINDS) each[k] = { ...each[k], noise: v, batchSize: c.batchSize };
  });
  read('batch', batch, (v) => {
    c.batchSize = v;
    for (const k of PATH_KINDS) each[k] = { ...each[k], batchSize: v };
  });
  read('seed', inRange(0, 99999, true), (v) => {
    c.seed = v;
  });
  for (const k of PATH_KINDS) {
    for (const spec of SPECS[k])
      read(`${k}.${spec.key}`, inRange(spec.min, spec.max), (v) => {
        (c.hyper[k] as unknown as Hyper)[spec.key] = v;
      });
    read(
      `${k}.grad`,
      (s) => (s === 'full' ? ('full' as const) : batch(s)),
      (v) => {
        each[k] = { ...each[k], noise: v !== 'full', batchSize: v === 'full' ? c.batchSize : v };
      },
    );
    read(
      `${k}.decay`,
      (s) => ((DECAY_KINDS as readonly string[]).includes(s) ? (s as DecayKind) : undefined),
      (d) => {
        if (d !== each[k].decay) each[k] = { ...each[k], decay: d, decayRate: DECAYS[d].value };
      },
    );
    const d = DECAYS[each[k].decay];
    if (each[k].decay !== 'constant')
      read(`${k}.rate`, inRange(d.min, d.max), (v) => {
        each[k] = { ...each[k], decayRate: v };
      });
    if (each[k].decay === 'staircase')
      read(`${k}.every`, inRange(1, STAIRCASE_EVERY_MAX, true), (v) => {
        each[k] = { ...each[k], every: v };
      });
  }
  read('adam.bc', flag, (v) => {
    c.hyper.adam.biasCorrection = v;
  });
  read(
    'show',
    (s) => {
      const kinds = s === '' ? [] : s.split(',');
      return kinds.every((x) => (PATH_KINDS as readonly string[]).includes(x)) ? (kinds as PathKind[]) : undefined;
    },
    (kinds) => {
      for (const k of PATH_KINDS) p.visible[k] = kinds.includes(k);
    },
  );
  return { settings: p, ignored };
}
