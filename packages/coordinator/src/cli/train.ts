/** `gradroom train`: trains a job on local worker threads, with a progress bar or JSON lines. */
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { type ErrorCode, GradroomError, isGradroomError } from '@gradroom/core';
import { type BackendName, parseBackendList, ZOO } from '@gradroom/worker/catalog';
import cliProgress from 'cli-progress';
import { decodeCheckpoint, encodeCheckpoint, startingCheckpoint } from '../checkpoint.js';
import { FileCheckpointStore } from '../checkpoint-file.js';
import { describeEpoch, describeScore } from '../history.js';
import { type JobConfig, outerOf } from '../job.js';
import { Trainer } from '../trainer.js';
import { spawnThreadWorker } from '../transports/thread.js';
import { type Flags, JOB_OPTIONS, jobFromFlags, num } from './job-flags.js';
import { checkModelDirWritable, readModelDir } from './model-dir.js';
import { makeDirs } from './paths.js';
import { resumeJob } from './resume.js';

export const TRAIN_HELP = `gradroom train [flags]

Trains a model on local worker threads. Without flags: the default job (MNIST, MLP 784-128-10,
Adam with 1/(1+0.3*epoch) decay, mini-batches of 64, 5 epochs, 2 workers).

  --model NAME|FILE.json   ${Object.keys(ZOO).join(', ')} (default mlp-small), or a model spec file
  --dataset NAME           mnist (default), fashion-mnist (60,000 + 10,000 images),
                           fashion-mnist-small (12,000 + 3,000, for quick runs), synthetic (--examples N)
  --optimizer KIND         sgd, momentum, rmsprop, adam (default), adagrad, adamax
  --lr X --momentum B --nesterov --momentum-form ewa|classic --rho R --beta1 B1 --beta2 B2
  --epsilon E --weight-decay W --amsgrad --clip-norm C
  --schedule KIND          inverse-time (default), constant, exponential, staircase,
                           inverse-sqrt-epoch, inverse-sqrt-iteration, cosine-restarts
  --decay-rate R --decay-base B --decay-factor F --decay-every N --k K --period N
  --batch-size N|auto      auto: the lecture's advice (batch GD if m <= 2000, else a power of two)
  --epochs N  --max-iterations N  --seed N
  --mode exact|local|auto  exact (default): one optimizer step per mini-batch, the serial loop's
                           weights. local: each worker takes H inner steps with --optimizer, the
                           coordinator one outer step on their mean change (far less traffic).
                           auto: exact while the workers are measured, then exact or local with
                           the H predicted to reach the target first (takes --outer-*, --compress)
  --local-steps H|auto     mode local: inner steps per worker per round (default auto: communication
                           kept under a tenth of a round)
  --outer-optimizer KIND   mode local: default sgd: lr 1 (the workers' mean change) after a warm
                           start (measured: a step past it overshoots the trained weights); with
                           --warm-start 0 and in mode auto, lr 1.5 when H <= 4, else lr 1.2 (the
                           winners of bench/local-sweep, H 2-32, 2-8 workers; README "Training modes");
                           nesterov (DiLoCo's: momentum lr 0.7, beta 0.9), sgd (lr 1: the workers'
                           mean change), momentum, adam...
  --outer-lr X             mode local: the outer optimizer's learning rate (needed past nesterov/sgd)
  --outer-restart N        mode local, outer nesterov or momentum: momentum set to 0 every N outer
                           steps (momentum restarts)
  --inner-scale sqrt-workers|none   mode local and auto: the inner learning rate times sqrt(the
                           workers in each round), or not (default: none after a warm start,
                           sqrt-workers with --warm-start 0 and in mode auto; measured: from scratch
                           it takes 8 workers to 92 % on MNIST, after a warm start it jolts the
                           weights; README "Learning rate and workers")
  --compress none|fp16|int8|topk   mode local: how pseudo-gradients travel back and weights out
                           (int8: one scale per block, with error feedback) (default: int8 for room
                           members, whose link is measured to be the bottleneck; none for threads).
                           topk: the 28 largest of each 256 values back (17x fewer bytes than none,
                           4.3x fewer than int8, the rest kept for later rounds), weights out as
                           int8; measured within 0.1 point of none (README "Top-k compression")
  --warm-start N           mode local: the first N iterations in exact mode (a warm start), then
                           local rounds (default 160: measured on MNIST, 92 % after 2 epochs with
                           it against 7 without; 0 turns it off). Over chunked data it runs on this
                           machine's workers while volunteers wait (measured to pay: README)
  --warm-start-steps K     mode local: run the warm start as local rounds of K steps over every
                           member instead (the room trains from the first iteration). Measured on
                           the classroom testbed: no sooner than the default (README "Round twelve")
  --steps-by-speed on|off  mode local: in a full round a member clearly slower than the round's
                           median (under 0.8 of its compute speed) runs fewer than H steps, so the
                           round does not wait for it (default: on in a room, off for threads only).
                           With 2 of 8 laptops at a third of the CPU: 85 % in 0.73-0.78 of the time
  --overlap                mode local: a member that is done early starts its next round's group at
                           once, from the newest weights, and adds the outer step it missed when
                           it comes (default off). It costs accuracy: on Fashion-MNIST with 9
                           workers -0.4 points (84.0 against 84.4 %); with a straggler on MNIST
                           -3.7 (89.0 against 92.7 %); on the classroom testbed (round ten) it
                           reached 85 % later than without (README "Overlap")
  --workers N              local worker threads (default 2)
  --backend LIST           e.g. webgpu,wasm (default: each worker picks its fastest)
  --checkpoint FILE        save a checkpoint each epoch, on Ctrl-C and at the end
  --resume                 continue the run in --checkpoint FILE. Its job is kept: flags that would
                           change it are refused, except --epochs (may be raised), --max-iterations
  --save-model DIR         at the end, save the model as a tfjs layers model (model.json, weights.bin)
  --init-model DIR         start from that model's weights (fine-tuning); its layout must be the
                           job's model's; without --model, the job trains that model
  --json                   one JSON object per line per event; the last is {"event":"done",...}
`;

