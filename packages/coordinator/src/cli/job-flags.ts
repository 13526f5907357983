/**
 * Turns `gradroom train` flags into a JobConfig. Every flag is checked here, with an error that
 * names it, before any worker starts.
 */
import { basename } from 'node:path';
import {
  adviseBatchSize,
  type BatchSizeAdvice,
  COMPRESSIONS,
  type Compression,
  type DatasetSpec,
  defaultInnerScale,
  defaultOuter,
  estimateBytesPerExample,
  GradroomError,
  type ModelSpec,
  NESTEROV_OUTER,
  OPTIMIZER_KINDS,
  type OptimizerConfig,
  type OptimizerKind,
  type ScheduleConfig,
} from '@gradroom/core';
import { datasetSizes, ZOO, type ZooName } from '@gradroom/worker/catalog';
import { arraysDataset, decodePacked } from '@gradroom/worker/data';
import { readRegularFileSync } from '@gradroom/worker/files';
import { DEFAULT_JOB, INNER_SCALES, type InnerScale, type JobConfig, type TrainingMode, validateJob } from '../job.js';

export type Flags = Record<string, string | boolean | undefined>;

/** The flags jobFromFlags reads, as node:util parseArgs options (gradroom train, the testbed). */
export const JOB_OPTIONS = {
  nesterov: { type: 'boolean' },
  amsgrad: { type: 'boolean' },
  overlap: { type: 'boolean' },
  ...Object.fromEntries(
    [
      'model',
      'dataset',
      'examples',
      'optimizer',
      'lr',
      'momentum',
      'momentum-form',
      'rho',
      'beta1',
      'beta2',
      'epsilon',
      'weight-decay',
      'clip-norm',
      'schedule',
      'decay-rate',
      'decay-base',
      'decay-factor',
      'decay-every',
      'k',
      'period',
      'batch-size',
      'epochs',
      'max-iterations',
      'seed',
      'mode',
      'local-steps',
      'outer-optimizer',
      'outer-lr',
      'outer-restart',
      'inner-scale',
      'compress',
      'warm-start',
      'warm-start-steps',
      'steps-by-speed',
    ].map((k) => [k, { type: 'string' as const }]),
  ),
} as const;

const bad = (m: string): never => {
  throw new GradroomError('BAD_CONFIG', m);
};

/**
 * Flags that take whole numbers, with their bounds where the flag alone knows them (the job's own
 * checks bound the rest). Every integer flag of every command is parsed by parseInteger.
 */
const INTEGER_FLAGS: Record<string, readonly [number, number]> = {
  examples: [1, 1_000_000], // the synthetic data set's own limits
  workers: [1, 64],
  'batch-size': [-Infinity, Infinity],
  epochs: [-Infinity, Infinity],
  'max-iterations': [-Infinity, Infinity],
  seed: [-Infinity, Infinity],
  'local-steps': [-Infinity, Infinity], // bounded by modeFromFlags, which also takes 'auto'
  'warm-start': [0, 100_000_000],
  'warm-start-steps': [1, 10_000],
  'decay-every': [-Infinity, Infinity],
  period: [-Infinity, Infinity],
  channels: [-Infinity, Infinity],
};

