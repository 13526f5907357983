/**
 * Optimizer types, plus the small shell every optimizer shares (length checks, lazy slots, clipping,
 * state save/load), so each optimizer file holds only its config validation and its fused update loop.
 */
import { GradroomError } from '../errors.js';
import { clipScale } from './clip.js';
import { type Arena, createArena, hasWasmSimd } from './wasm/arena.js';

/** Fields every optimizer config accepts. */
export interface BaseOptimizerConfig {
  /** Learning rate; `step(params, grads, lr)` overrides it for one step (that is how schedules plug in). */
  lr: number;
  /** Global-norm gradient clipping: grads are scaled by clipNorm/||g|| when ||g|| > clipNorm. */
  clipNorm?: number;
}

export interface SgdConfig extends BaseOptimizerConfig {
  kind: 'sgd';
}

export interface MomentumConfig extends BaseOptimizerConfig {
  kind: 'momentum';
  /** beta, default 0.9. */
  momentum?: number;
  /** Nesterov look-ahead: the update uses beta*v + c*g instead of v (c = 1-beta for 'ewa', 1 for 'classic'). */
  nesterov?: boolean;
  /**
   * 'ewa' (default, the lecture): v = beta*v + (1-beta)*g; W -= lr*v.
   * 'classic' (PyTorch, tfjs): v = beta*v + g; W -= lr*v. ewa(beta, lr) equals classic(beta, lr*(1-beta)).
   */
  form?: 'ewa' | 'classic';
  /**
   * Momentum restarts: v is set to 0 before every restartEvery-th step (steps 1 + k*restartEvery),
   * so old momentum cannot carry an outer step far past where the workers went (arXiv 2605.28585).
   * Default: never.
   */
  restartEvery?: number;
}

export interface RmspropConfig extends BaseOptimizerConfig {
  kind: 'rmsprop';
  /** Decay of the mean square, default 0.9. */
  rho?: number;
  /** Default 1e-8 (the lecture). tfjs uses 1e-7 inside the sqrt. */
  epsilon?: number;
  /** tfjs's momentum: mom = momentum*mom + lr*g/denom; W -= mom. Default 0 (no momentum slot). */
  momentum?: number;
  /** Centered: divide by an estimate of the variance, S - mg^2, with mg = rho*mg + (1-rho)*g. */
  centered?: boolean;
  /** false (default, the lecture): g/(sqrt(S)+eps). true (tfjs, Keras): g/sqrt(S+eps). */
  epsilonInsideSqrt?: boolean;
}

export interface AdamConfig extends BaseOptimizerConfig {
  kind: 'adam';
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8 (the lecture; tfjs uses 1e-7). Outside the sqrt of the bias-corrected second moment. */
  epsilon?: number;
  /** Divide the moments by (1 - beta^t). Default true. */
  biasCorrection?: boolean;
  /** AMSGrad: the denominator uses the running maximum of the second moment. */
  amsgrad?: boolean;
  /** Weight decay coefficient, default 0. */
  weightDecay?: number;
  /** true: AdamW, W -= lr*wd*W outside the moments. false (default): L2, g += wd*W before the moments. */
  decoupledWeightDecay?: boolean;
}

export interface AdagradConfig extends BaseOptimizerConfig {
  kind: 'adagrad';
  /** Starting value of the accumulator, default 0.1 (tfjs). */
  initialAccumulatorValue?: number;
  /** Inside the sqrt, as tfjs adds backend.epsilon(); default 1e-7 (tfjs's cpu backend value). */
  epsilon?: number;
}

export interface AdamaxConfig extends BaseOptimizerConfig {
  kind: 'adamax';
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8 (tfjs: 1e-7). Added to the weighted infinity norm. */
  epsilon?: number;
  /** tfjs's time decay: step t (1-based) uses lr / (1 + (t-1)*decay). Default 0. */
  decay?: number;
}

export type OptimizerConfig = SgdConfig | MomentumConfig | RmspropConfig | AdamConfig | AdagradConfig | AdamaxConfig;
export type OptimizerKind = OptimizerConfig['kind'];

