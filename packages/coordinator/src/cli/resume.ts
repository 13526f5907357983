/**
 * `gradroom train --resume`: the job comes from the checkpoint, so a flag that would change it is
 * refused, naming the flag and the saved value (issue 10: such flags used to be ignored silently).
 * A flag equal to the saved value is fine, so the first run's command line plus --resume works.
 * Rule: --epochs may be raised and --max-iterations changed: they bound the run, not its arithmetic.
 */
import { adviseBatchSize, estimateBytesPerExample, GradroomError } from '@gradroom/core';
import type { Checkpoint } from '../checkpoint.js';
import { type JobConfig, outerOf, type TrainingMode, validateJob } from '../job.js';
import { dataset, type Flags, modeFromFlags, modelFromFlags, num, trainSize } from './job-flags.js';

type Getter = (job: JobConfig) => unknown;
const field =
  (part: 'optimizer' | 'schedule' | 'dataset', key: string): Getter =>
  (job) =>
    (job[part] as Record<string, unknown> | undefined)?.[key];

type Local = Extract<TrainingMode, { kind: 'local' }>;
const local = (j: JobConfig): Local | undefined => (j.mode?.kind === 'local' ? j.mode : undefined);
/** Mode local's, or mode auto's: both carry the outer optimizer and the encoding. */
const outerMode = (j: JobConfig) => (j.mode?.kind === 'local' || j.mode?.kind === 'auto' ? j.mode : undefined);
/** The --outer-optimizer name a saved outer optimizer answers to. */
function outerName(m: NonNullable<ReturnType<typeof outerMode>>): string {
  const c = outerOf(m);
  return c.kind === 'momentum' && c.nesterov === true ? 'nesterov' : c.kind;
}

/** Flags that define the job, and where each one's value lives in a JobConfig. */
const JOB_FLAGS: Record<string, Getter> = {
  model: (j) => j.model,
  dataset: (j) => j.dataset.kind,
  examples: field('dataset', 'examples'),
  optimizer: (j) => j.optimizer.kind,
  lr: (j) => j.optimizer.lr,
  momentum: field('optimizer', 'momentum'),
  'momentum-form': field('optimizer', 'form'),
  nesterov: field('optimizer', 'nesterov'),
  amsgrad: field('optimizer', 'amsgrad'),
  rho: field('optimizer', 'rho'),
  beta1: field('optimizer', 'beta1'),
  beta2: field('optimizer', 'beta2'),
  epsilon: field('optimizer', 'epsilon'),
  'weight-decay': field('optimizer', 'weightDecay'),
  'clip-norm': field('optimizer', 'clipNorm'),
  schedule: (j) => j.schedule?.kind ?? 'constant',
  'decay-rate': field('schedule', 'decayRate'),
  'decay-base': field('schedule', 'base'),
  'decay-factor': field('schedule', 'factor'),
  'decay-every': field('schedule', 'every'),
  k: field('schedule', 'k'),
  period: field('schedule', 'firstPeriod'),
  'batch-size': (j) => j.batchSize,
  seed: (j) => j.seed,
  mode: (j) => j.mode?.kind ?? 'exact',
  'local-steps': (j) => local(j)?.steps,
  'outer-optimizer': (j) => {
    const m = outerMode(j);
    return m ? outerName(m) : undefined;
  },
  'outer-lr': (j) => {
    const m = outerMode(j);
    return m ? outerOf(m).lr : undefined;
  },
  'outer-restart': (j) => {
    const o = outerMode(j)?.outer;
    return o?.kind === 'momentum' ? o.restartEvery : undefined;
  },
  'inner-scale': (j) => outerMode(j)?.innerScale ?? 'none',
  compress: (j) => outerMode(j)?.compress ?? 'none',
  'warm-start': (j) => local(j)?.warmup ?? 0,
  'warm-start-steps': (j) => local(j)?.warmupSteps,
  overlap: (j) => local(j)?.overlap === true,
  // unset saved (the default) answers to neither on nor off: naming either changes the job
  'steps-by-speed': (j) => {
    const b = outerMode(j)?.balance;
    return b === undefined ? undefined : b ? 'on' : 'off';
  },
};

const BOOLEAN_FLAGS = new Set(['nesterov', 'amsgrad', 'overlap']);
const STRING_FLAGS = new Set([
  'dataset',
  'optimizer',
  'schedule',
  'momentum-form',
  'mode',
  'outer-optimizer',
  'inner-scale',
  'compress',
  'steps-by-speed',
]);

/** The value a flag asks for, in the JobConfig's terms. */
function wanted(flags: Flags, name: string, saved: JobConfig): unknown {
  if (name === 'model') return modelFromFlags(flags, saved.model);
  if (name === 'dataset') return dataset(flags, saved.seed).kind;
  if (BOOLEAN_FLAGS.has(name)) return flags[name] === true;
  if (STRING_FLAGS.has(name)) return flags[name];
  if (name === 'local-steps' && flags[name] === 'auto') return 'auto';
  if (name === 'batch-size' && flags[name] === 'auto') {
    const examples = trainSize(saved.dataset);
    if (examples === undefined) return 'auto';
    return adviseBatchSize({ examples, bytesPerExample: estimateBytesPerExample(saved.model) }).size;
  }
  return num(flags, name);
}

const show = (v: unknown) => (v === undefined ? 'unset' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b) || (a === false && b === undefined);

/**
 * The job to continue: the checkpoint's, with --epochs (raised only) and --max-iterations applied.
 * Throws a BAD_CONFIG error naming every flag that would change the saved job.
 */
export function resumeJob(flags: Flags, c: Checkpoint, path: string): JobConfig {
  const saved = c.job;
  // the mode flags are checked on their own first, so a bad value gets its own message (exit 2)
  modeFromFlags({ ...flags, mode: flags.mode ?? saved.mode?.kind });
  const conflicts: string[] = [];
  for (const [name, get] of Object.entries(JOB_FLAGS)) {
    if (flags[name] === undefined) continue;
    const want = wanted(flags, name, saved);
    const have = get(saved);
    if (!same(want, have)) {
      const given = flags[name] === true ? '' : ` ${String(flags[name])}`;
      conflicts.push(`--${name}${given} (saved: ${show(have)})`);
    }
  }
  const epochs = num(flags, 'epochs');
  if (epochs !== undefined && epochs < saved.epochs)
    conflicts.push(`--epochs ${epochs} (saved: ${saved.epochs}; it may only be raised)`);
  if (conflicts.length > 0) {
    throw new GradroomError(
      'BAD_CONFIG',
      `--resume continues the run saved in ${path}, and these flags would change its job: ${conflicts.join(', ')}. ` +
        'Drop them to continue that run, or start a new one without --resume (--epochs may be raised and --max-iterations changed on resume).',
    );
  }
  const job: JobConfig = structuredClone(saved);
  if (epochs !== undefined) job.epochs = epochs;
  const maxIterations = num(flags, 'max-iterations');
  if (maxIterations !== undefined) job.maxIterations = maxIterations;
  validateJob(job);
  return job;
}