/** An integer written as one: optional minus and digits, nothing else ("0x40", "1e1", " 8 ", "8.0" are refused). */
export function parseInteger(
  v: string,
  name: string,
  [min, max] = INTEGER_FLAGS[name] ?? [-Infinity, Infinity],
): number {
  const n = Number(v);
  if (!/^-?[0-9]+$/.test(v) || !Number.isSafeInteger(n))
    bad(`--${name} must be an integer written in digits, got "${v}"`);
  if (n < min || n > max) bad(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

export function num(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return bad(`--${name} needs a value`);
  if (name in INTEGER_FLAGS) return parseInteger(v, name);
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) bad(`--${name} must be a number, got "${v}"`);
  return n;
}

export function modelFromFlags(flags: Flags, fallback: ModelSpec): ModelSpec {
  const m = flags.model;
  if (m === undefined) return fallback;
  if (typeof m !== 'string') return bad('--model needs a value');
  if (m in ZOO) return structuredClone(ZOO[m as ZooName]) as ModelSpec;
  if (m.endsWith('.json')) {
    let spec: ModelSpec;
    try {
      const bytes = readRegularFileSync(m, {
        maxBytes: 16 * 1024 * 1024,
        code: 'BAD_CONFIG',
        message: (why) => `--model ${m} could not be read: ${why}`,
      });
      spec = JSON.parse(new TextDecoder().decode(bytes)) as ModelSpec;
    } catch (e) {
      if (e instanceof GradroomError) throw e;
      return bad(`--model ${m} could not be read: ${(e as Error).message}`);
    }
    if (!spec || typeof spec !== 'object' || !('kind' in spec)) bad(`${m} is not a gradroom model spec`);
    return spec;
  }
  return bad(`--model "${m}" is unknown: use ${Object.keys(ZOO).join(', ')}, or a .json model spec`);
}

/** A packed data set file (gradroom pack-data) as arrays: the local worker threads receive it once, at init. */
function packedFile(path: string): DatasetSpec {
  // regular files only: a FIFO or a device named x.bin is refused, never waited on
  const bytes = readRegularFileSync(path, {
    maxBytes: 2 ** 31 - 1,
    code: 'BAD_CONFIG',
    message: (why) => `--dataset ${path} could not be read: ${why}`,
  });
  const name = basename(path);
  const [train, test] = [decodePacked(bytes, 'train', name), decodePacked(bytes, 'test', name)];
  return arraysDataset({
    name,
    inputShape: train.inputShape,
    train: { x: train.x, y: train.y },
    test: { x: test.x, y: test.y },
    ...(train.classes > 0 ? { classes: train.classes } : { targets: train.targets }),
  });
}

/** Without --model, a packed file gets an MLP that fits it: one output per class, or per target with MSE. */
function modelFor(d: DatasetSpec): ModelSpec | undefined {
  if (d.kind !== 'arrays') return undefined;
  const outputs = d.classes > 0 ? d.classes : d.targets;
  return {
    kind: 'mlp',
    inputShape: d.inputShape,
    hidden: [64],
    classes: outputs,
    ...(d.classes > 0 ? {} : { loss: 'mean-squared-error' }),
  };
}

export function dataset(flags: Flags, seed: number): DatasetSpec {
  const d = flags.dataset ?? 'mnist';
  if (typeof d === 'string' && d.endsWith('.bin')) return packedFile(d);
  if (d === 'mnist') return { kind: 'mnist', split: 'train' };
  if (d === 'fashion-mnist') return { kind: 'fashion-mnist', split: 'train' };
  if (d === 'fashion-mnist-small') return { kind: 'fashion-mnist-small', split: 'train' };
  if (d === 'synthetic') {
    return {
      kind: 'synthetic',
      seed,
      examples: num(flags, 'examples') ?? 4000,
      features: 784,
      classes: 10,
      split: 'train',
    };
  }
  return bad(
    `--dataset "${String(d)}" is unknown: use mnist, fashion-mnist, fashion-mnist-small, synthetic or a packed FILE.bin (gradroom pack-data)`,
  );
}

function optimizer(flags: Flags): OptimizerConfig {
  const kind = (flags.optimizer ?? 'adam') as OptimizerKind;
  if (!OPTIMIZER_KINDS.includes(kind))
    bad(`--optimizer "${String(kind)}" is unknown: use ${OPTIMIZER_KINDS.join(', ')}`);
  const lr = num(flags, 'lr') ?? (kind === 'sgd' || kind === 'momentum' ? 0.1 : kind === 'adagrad' ? 0.05 : 0.005);
  const extra: Record<string, number | boolean | string> = {};
  for (const k of ['momentum', 'beta1', 'beta2', 'epsilon', 'rho', 'weight-decay', 'clip-norm']) {
    const v = num(flags, k);
    if (v !== undefined) extra[k.replace(/-(.)/g, (_, c: string) => c.toUpperCase())] = v;
  }
  if (flags.nesterov) extra.nesterov = true;
  if (flags.amsgrad) extra.amsgrad = true;
  if (typeof flags['momentum-form'] === 'string') extra.form = flags['momentum-form'];
  return { kind, lr, ...extra } as OptimizerConfig;
}

function schedule(flags: Flags, lr0: number): ScheduleConfig {
  const kind = flags.schedule ?? 'inverse-time';
  switch (kind) {
    case 'constant':
      return { kind: 'constant', lr: lr0 };
    case 'inverse-time':
      return { kind: 'inverse-time', lr0, decayRate: num(flags, 'decay-rate') ?? 0.3 };
    case 'exponential':
      return { kind: 'exponential', lr0, base: num(flags, 'decay-base') ?? 0.95 };
    case 'inverse-sqrt-epoch':
      return { kind: 'inverse-sqrt-epoch', lr0, k: num(flags, 'k') ?? 1 };
    case 'inverse-sqrt-iteration':
      return { kind: 'inverse-sqrt-iteration', lr0, k: num(flags, 'k') ?? 1 };
    case 'staircase':
      return {
        kind: 'staircase',
        lr0,
        factor: num(flags, 'decay-factor') ?? 0.5,
        every: num(flags, 'decay-every') ?? 2,
      };
    case 'cosine-restarts':
      return { kind: 'cosine-restarts', lr0, firstPeriod: num(flags, 'period') ?? 200 };
    default:
      return bad(
        `--schedule "${String(kind)}" is unknown: use constant, inverse-time, exponential, inverse-sqrt-epoch, inverse-sqrt-iteration, staircase, cosine-restarts`,
      );
  }
}

/**
 * Mode local's warm start from the command line: the first 160 iterations in exact mode (about
 * 10,000 examples at mini-batches of 64; an epoch of MNIST here). Measured (MNIST, 6 threads, H = 8,
 * int8, outer sgd lr 1.2): 92 % test accuracy after 2 epochs with it, 7 without it.
 */
export const DEFAULT_WARMUP = 160;

/** Flags that only mean something in mode local. */
export const LOCAL_FLAGS = [
  'local-steps',
  'outer-optimizer',
  'outer-lr',
  'outer-restart',
  'inner-scale',
  'warm-start',
  'warm-start-steps',
  'overlap',
  'steps-by-speed',
] as const;
/**
 * The command line's inner step in mode local and auto, unless --inner-scale names one: the
 * measured rule (core's defaultInnerScale) for the warm start's iterations of exact mode.
 */
function innerScale(flags: Flags, exactFirst: number): InnerScale {
  const v = flags['inner-scale'] ?? defaultInnerScale(exactFirst);
  if (!INNER_SCALES.includes(v as InnerScale))
    bad(`--inner-scale "${String(v)}" is unknown: use ${INNER_SCALES.join(' or ')}`);
  return v as InnerScale;
}

/**
 * The outer optimizer of mode local: unnamed, the measured rule for this H, --workers and the exact
 * iterations before local rounds (defaultOuter, with --outer-lr if given); 'nesterov' is DiLoCo's; else a core optimizer kind.
 */
function outerOptimizer(flags: Flags, steps: number | 'auto', exactFirst: number): OptimizerConfig {
  const name = flags['outer-optimizer'];
  const lr = num(flags, 'outer-lr');
  if (lr !== undefined && !(lr > 0)) bad(`--outer-lr must be a positive number, got "${flags['outer-lr']}"`);
  const restart = num(flags, 'outer-restart');
  if (restart !== undefined) {
    if (!(Number.isInteger(restart) && restart >= 1))
      bad(`--outer-restart must be an integer >= 1 (outer steps), got "${flags['outer-restart']}"`);
    if (name !== 'nesterov' && name !== 'momentum')
      bad('--outer-restart restarts momentum: it needs --outer-optimizer nesterov or momentum');
  }
  const restarts = restart === undefined ? {} : { restartEvery: restart };
  if (name === undefined) {
    // --workers is checked where the workers start; the rule only needs a plausible count
    const w = Number(flags.workers ?? 2);
    const rule = defaultOuter({ steps, workers: Number.isInteger(w) && w >= 1 ? w : 2, exactFirst });
    return lr === undefined ? rule : { ...rule, lr };
  }
  if (name === 'nesterov') return { ...NESTEROV_OUTER, lr: lr ?? NESTEROV_OUTER.lr, ...restarts };
  if (!OPTIMIZER_KINDS.includes(name as OptimizerKind))
    bad(`--outer-optimizer "${String(name)}" is unknown: use nesterov or ${OPTIMIZER_KINDS.join(', ')}`);
  // plain SGD at lr 1 applies the workers' mean change as it is (model averaging); any other
  // optimizer has no outer learning rate that fits every model, so the user names it
  if (lr === undefined && name !== 'sgd') bad(`--outer-optimizer ${String(name)} needs --outer-lr`);
  return { kind: name as OptimizerKind, lr: lr ?? 1, ...restarts } as OptimizerConfig;
}

/** --mode exact|local|auto and its flags; undefined for exact mode (the default, as JobConfig has it). */
export function modeFromFlags(flags: Flags): TrainingMode | undefined {
  const m = flags.mode ?? 'exact';
  if (m !== 'exact' && m !== 'local' && m !== 'auto')
    bad(`--mode "${String(m)}" is unknown: use exact (default) or local, or auto to let the trainer choose`);
  // not given: the run's default (PEER_COMPRESS for peers, none for its own workers)
  const given = flags.compress !== undefined;
  const compress = flags.compress ?? 'none';
  if (!COMPRESSIONS.includes(compress as Compression))
    bad(`--compress "${String(compress)}" is unknown: use none, fp16, int8 or topk`);
  if (m === 'exact') {
    const local = LOCAL_FLAGS.filter((f) => flags[f] !== undefined).map((f) => `--${f}`);
    if (compress !== 'none') local.push('--compress');
    if (local.length > 0)
      bad(
        `${local.join(', ')} ${local.length > 1 ? 'apply' : 'applies'} only to --mode local (compression is for mode local only for now)`,
      );
    return undefined;
  }
  if (m === 'auto') {
    // auto picks H itself, and measures in exact mode first (no warm start to set)
    const fixed = (['local-steps', 'warm-start', 'warm-start-steps', 'overlap'] as const)
      .filter((f) => flags[f] !== undefined)
      .map((f) => `--${f}`);
    if (fixed.length > 0) bad(`${fixed.join(', ')} cannot be set with --mode auto: it chooses H itself`);
    // unnamed, the run's default outer step applies whatever H it picks
    const named = flags['outer-optimizer'] !== undefined || flags['outer-lr'] !== undefined;
    const outer = named ? outerOptimizer(flags, 'auto', 0) : undefined;
    return {
      kind: 'auto',
      ...(outer ? { outer } : {}),
      ...stepsBySpeed(flags),
      // its measuring iterations are no warm start: the rule from scratch (job.ts outerOf)
      innerScale: innerScale(flags, 0),
      ...(given ? { compress: compress as Compression } : {}),
    };
  }
  const h = flags['local-steps'] ?? 'auto';
  let steps: number | 'auto' = 'auto';
  if (h !== 'auto') {
    steps = num(flags, 'local-steps') as number;
    if (!Number.isInteger(steps) || steps < 1 || steps > 10_000)
      bad(`--local-steps must be auto or an integer from 1 to 10000, got "${String(h)}"`);
  }
  const warmup = num(flags, 'warm-start') ?? DEFAULT_WARMUP;
  const warmupSteps = num(flags, 'warm-start-steps');
  if (warmupSteps !== undefined && !warmup) bad('--warm-start-steps shapes the warm start: --warm-start 0 has none');
  return {
    kind: 'local',
    steps,
    outer: outerOptimizer(flags, steps, warmup),
    ...(warmup ? { warmup } : {}),
    ...(warmupSteps !== undefined ? { warmupSteps } : {}),
    innerScale: innerScale(flags, warmup),
    ...(given ? { compress: compress as Compression } : {}),
    ...(flags.overlap === true ? { overlap: true } : {}),
    ...stepsBySpeed(flags),
  };
}

/** --steps-by-speed on|off: the job's `balance` (unnamed, the default: on in a room). */
function stepsBySpeed(flags: Flags): { balance?: boolean } {
  const v = flags['steps-by-speed'];
  if (v === undefined) return {};
  if (v !== 'on' && v !== 'off') bad(`--steps-by-speed must be on or off, got "${String(v)}"`);
  return { balance: v === 'on' };
}

/** Training examples, where the spec alone tells (undefined for a data set known only once loaded). */
export function trainSize(d: DatasetSpec): number | undefined {
  return datasetSizes(d)?.train;
}

/** `defaultModel`: the model when --model is not given (--init-model's own; else the default job's). */
export function jobFromFlags(
  flags: Flags,
  defaultModel: ModelSpec = DEFAULT_JOB.model,
): { job: JobConfig; advice?: BatchSizeAdvice } {
  const seed = num(flags, 'seed') ?? DEFAULT_JOB.seed;
  const opt = optimizer(flags);
  const mode = modeFromFlags(flags);
  const ds = dataset(flags, seed);
  const m = modelFromFlags(flags, flags['init-model'] === undefined ? (modelFor(ds) ?? defaultModel) : defaultModel);
  let batchSize = DEFAULT_JOB.batchSize;
  let advice: BatchSizeAdvice | undefined;
  if (flags['batch-size'] === 'auto') {
    const examples = trainSize(ds) ?? bad(`--batch-size auto needs a data set whose size is known before it loads`);
    advice = adviseBatchSize({ examples, bytesPerExample: estimateBytesPerExample(m) });
    batchSize = advice.size;
  } else if (flags['batch-size'] !== undefined) {
    batchSize = num(flags, 'batch-size') as number;
  }
  const job: JobConfig = {
    model: m,
    dataset: ds,
    optimizer: opt,
    schedule: schedule(flags, opt.lr),
    batchSize,
    epochs: num(flags, 'epochs') ?? DEFAULT_JOB.epochs,
    seed,
    ...(flags['max-iterations'] !== undefined ? { maxIterations: num(flags, 'max-iterations') } : {}),
    ...(mode ? { mode } : {}),
  };
  validateJob(job);
  return { job, advice };
}
