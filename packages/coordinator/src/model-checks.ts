/**
 * What a job's model can be checked against before any worker builds it: the parts of a layers
 * topology the job's mode can train, and whether the model fits the data (issue 21: errors at
 * `new Trainer`, not seconds later when the workers have built it).
 */
import { checkInitializers, checkModelFitsData, GradroomError, statefulLayers } from '@gradroom/core';
import type { JobConfig } from './job.js';

export function checkModelForJob(job: JobConfig): void {
  const model = job.model;
  checkModelFitsData(model, job.dataset);
  if (model.kind !== 'layers') return;
  checkInitializers(model.topology);
  if (job.mode?.kind === 'local') {
    // each worker's inner steps would move the moving statistics on its own; no rule to average them is defined
    const stateful = statefulLayers(model.topology);
    if (stateful.length > 0)
      throw new GradroomError(
        'BAD_CONFIG',
        `mode local cannot train layers with state beside their weights: ${stateful.join(', ')}; use mode exact`,
      );
  }
}
