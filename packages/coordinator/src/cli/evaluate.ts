/**
 * `gradroom evaluate`: a saved model's loss and accuracy on a data set's test split, computed by
 * local worker threads exactly as a training run evaluates (same data loading, same loss).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { GradroomError } from '@gradroom/core';
import { encodeCheckpoint, startingCheckpoint } from '../checkpoint.js';
import { metricOf } from '../history.js';
import type { JobConfig } from '../job.js';
import { Trainer } from '../trainer.js';
import { spawnThreadWorker } from '../transports/thread.js';
import { dataset, type Flags, num } from './job-flags.js';
import { readModelDir } from './model-dir.js';

export const EVALUATE_HELP = `gradroom evaluate --model DIR [flags]

The test loss and accuracy of a model saved by \`gradroom train --save-model DIR\`.
  --dataset mnist|fashion-mnist|fashion-mnist-small|synthetic   (--examples N, --seed N for synthetic; default mnist)
  --workers N                local worker threads (default 2)
  --json                     one JSON object: {"event":"evaluation","dataset","testLoss","testAccuracy","metric","testMetric"}
`;

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      dataset: { type: 'string' },
      examples: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const flags = values as Flags;
  if (flags.help) {
    process.stdout.write(EVALUATE_HELP);
    return 0;
  }
  if (typeof flags.model !== 'string')
    throw new GradroomError('BAD_CONFIG', 'evaluate needs --model DIR (a saved model)');
  const workers = num(flags, 'workers') ?? Math.min(2, availableParallelism());
  const seed = num(flags, 'seed') ?? 1;
  const saved = await readModelDir(flags.model);
  const job: JobConfig = {
    model: saved.spec,
    dataset: dataset(flags, seed),
    optimizer: { kind: 'sgd', lr: 0 }, // never steps: evaluation only
    batchSize: 64,
    epochs: 1,
    seed,
  };
  const trainer = Trainer.fromCheckpoint(encodeCheckpoint(startingCheckpoint(job, saved.layout, saved.weights)));
  try {
    const joins = await Promise.allSettled(
      Array.from({ length: workers }, () => trainer.addWorker(spawnThreadWorker())),
    );
    const failed = joins.find((j) => j.status === 'rejected');
    if (failed && joins.every((j) => j.status === 'rejected')) throw (failed as PromiseRejectedResult).reason;
    const r = await trainer.evaluate();
    if (!r || !Number.isFinite(r.loss)) throw new GradroomError('BAD_STATE', 'the evaluation gave no result');
    const metric = metricOf(job.model.loss);
    const accuracy = metric === 'accuracy' ? r.metric : null;
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ event: 'evaluation', dataset: job.dataset.kind, testLoss: r.loss, testAccuracy: accuracy, metric, testMetric: r.metric })}\n`,
      );
    } else {
      const score = accuracy === null ? `${metric} ${r.metric.toFixed(4)}` : `accuracy ${(100 * accuracy).toFixed(2)}%`;
      console.log(`${flags.model} on ${job.dataset.kind} (test split): loss ${r.loss.toFixed(4)}, ${score}`);
    }
    return 0;
  } finally {
    await trainer.close();
  }
}
