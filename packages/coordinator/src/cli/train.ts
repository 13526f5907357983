/** `gradroom train`: trains a job on local worker threads, with a progress bar or JSON lines. */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isGradroomError } from '@gradroom/core';
import { type BackendName, parseBackendList } from '@gradroom/worker/catalog';
import cliProgress from 'cli-progress';
import { FileCheckpointStore } from '../checkpoint-file.js';
import { Trainer } from '../trainer.js';
import { spawnThreadWorker } from '../transports/thread.js';
import { type Flags, jobFromFlags } from './job-flags.js';

export const TRAIN_HELP = `gradroom train [flags]

Trains a model on local worker threads. Without flags: the default job (MNIST, MLP 784-128-10,
Adam with 1/(1+0.3*epoch) decay, mini-batches of 64, 5 epochs, 2 workers).

  --model NAME|FILE.json   mlp-small (default), mlp-wide, cnn-small, or a model spec file
  --dataset mnist|synthetic  (--examples N for synthetic)
  --optimizer KIND         sgd, momentum, rmsprop, adam (default), adagrad, adamax
  --lr X --momentum B --nesterov --momentum-form ewa|classic --rho R --beta1 B1 --beta2 B2
  --epsilon E --weight-decay W --amsgrad --clip-norm C
  --schedule KIND          inverse-time (default), constant, exponential, staircase,
                           inverse-sqrt-epoch, inverse-sqrt-iteration, cosine-restarts
  --decay-rate R --decay-base B --decay-factor F --decay-every N --k K --period N
  --batch-size N|auto      auto: the lecture's advice (batch GD if m <= 2000, else a power of two)
  --epochs N  --max-iterations N  --seed N
  --workers N              local worker threads (default 2)
  --backend LIST           e.g. webgpu,wasm (default: each worker picks its fastest)
  --checkpoint FILE        save a checkpoint each epoch and on Ctrl-C; --resume continues from it
  --json                   one JSON object per line per event; the last is {"event":"done",...}
`;

const OPTIONS = {
  help: { type: 'boolean' },
  json: { type: 'boolean' },
  resume: { type: 'boolean' },
  nesterov: { type: 'boolean' },
  amsgrad: { type: 'boolean' },
  workers: { type: 'string' },
  backend: { type: 'string' },
  checkpoint: { type: 'string' },
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
    ].map((k) => [k, { type: 'string' as const }]),
  ),
} as const;

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
  const workers = flags.workers === undefined ? Math.min(2, availableParallelism()) : Number(flags.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new Error(`--workers must be an integer from 1 to 64, got "${flags.workers}"`);
  }
  const backends: BackendName[] | undefined =
    typeof flags.backend === 'string' ? parseBackendList(flags.backend) : undefined;
  const store = typeof flags.checkpoint === 'string' ? new FileCheckpointStore(flags.checkpoint) : undefined;
  const opts = { backends, checkpoint: store ? { store } : undefined };

  let trainer: Trainer;
  let advice: ReturnType<typeof jobFromFlags>['advice'];
  const saved = flags.resume && store ? await store.load() : null;
  if (flags.resume && !store) throw new Error('--resume needs --checkpoint FILE');
  if (saved) {
    trainer = Trainer.fromCheckpoint(saved, opts);
  } else {
    const parsed = jobFromFlags(flags);
    advice = parsed.advice;
    trainer = new Trainer(parsed.job, opts);
  }
  if (advice) {
    if (json) out({ event: 'advice', ...advice });
    else console.log(`batch size: ${advice.reason}`);
  }
  if (saved && !json)
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
            format: 'epoch {epoch} |{bar}| iteration {value}/{total} | loss {loss} | acc {acc} | lr {lr} | {eps} ex/s',
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
      acc: e.accuracy.toFixed(3),
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
      log(
        `epoch ${e.epoch + 1}/${trainer.job.epochs}: ${it}train loss ${e.trainLoss.toFixed(4)}, test loss ${e.testLoss.toFixed(4)}, test accuracy ${(100 * e.testAccuracy).toFixed(2)}% (${e.seconds.toFixed(1)} s)`,
      );
    }
  });
  trainer.on('checkpoint', (e) => json && out({ event: 'checkpoint', ...e }));

  const onSigint = () => {
    if (!json) log('stopping after this iteration (Ctrl-C again to quit now)');
    trainer.stop();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  for (let i = 0; i < workers; i++) trainer.addWorker(spawnThreadWorker());
  const t0 = performance.now();
  try {
    const r = await trainer.run();
    closing = true;
    bars?.stop();
    const seconds = (performance.now() - t0) / 1000;
    const pos = r.position;
    if (json) {
      out({
        event: 'done',
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
      console.log(`  test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, test loss ${r.testLoss.toFixed(4)}`);
      if (store) console.log(`  checkpoint ${store.path}${r.stopped ? ' (continue with --resume)' : ''}`);
    }
    return 0;
  } finally {
    closing = true;
    process.off('SIGINT', onSigint);
    await trainer.close();
  }
}

export function reportError(e: unknown): string {
  if (isGradroomError(e)) return `gradroom: ${e.message}`;
  return `gradroom: ${e instanceof Error ? e.message : String(e)}`;
}
