/**
 * Progress in the job's own terms (issue 21): the metric follows the loss (accuracy for the
 * cross-entropies, the loss itself, MSE or MAE, for a regression), and a split that was not scored
 * is null, never NaN or 0. `run()` returns the epochs' record, as tfjs's `model.fit` returns its
 * History.
 */
import { type LossName, lossInfo } from '@gradroom/core';

/** What `metric` measures: accuracy (classification), or the regression's mean squared / absolute error. */
export type MetricName = 'accuracy' | 'mse' | 'mae';

/** Loss and metric over a split. */
export interface SplitScore {
  loss: number;
  /** Accuracy in [0, 1] (classification) or, for a regression, its MSE or MAE (equal to the loss). */
  metric: number;
}

/** One epoch of the run's record. */
export interface EpochRecord {
  epoch: number;
  /** Iterations done at the end of this epoch. */
  iteration: number;
  /** The training mini-batches of this epoch, with the weights of their time. */
  train: SplitScore;
  /** The held-out end of the training set (`validationSplit`), scored after the epoch; null without one. */
  validation: SplitScore | null;
  /** The test split, scored after the epoch; null with `evaluate: false`. */
  test: SplitScore | null;
  seconds: number;
}

export function metricOf(loss: LossName | undefined): MetricName {
  return lossInfo(loss).metric;
}

/** A split's loss and correct count in the job's terms. */
export function splitScore(metric: MetricName, s: { loss: number; accuracy: number }): SplitScore {
  return { loss: s.loss, metric: metric === 'accuracy' ? s.accuracy : s.loss };
}

/** Examples held out of training for validation: the last `split` of the training set. */
export function validationSize(split: number | undefined, trainSize: number): number {
  if (!split) return 0;
  return Math.min(trainSize - 1, Math.max(1, Math.floor(trainSize * split)));
}

/** A split's score in words: 'test loss 0.2345, test accuracy 91.20%', or 'test mse 0.0170'. */
export function describeScore(split: string, metric: MetricName, s: SplitScore): string {
  if (metric !== 'accuracy') return `${split} ${metric} ${s.metric.toFixed(4)}`;
  return `${split} loss ${s.loss.toFixed(4)}, ${split} accuracy ${(100 * s.metric).toFixed(2)}%`;
}

/** An epoch in words: its training loss, then each split that was scored. */
export function describeEpoch(e: EpochRecord & { metric: MetricName }): string {
  const parts = [`train ${e.metric === 'accuracy' ? 'loss' : e.metric} ${e.train.loss.toFixed(4)}`];
  if (e.validation) parts.push(describeScore('validation', e.metric, e.validation));
  if (e.test) parts.push(describeScore('test', e.metric, e.test));
  return parts.join(', ');
}