/** Serializable optimizer state: `t` steps taken, and a copy of every slot (empty before the first step). */
export interface OptimizerState {
  kind: OptimizerKind;
  t: number;
  slots: Record<string, Float32Array>;
}

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** The config as given (defaults are not filled in). */
  readonly config: Readonly<OptimizerConfig>;
  /** One update, in place on params. `lr` overrides config.lr for this step. */
  step(params: Float32Array, grads: Float32Array, lr?: number): void;
  /** A copy of the state; later steps do not change it. */
  state(): OptimizerState;
  /** Restores a state taken with state() from an optimizer of the same kind and config. */
  load(state: OptimizerState): void;
  /**
   * Buffers for `n` parameters and their gradients that this optimizer updates fastest: for Adam,
   * views into its WebAssembly memory, which a SIMD kernel updates in place (about 2.5x faster than
   * the JavaScript loop). Write the weights into `params`, each mean gradient into `grads`, and pass
   * both to step(). Any other buffers work too, through the plain loop.
   */
  allocate(n: number): { params: Float32Array; grads: Float32Array };
}

/** What the shell hands an update loop each step. */
export interface StepContext {
  /** Learning rate of this step. */
  lr: number;
  /** 1-based count of this step. */
  t: number;
  /** Gradient multiplier from clipNorm (1 when not clipping); grads themselves are never modified. */
  scale: number;
}

/** One optimizer's update: slots are in the order of `slotNames`. */
export interface OptimizerKernel {
  slotNames: readonly string[];
  /** Initial value of every slot element (0 unless given, e.g. adagrad's accumulator). */
  slotInit?: number;
  update(params: Float32Array, grads: Float32Array, slots: readonly Float32Array[], ctx: StepContext): void;
  /** The same update as a WebAssembly kernel on an arena's buffers (see wasm/arena.ts), when it has one. */
  wasm?: { base64: string; run(arena: Arena, ctx: StepContext): void };
}

export function configError(kind: string, field: string, why: string): GradroomError {
  return new GradroomError('BAD_CONFIG', `${kind} optimizer: ${field} ${why}`);
}

/** Reads an optional numeric field: default when absent, BAD_CONFIG when not finite or out of range. */
export function numberField(
  config: object,
  field: string,
  fallback: number,
  range: { min?: number; minExclusive?: number; maxExclusive?: number; max?: number } = {},
): number {
  const kind = String((config as { kind?: unknown }).kind);
  const raw = (config as Record<string, unknown>)[field];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw configError(kind, field, `must be a finite number`);
  if (range.min !== undefined && raw < range.min) throw configError(kind, field, `must be >= ${range.min}`);
  if (range.minExclusive !== undefined && raw <= range.minExclusive)
    throw configError(kind, field, `must be > ${range.minExclusive}`);
  if (range.max !== undefined && raw > range.max) throw configError(kind, field, `must be <= ${range.max}`);
  if (range.maxExclusive !== undefined && raw >= range.maxExclusive)
    throw configError(kind, field, `must be < ${range.maxExclusive}`);
  return raw;
}

/** Reads an optional boolean field. */
export function boolField(config: object, field: string, fallback: boolean): boolean {
  const raw = (config as Record<string, unknown>)[field];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'boolean')
    throw configError(String((config as { kind?: unknown }).kind), field, 'must be a boolean');
  return raw;
}

/** Beta-like hyperparameters live in [0, 1): 1 would freeze the average, and bias correction divides by 1 - beta^t. */
export const BETA = { min: 0, maxExclusive: 1 } as const;

function checkLr(kind: string, lr: unknown, field: string): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw configError(kind, field, `must be a finite number >= 0 (got ${String(lr)})`);
  }
  return lr;
}

/**
 * Wraps a kernel into an Optimizer: validates lr and clipNorm, allocates slots lazily to the first
 * params.length, rejects later length changes, computes the clip scale, and saves/loads state.
 */
