/**
 * The run's scores in the job's own terms (issue 21): the metric follows the loss (accuracy, or a
 * regression's MSE or MAE), the last test score, the validation split held out of training, and the
 * epochs' record that run() returns as its history.
 */
import type { Evaluator } from './evaluation.js';
import type { EvaluationEvent } from './events.js';
import { type EpochRecord, type MetricName, metricOf, type SplitScore, splitScore, validationSize } from './history.js';
import type { JobConfig } from './job.js';
import type { WeightsSnapshot } from './worker-handle.js';

export class RunScores {
  readonly metric: MetricName;
  private last: SplitScore | null = null;
  private readonly records: EpochRecord[] = [];
  /** Examples at the end of the training set held out for validation (job.validationSplit). */
  validation = 0;

  constructor(
    private readonly job: JobConfig,
    private readonly evaluator: Evaluator,
  ) {
    this.metric = metricOf(job.model.loss);
  }

  /** The last test score; null while none was taken. */
  get test(): SplitScore | null {
    return this.last;
  }

  get history(): EpochRecord[] {
    return this.records.slice();
  }

  /** The training set's size is known: the validation split is its last examples. */
  holdOut(trainSize: number): void {
    this.validation = validationSize(this.job.validationSplit, trainSize);
  }

  /** Scores the whole test split of `testSize` examples; null when the run stopped meanwhile. */
  async scoreTest(snapshot: WeightsSnapshot, testSize: number): Promise<SplitScore | null> {
    if (testSize === 0) return null;
    const score = await this.evaluator.score(snapshot, testSize, 'test');
    if (score !== null) this.last = splitScore(this.metric, score);
    return score === null ? null : this.last;
  }

  /** The deprecated NaN-valued fields: accuracy only for a classifier, NaN where not scored. */
  legacy(s: SplitScore | null = this.last): { testAccuracy: number; testLoss: number } {
    return { testAccuracy: s && this.metric === 'accuracy' ? s.metric : Number.NaN, testLoss: s ? s.loss : Number.NaN };
  }

  /** An 'evaluation' event's scores (TrainerOptions.evalEvery). */
  evaluationFields(s: SplitScore | null): Pick<EvaluationEvent, 'testLoss' | 'testAccuracy'> {
    return this.legacy(s);
  }

  /**
   * Scores the epoch that just ended (validation, and test unless `evaluate: false` or already
   * scored at this iteration), keeps its record and returns the epoch event's fields.
   */
  async closeEpoch(
    at: { epoch: number; iteration: number; trainSize: number; testSize: number },
    train: { trainLoss: number; trainAccuracy: number; seconds: number },
    snapshot: WeightsSnapshot,
    tested: SplitScore | null,
  ) {
    const from = at.trainSize - this.validation;
    const v = this.validation > 0 ? await this.evaluator.score(snapshot, this.validation, 'train', from) : null;
    const test = this.job.evaluate === false ? null : (tested ?? (await this.scoreTest(snapshot, at.testSize)));
    const record: EpochRecord = {
      epoch: at.epoch,
      iteration: at.iteration,
      train: splitScore(this.metric, { loss: train.trainLoss, accuracy: train.trainAccuracy }),
      validation: v ? splitScore(this.metric, v) : null,
      test,
      seconds: train.seconds,
    };
    this.records.push(record);
    return {
      ...record,
      metric: this.metric,
      trainLoss: train.trainLoss,
      trainAccuracy: this.metric === 'accuracy' ? train.trainAccuracy : Number.NaN,
      ...this.legacy(test),
    };
  }
}