const OPTIONS = {
  help: { type: 'boolean' },
  json: { type: 'boolean' },
  resume: { type: 'boolean' },
  workers: { type: 'string' },
  backend: { type: 'string' },
  checkpoint: { type: 'string' },
  'save-model': { type: 'string' },
  'init-model': { type: 'string' },
  ...JOB_OPTIONS,
} as const;

function describeMode(mode: JobConfig['mode']): string {
  if (mode?.kind === 'auto')
    return `auto (exact or local, chosen from the measured workers; compress ${mode.compress ?? 'int8 for peers, none for threads'})`;
  if (mode?.kind !== 'local') return 'exact';
  const o = outerOf(mode);
  const outer = Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const warm = mode.warmup ? `, exact for the first ${mode.warmup} iterations` : '';
  const ov = mode.overlap ? ', overlap' : '';
  return `local, ${mode.steps} inner steps per round, outer ${outer}, compress ${mode.compress ?? 'int8 for peers, none for threads'}${warm}${ov}`;
}

function describeJob(t: Trainer, workers: number, backends: string[]): string[] {
  const { job } = t;
  const o = job.optimizer;
  return [
    `model      ${JSON.stringify(job.model)}`,
    `dataset    ${job.dataset.kind}`,
    `optimizer  ${Object.entries(o)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `schedule   ${JSON.stringify(job.schedule)}`,
    `mini-batch ${job.batchSize}, ${job.epochs} epochs, seed ${job.seed}`,
    `mode       ${describeMode(job.mode)}`,
    `workers    ${workers} thread(s) on ${[...new Set(backends)].join(', ') || '?'}`,
  ];
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const flags = values as Flags;
  if (flags.help) {
    process.stdout.write(TRAIN_HELP);
    return 0;
  }
  const json = flags.json === true;
  const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const workers = num(flags, 'workers') ?? Math.min(2, availableParallelism());
  const backends: BackendName[] | undefined =
    typeof flags.backend === 'string' ? parseBackendList(flags.backend) : undefined;
  const store = typeof flags.checkpoint === 'string' ? new FileCheckpointStore(flags.checkpoint) : undefined;
  const opts = { backends, checkpoint: store ? { store } : undefined };
  const saveModel = typeof flags['save-model'] === 'string' ? flags['save-model'] : undefined;
  const initModel = typeof flags['init-model'] === 'string' ? flags['init-model'] : undefined;
  if (flags.resume && !store) throw new GradroomError('BAD_CONFIG', '--resume needs --checkpoint FILE');
  if (flags.resume && initModel)
    throw new GradroomError('BAD_CONFIG', '--init-model starts a new run; --resume continues one: use one of them');
  // everything that can be wrong with the paths is found now, not after the first epoch
  if (store) {
    await makeDirs(dirname(store.path), `checkpoint file ${store.path}`);
    await store.checkWritable();
  }
  if (saveModel) await checkModelDirWritable(saveModel);

  let trainer: Trainer;
  let advice: ReturnType<typeof jobFromFlags>['advice'];
  const resumed = flags.resume === true;
  if (store && resumed) {
    const bytes = await store.load();
    if (!bytes)
      throw new GradroomError(
        'BAD_CONFIG',
        `--resume: there is no checkpoint at ${store.path} (run without --resume to start)`,
      );
    const c = decodeCheckpoint(bytes);
    const job = resumeJob(flags, c, store.path);
    trainer = Trainer.fromCheckpoint(encodeCheckpoint({ ...c, job }), opts);
  } else if (initModel) {
    const init = await readModelDir(initModel);
    const parsed = jobFromFlags(flags, init.spec);
    advice = parsed.advice;
    trainer = Trainer.fromCheckpoint(encodeCheckpoint(startingCheckpoint(parsed.job, init.layout, init.weights)), opts);
  } else {
    const parsed = jobFromFlags(flags);
    advice = parsed.advice;
    trainer = new Trainer(parsed.job, opts);
  }
  if (advice) {
    if (json) out({ event: 'advice', ...advice });
    else console.log(`batch size: ${advice.reason}`);
  }
  if (resumed && !json)
    console.log(
      `resuming from ${flags.checkpoint} at epoch ${trainer.position.epoch + 1}, iteration ${trainer.position.iteration}`,
    );

  const backendsSeen: string[] = [];
  let closing = false;
  trainer.on('worker', (e) => {
    if (closing) return; // the workers we end ourselves after the run
    if (e.type === 'joined' && e.backend) {
      // say once why the run is not on a faster backend (e.g. a model wasm cannot train runs on cpu)
      if (!json && backendsSeen.length === 0) {
        const why = (e.skipped ?? []).map((s) => `${s.backend}: ${s.reason}`).join('; ');
        log(`workers compute on ${e.backend}${why ? ` (skipped ${why})` : ''}`);
      }
      backendsSeen.push(e.backend);
    }
    if (json) out({ event: 'worker', ...e });
    else if (e.type !== 'joined') console.error(`worker ${e.id} ${e.type}: ${e.reason ?? ''}`);
  });
  trainer.on('log', (e) => (json ? out({ event: 'log', ...e }) : console.error(`${e.level}: ${e.message}`)));

  // a live bar on a terminal; plain lines when stdout is a pipe or a CI log
  const bars =
    json || process.stdout.isTTY !== true
      ? null
      : new cliProgress.MultiBar(
          {
            format: 'epoch {epoch} |{bar}| iteration {value}/{total} | loss {loss} | {metric} | lr {lr} | {eps} ex/s',
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
  const log = (line: string) => (bars ? bars.log(`${line}\n`) : console.log(line));
  let bar: cliProgress.SingleBar | undefined;
  let barEpoch = -1;
  let last: { batch: number; batchesPerEpoch: number; loss: number; eps: number } | undefined;
  trainer.on('iteration', (e) => {
    last = { batch: e.batch, batchesPerEpoch: e.batchesPerEpoch, loss: e.lossSmoothed, eps: e.examplesPerSec };
    if (json) {
      const { workers: ws, ...rest } = e;
      out({
        event: 'iteration',
        ...rest,
        workers: ws.map((w) => ({ id: w.id, backend: w.backend, share: w.share, speed: Math.round(w.speed) })),
      });
      return;
    }
    const payload = {
      epoch: `${e.epoch + 1}/${trainer.job.epochs}`,
      loss: e.lossSmoothed.toFixed(4),
      // a regression's metric is its loss: shown once
      metric: e.metric === 'accuracy' ? `acc ${e.metricValue.toFixed(3)}` : e.metric,
      lr: e.lr.toPrecision(3),
      eps: Math.round(e.examplesPerSec),
    };
    if (e.epoch !== barEpoch) {
      barEpoch = e.epoch;
      bar = bars?.create(e.batchesPerEpoch, 0, payload);
    }
    bar?.update(e.batch + 1, payload);
  });
  trainer.on('epoch', (e) => {
    if (json) out({ event: 'epoch', ...e });
    else {
      const it = last ? `iteration ${last.batch + 1}/${last.batchesPerEpoch}, ${Math.round(last.eps)} ex/s, ` : '';
      log(`epoch ${e.epoch + 1}/${trainer.job.epochs}: ${it}${describeEpoch(e)} (${e.seconds.toFixed(1)} s)`);
    }
  });
  let savedAt = -1; // the iteration of the last checkpoint written
  trainer.on('checkpoint', (e) => {
    savedAt = e.iteration;
    if (json) out({ event: 'checkpoint', ...e });
  });

  const onSigint = () => {
    if (!json) log('stopping after this iteration (Ctrl-C again to quit now)');
    trainer.stop();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const joins = Array.from({ length: workers }, () => trainer.addWorker(spawnThreadWorker()));
  const t0 = performance.now();
  try {
    let r: Awaited<ReturnType<Trainer['run']>>;
    try {
      r = await trainer.run();
    } catch (e) {
      // the run itself failed (diverged, no worker left...): exit 1, apart from bad usage (2)
      bars?.stop();
      // every local thread refusing the job at init is the job's fault (e.g. 3 outputs for 10 classes):
      // report the thread's own reason, which exitCode reads as bad usage
      throw new RunFailed((await jobRefusal(joins)) ?? e);
    }
    closing = true;
    bars?.stop();
    const pos = r.position;
    // a run that ends through --max-iterations in mid-epoch is saved too, so --resume goes on from there
    if (store && savedAt !== pos.iteration) {
      const bytes = trainer.snapshot();
      await store.save(bytes);
      if (json) out({ event: 'checkpoint', iteration: pos.iteration, epoch: pos.epoch, bytes: bytes.byteLength });
    }
    if (saveModel) {
      await trainer.exportModel(saveModel);
      if (json) out({ event: 'model', dir: saveModel });
    }
    const seconds = (performance.now() - t0) / 1000;
    if (json) {
      out({
        event: 'done',
        metric: r.metric,
        test: r.test,
        testAccuracy: r.testAccuracy,
        testLoss: r.testLoss,
        epochs: pos.epoch,
        iterations: pos.iteration,
        seconds,
        stopped: r.stopped,
        backends: [...new Set(backendsSeen)],
      });
    } else {
      console.log(
        `\n${r.stopped ? 'Stopped' : 'Trained'}: ${pos.iteration} iterations (${pos.epoch} epochs) in ${seconds.toFixed(1)} s.`,
      );
      for (const l of describeJob(trainer, workers, backendsSeen)) console.log(`  ${l}`);
      if (r.test) console.log(`  ${describeScore('test', r.metric, r.test)}`);
      if (store) console.log(`  checkpoint ${store.path}${r.stopped ? ' (continue with --resume)' : ''}`);
      if (saveModel) console.log(`  model ${saveModel} (model.json + weights.bin: tf.loadLayersModel loads it)`);
    }
    return 0;
  } finally {
    closing = true;
    process.off('SIGINT', onSigint);
    await trainer.close();
  }
}

/** A failure of the run itself, as opposed to bad flags: the CLI exits 1 for it, 2 for bad usage. */
export class RunFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** What every worker's init refused, when all of them refused: the job's own fault, not one thread's. */
async function jobRefusal(joins: Promise<unknown>[]): Promise<unknown> {
  const settled = await Promise.allSettled(joins);
  const reasons = settled.map((r) => (r.status === 'rejected' ? r.reason : undefined));
  return reasons.length > 0 && reasons.every(isUsageError) ? reasons[0] : undefined;
}

/** Errors of bad input: flags, files, config and data the user gave. Everything else is a run that failed. */
const USAGE_CODES: readonly ErrorCode[] = ['BAD_CONFIG', 'BAD_DATA'];
const isUsageError = (e: unknown): boolean => isGradroomError(e) && USAGE_CODES.includes(e.code);

/**
 * Exit status for an error, the one place the README's rule is kept: 2 for bad usage (flags, files,
 * config, data), 1 for a run that failed. A run fails with exit 1 unless its cause is bad input.
 */
export function exitCode(e: unknown): number {
  if (e instanceof RunFailed) return isUsageError(e.cause) ? 2 : 1;
  if (isGradroomError(e) && e.code === 'DIVERGED') return 1;
  return 2;
}

/** One line, whatever the error: its message, without a stack (GRADROOM_DEBUG=1 prints the stack too). */
export function reportError(e: unknown): string {
  const inner = e instanceof RunFailed ? e.cause : e;
  const message = isGradroomError(inner) || inner instanceof Error ? inner.message : String(inner);
  return `gradroom: ${message.replace(/\s*\n\s*/g, ' ').trim()}`;
}