export function makeOptimizer(config: OptimizerConfig, kernel: OptimizerKernel): Optimizer {
  const kind = config.kind;
  checkLr(kind, config.lr, 'lr');
  const clipNorm = numberField(config, 'clipNorm', Number.POSITIVE_INFINITY, { minExclusive: 0 });
  const names = kernel.slotNames;
  const init = kernel.slotInit ?? 0;
  let slots: Float32Array[] = [];
  let arena: Arena | undefined;
  let n = -1; // parameter count, fixed by the first step (or by load or allocate)
  let t = 0;
  const ctx: StepContext = { lr: 0, t: 0, scale: 1 };

  return {
    kind,
    config,
    step(params, grads, lr) {
      if (grads.length !== params.length) {
        throw new GradroomError(
          'BAD_LENGTH',
          `${kind} optimizer: grads.length ${grads.length} != params.length ${params.length}`,
        );
      }
      if (n < 0) {
        n = params.length;
        slots = names.map(() => new Float32Array(n).fill(init));
      } else if (params.length !== n) {
        throw new GradroomError(
          'BAD_LENGTH',
          `${kind} optimizer: params.length ${params.length} != ${n}, the length its state was created for`,
        );
      }
      ctx.lr = lr === undefined ? config.lr : checkLr(kind, lr, 'step lr');
      ctx.scale = clipScale(grads, clipNorm);
      ctx.t = t + 1;
      if (arena && kernel.wasm && arena.owns(params, grads)) kernel.wasm.run(arena, ctx);
      else kernel.update(params, grads, slots, ctx);
      t = ctx.t;
    },
    allocate(count) {
      if (!Number.isSafeInteger(count) || count <= 0) {
        throw new GradroomError('BAD_CONFIG', `${kind} optimizer: allocate needs a positive integer, got ${count}`);
      }
      if (n >= 0 && count !== n) {
        throw new GradroomError(
          'BAD_LENGTH',
          `${kind} optimizer: allocate(${count}) but its state has ${n} parameters`,
        );
      }
      if (kernel.wasm && hasWasmSimd(kernel.wasm.base64)) {
        const fresh = createArena(kernel.wasm.base64, count, names.length, init);
        // slots already there (a loaded state, or earlier steps) move into the arena
        if (slots.length === names.length) fresh.slots.forEach((s, i) => s.set(slots[i]));
        arena = fresh;
        slots = fresh.slots;
        n = count;
        return { params: fresh.params, grads: fresh.grads };
      }
      if (n < 0) {
        n = count;
        slots = names.map(() => new Float32Array(count).fill(init));
      }
      return { params: new Float32Array(count), grads: new Float32Array(count) };
    },
    state() {
      const out: Record<string, Float32Array> = {};
      names.forEach((name, i) => {
        if (slots[i]) out[name] = slots[i].slice();
      });
      return { kind, t, slots: out };
    },
    load(state) {
      const bad = (why: string) => new GradroomError('BAD_STATE', `${kind} optimizer: cannot load state: ${why}`);
      if (state === null || typeof state !== 'object') throw bad('not an object');
      if (state.kind !== kind) throw bad(`kind is '${String(state.kind)}', expected '${kind}'`);
      if (!Number.isSafeInteger(state.t) || state.t < 0) throw bad(`t must be an integer >= 0 (got ${state.t})`);
      const given = state.slots && typeof state.slots === 'object' ? Object.keys(state.slots) : null;
      if (given === null) throw bad('slots must be an object');
      if (given.length === 0) {
        // SGD (no slots), or a state taken before the first step: slots start fresh on the next step.
        if (names.length > 0 && state.t !== 0) throw bad(`t is ${state.t} but there are no slots`);
        if (arena) {
          for (const s of arena.slots) s.fill(init);
        } else {
          slots = [];
          n = -1;
        }
        t = state.t;
        return;
      }
      const extra = given.filter((g) => !names.includes(g));
      if (extra.length > 0) throw bad(`unexpected slot(s) ${extra.join(', ')} (expected ${names.join(', ')})`);
      let len = -1;
      const loaded = names.map((name) => {
        const s = state.slots[name];
        if (!(s instanceof Float32Array)) throw bad(`slot '${name}' must be a Float32Array`);
        if (len >= 0 && s.length !== len) throw bad(`slot '${name}' has length ${s.length}, others ${len}`);
        len = s.length;
        return s.slice();
      });
      if (arena) {
        // the arena's buffers stay where they are (the caller holds views of them)
        if (len !== n) throw bad(`slots have length ${len}, the allocated buffers ${n}`);
        arena.slots.forEach((s, i) => s.set(loaded[i]));
      } else {
        slots = loaded;
        n = len;
      }
      t = state.t;
    },
  };
}
