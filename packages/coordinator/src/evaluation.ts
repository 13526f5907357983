/**
 * Loss and accuracy on a split, computed by the workers through the same dispatch loop as training
 * (the run's own workers when it has any: the score is not one peer's word).
 */
import { assignIndices, type Dispatcher, type RoundKind } from './dispatch.js';
import type { ShardPlanner } from './planning.js';
import type { EvalTask } from './tasks.js';
import type { WeightsSnapshot } from './worker-handle.js';

export interface Score {
  loss: number;
  accuracy: number;
}

export class Evaluator {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly planner: ShardPlanner,
  ) {}

  /**
   * The score of `snapshot` on `size` examples of `split` from index `from` (a validation split is
   * the training set's last examples); null when the run stopped meanwhile.
   */
  async score(
    snapshot: WeightsSnapshot,
    size: number,
    split: 'train' | 'test' = 'test',
    from = 0,
  ): Promise<Score | null> {
    const all = new Uint32Array(size);
    for (let i = 0; i < all.length; i++) all[i] = from + i;
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    const kind: RoundKind<Uint32Array, EvalTask> = {
      label: 'evaluation',
      assign: (idle, pending) =>
        assignIndices(
          idle,
          pending,
          (total) => this.planner.evaluate(idle, total),
          (indices) => ({ kind: 'evaluate', shardId: this.dispatcher.nextShardId(), indices, split }),
        ),
      workOf: (task) => task.indices,
      accept: (_s, _task, r) => {
        lossSum += r.lossSum;
        correct += r.correct;
        count += r.count;
      },
    };
    const done = await this.dispatcher.run(kind, [all], snapshot);
    if (done === null) return null;
    return { loss: lossSum / count, accuracy: correct / count };
  }
}
