/**
 * Node only: tfjs layers models as a directory (model.json + weights.bin), the layout tfjs's own
 * http and browser-files handlers use, so a directory written here can be served and loaded with
 * `tf.loadLayersModel('http://.../model.json')`. (Plain @tensorflow/tfjs has no file handler in
 * Node; tfjs-node's file:// needs a native binary.)
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GradroomError, type ModelSpec, type TensorShape } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { type ExportedModelMetadata, MODEL_METADATA_FORMAT, modelWithWeights } from './export.js';
import { modelLayout } from './models.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** Writes model.json and weights.bin into `dir` (created if missing); each file appears whole or not at all. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    await mkdir(dir, { recursive: true });
    const data = artifacts.weightData;
    const bytes = data === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(data);
    const json = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    const text = JSON.stringify(json);
    await writeAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(bytes));
    await writeAtomic(join(dir, MODEL_JSON), text);
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: text.length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
        weightDataBytes: bytes.byteLength,
      },
    };
  });
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Reads a model directory written by fileSaveHandler (or any tfjs layers model.json with its weight files). */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const path = join(dir, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(path, 'utf8')) as tf.io.ModelJSON;
      } catch (e) {
        throw new GradroomError('BAD_CONFIG', `cannot read the model at ${path}: ${(e as Error).message}`);
      }
      if (!json || typeof json !== 'object' || json.modelTopology == null || !Array.isArray(json.weightsManifest))
        throw new GradroomError(
          'BAD_CONFIG',
          `${path} is not a tfjs layers model (modelTopology or weightsManifest missing)`,
        );
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const file = join(dir, p);
            try {
              const b = await readFile(file);
              buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
            } catch (e) {
              throw new GradroomError('BAD_CONFIG', `cannot read the model's weights ${file}: ${(e as Error).message}`);
            }
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** A model directory, loaded: its spec, its trainable tensors' layout, and their values as one flat buffer. */
export interface LoadedModel {
  spec: ModelSpec;
  layout: TensorShape[];
  weights: Float32Array;
  model: tf.LayersModel;
}

/**
 * Loads a model directory with tf.loadLayersModel. The spec is the one gradroom exported it from (in
 * its metadata), else the file's own topology, so any tfjs layers model can be evaluated or fine-tuned.
 * The caller disposes `model`.
 */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  await tf.ready();
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileLoadHandler(dir));
  } catch (e) {
    if (e instanceof GradroomError) throw e;
    throw new GradroomError('BAD_CONFIG', `the model in ${dir} could not be loaded: ${(e as Error).message}`);
  }
  const layout = modelLayout(model);
  const weights = new Float32Array(layout.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0));
  let offset = 0;
  for (const v of model.weights) {
    const values = v.read().dataSync() as Float32Array;
    weights.set(values, offset);
    offset += values.length;
  }
  const meta = (model.getUserDefinedMetadata() as { gradroom?: ExportedModelMetadata } | undefined)?.gradroom;
  let spec: ModelSpec;
  if (meta?.format === MODEL_METADATA_FORMAT && meta.model && typeof meta.model === 'object') {
    spec = meta.model;
  } else {
    const out = model.outputs[0]?.shape;
    const classes = out?.[out.length - 1];
    if (typeof classes !== 'number')
      throw new GradroomError('BAD_CONFIG', `the model in ${dir} has no fixed output size`);
    spec = { kind: 'layers', topology: model.toJSON(null, false) as Record<string, unknown>, classes };
  }
  if (meta?.outputs === 'probabilities') {
    // gradroom reads a model's raw scores (predictRows applies the loss's softmax or sigmoid itself)
    model.dispose();
    model = await modelWithWeights(spec, layout, weights);
  }
  return { spec, layout, weights, model };
}
