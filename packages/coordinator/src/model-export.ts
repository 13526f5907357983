/** The trainer's weights as a tfjs layers model (Trainer.exportModel). */
import { GradroomError, type ModelSpec, type TensorShape } from '@gradroom/core';
import type { ExportOptions, exportLayersModel, ModelTarget } from '@gradroom/worker/export';

/** What Trainer.exportModel calls: exportLayersModel from '@gradroom/worker/export'. */
export type ModelExporter = typeof exportLayersModel;

/** Trainer.exportModel's options: what the model outputs, and (in a browser) the exporter to use. */
export interface ModelExportOptions extends ExportOptions {
  exporter?: ModelExporter;
}

/**
 * Saves `model` with `weights` to `target`. Without `exporter` it loads '@gradroom/worker/export'
 * itself: in a browser pass it, since importing it here would put tfjs (2.5 MB) into every page that
 * bundles the trainer.
 */
export async function exportModel(
  model: ModelSpec,
  layout: TensorShape[],
  weights: Float32Array,
  target: ModelTarget,
  options: ModelExportOptions = {},
): Promise<void> {
  let save = options.exporter;
  if (!save) {
    const specifier = '@gradroom/worker/export'; // not a literal: bundlers leave it out
    try {
      save = ((await import(/* @vite-ignore */ specifier)) as { exportLayersModel: ModelExporter }).exportLayersModel;
    } catch (e) {
      throw new GradroomError(
        'BAD_CONFIG',
        `exportModel could not load @gradroom/worker/export (${(e as Error).message}); in a browser, pass it: trainer.exportModel(target, { exporter: exportLayersModel })`,
      );
    }
  }
  await save(model, layout, weights, target, { outputs: options.outputs });
}
