/**
 * The lecture's advice for choosing the mini-batch size (SEED.md): with a small training set
 * (m <= 2000) use batch gradient descent; otherwise a power of two (64, 128, 256, 512, ...) such that
 * one mini-batch fits in CPU/GPU memory.
 */
import { GradroomError } from './errors.js';

export interface BatchSizeAdvice {
  size: number;
  /** 'batch' = the whole training set (batch GD), 'mini-batch' = a power of two. */
  mode: 'batch' | 'mini-batch';
  /** One sentence a person can read, explaining the choice. */
  reason: string;
}

export interface BatchSizeInput {
  examples: number;
  /** Memory one example needs during a gradient step (inputs, activations, their gradients). */
  bytesPerExample: number;
  /** Memory the mini-batch may use; default 256 MiB. */
  memoryBudgetBytes?: number;
  /** Largest power of two to consider; default 512, the top of the lecture's list. */
  maxSize?: number;
  smallSetThreshold?: number;
}

export function adviseBatchSize(input: BatchSizeInput): BatchSizeAdvice {
  const { examples, bytesPerExample } = input;
  const budget = input.memoryBudgetBytes ?? 256 * 2 ** 20;
  const maxSize = input.maxSize ?? 512;
  const small = input.smallSetThreshold ?? 2000;
  if (!Number.isInteger(examples) || examples <= 0) {
    throw new GradroomError('BAD_CONFIG', `adviseBatchSize: examples must be a positive integer, got ${examples}`);
  }
  if (!(bytesPerExample > 0) || !(budget > 0)) {
    throw new GradroomError('BAD_CONFIG', 'adviseBatchSize: bytesPerExample and memoryBudgetBytes must be positive');
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (examples <= small && examples * bytesPerExample <= budget) {
    return {
      size: examples,
      mode: 'batch',
      reason: `The training set is small (m = ${examples} <= ${small}), so use batch gradient descent: one mini-batch of all ${examples} examples (${mib(examples * bytesPerExample)}).`,
    };
  }
  let size = 1;
  while (size * 2 <= maxSize && size * 2 * bytesPerExample <= budget && size * 2 <= examples) size *= 2;
  const why =
    examples <= small
      ? `The set is small (m = ${examples}) but does not fit the ${mib(budget)} budget at once`
      : `The training set is large (m = ${examples} > ${small})`;
  return {
    size,
    mode: 'mini-batch',
    reason: `${why}, so use mini-batches of a power of two: ${size} is the largest up to ${maxSize} whose ${mib(size * bytesPerExample)} fit the ${mib(budget)} memory budget (${Math.ceil(examples / size)} iterations per epoch).`,
  };
}
