/**
 * What the run knows itself, never from one peer's word (DESIGN.md, Trust): the model's layout (from
 * its spec, a checkpoint, or the first worker to build a layers topology) and the data set's sizes
 * (from the spec, the options, or the run's own first worker). Every joining worker is checked here,
 * the one layout check of the coordinator.
 */
import { GradroomError, ParamLayout, specLayout, type TaskSpec } from '@gradroom/core';
import type { WorkerInfo } from '@gradroom/worker';
import { datasetSizes } from '@gradroom/worker/catalog';
import type { JobConfig } from './job.js';

/** Why a worker is refused: what it is told, and what its caller gets. */
export interface Refusal {
  reason: string;
  error: GradroomError;
}

export class RunFacts {
  layout?: ParamLayout;
  trainSize = 0;
  testSize = 0;

  constructor(
    private readonly job: JobConfig,
    dataSizes?: { train: number; test: number },
  ) {
    const known = specLayout(job.model);
    if (known) this.layout = new ParamLayout(known);
    const sizes = dataSizes ?? datasetSizes(job.dataset);
    if (sizes) {
      this.trainSize = sizes.train;
      this.testSize = sizes.test;
    }
  }

  /** The task as workers get it (layout empty while unknown: the first worker builds it). */
  task(): TaskSpec {
    return {
      model: this.job.model,
      dataset: this.job.dataset,
      layout: this.layout?.shapes() ?? [],
      paramCount: this.layout?.size ?? 0,
    };
  }

  /**
   * The largest message a peer of this run can need to send: a gradient sum or pseudo-gradient of
   * this model (4 bytes a parameter) and room for the rest (counts, names, an error's text). A room
   * refuses a peer that declares more. Undefined until the model's layout is known.
   */
  peerMessageBytes(): number | undefined {
    return this.layout ? 4 * this.layout.size + 128 * 1024 : undefined;
  }

  /**
   * Checks a worker that finished setting up: its model's layout must be the run's, its data set's
   * sizes the run's. What is still unknown is learnt from it if it is the run's own (trusted).
   */
  admit(id: string, info: WorkerInfo, trusted: boolean): Refusal | undefined {
    const layout = new ParamLayout(info.layout);
    this.layout ??= layout;
    if (!this.layout.equals(layout))
      return {
        reason: 'its model layout differs from the run',
        error: new GradroomError('BAD_CONFIG', `worker ${id} built a different model layout`),
      };
    if (this.trainSize === 0 && trusted) {
      this.trainSize = info.trainSize;
      this.testSize = info.testSize;
    } else if (this.trainSize === 0) {
      return {
        reason: "the run does not know its data set's sizes yet; join again later",
        error: new GradroomError('BAD_STATE', `worker ${id}: the data set's sizes are not known yet`),
      };
    } else if (info.trainSize !== this.trainSize || info.testSize !== this.testSize) {
      return {
        reason: `its data set has ${info.trainSize}/${info.testSize} examples, the run's ${this.trainSize}/${this.testSize}`,
        error: new GradroomError('BAD_CONFIG', `worker ${id} loaded a different data set`),
      };
    }
    return undefined;
  }
}
