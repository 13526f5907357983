/**
 * Model directories for the CLI (--save-model, --init-model, predict, evaluate). tfjs is imported
 * only when a model is read, so a plain `gradroom train` does not pay for it.
 */
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GradroomError, type ModelSpec, type TensorShape } from '@gradroom/core';
import { makeDirs } from './paths.js';

/** Fails now where saving the model at the end of the run would fail. */
export async function checkModelDirWritable(dir: string): Promise<void> {
  const fail = (why: string): never => {
    throw new GradroomError('BAD_CONFIG', `--save-model ${dir} cannot be written: ${why}`);
  };
  const s = await stat(dir).catch(() => null);
  if (s && !s.isDirectory()) fail('it is a file, not a directory');
  const probe = join(dir, `.gradroom-probe.${process.pid}.tmp`);
  await makeDirs(dir, `--save-model ${dir}`);
  try {
    await (await open(probe, 'w')).close();
  } catch (e) {
    fail((e as Error).message);
  } finally {
    await unlink(probe).catch(() => {});
  }
}

export interface ModelDir {
  spec: ModelSpec;
  layout: TensorShape[];
  weights: Float32Array;
}

/** A saved model's spec, layout and flat trainable weights. */
export async function readModelDir(dir: string): Promise<ModelDir> {
  const { loadModelDir } = await import('@gradroom/worker/model-files');
  const m = await loadModelDir(dir);
  m.model.dispose();
  return { spec: m.spec, layout: m.layout, weights: m.weights };
}
