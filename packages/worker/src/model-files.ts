/**
 * Node only: tfjs layers models as a directory (model.json + weights.bin), the layout tfjs's own
 * http and browser-files handlers use, so a directory written here can be served and loaded with
 * `tf.loadLayersModel('http://.../model.json')`. (Plain @tensorflow/tfjs has no file handler in
 * Node; tfjs-node's file:// needs a native binary.)
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GradroomError, type ModelSpec, type TensorShape } from '@gradroom/core';
import * as tf from '@tensorflow/tfjs';
import { openRegularFile, pathInside, readRegularFile } from './data/regular-file.js';
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

/** model.json holds the topology and the manifest only: far below this. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
/** Far above the models gradroom trains; bounds what a hostile manifest can make us read. */
const MAX_WEIGHT_BYTES = 2 ** 30;
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/** The bytes a manifest group's weights take in its files, as plain numbers (no 32-bit wrap). */
function declaredBytes(entries: tf.io.WeightsManifestEntry[], where: string): number {
  let total = 0;
  for (const w of entries) {
    const bytes = w.quantization ? QUANTIZED_BYTES[w.quantization.dtype] : DTYPE_BYTES[w.dtype];
    const shape = Array.isArray(w.shape) ? w.shape : [NaN];
    if (bytes === undefined || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new GradroomError('BAD_CONFIG', `${where}: weight ${String(w.name)} has an unreadable dtype or shape`);
    total += bytes * shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/**
 * Reads a model directory written by fileSaveHandler (or any tfjs layers model.json with its weight
 * files). Weights come only from regular files whose real path is inside `dir`, and exactly the
 * bytes the manifest declares: a shared model cannot make us read another file, a device or a FIFO.
 */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const path = join(dir, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        const bytes = await readRegularFile(path, {
          maxBytes: MAX_MODEL_JSON_BYTES,
          code: 'BAD_CONFIG',
          message: (why) => `cannot read the model at ${path}: ${why}`,
        });
        json = JSON.parse(new TextDecoder().decode(bytes)) as tf.io.ModelJSON;
      } catch (e) {
        if (e instanceof GradroomError) throw e;
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
        let total = 0;
        for (const group of manifest) {
          if (!Array.isArray(group?.paths) || !Array.isArray(group.weights))
            throw new GradroomError('BAD_CONFIG', `${path}: a weightsManifest entry lacks paths or weights`);
          specs.push(...group.weights);
          // the group's bytes, split over its files in order (tfjs shards large models)
          let left = declaredBytes(group.weights, path);
          total += left;
          if (total > MAX_WEIGHT_BYTES)
            throw new GradroomError(
              'BAD_CONFIG',
              `${path} declares ${total} bytes of weights, more than ${MAX_WEIGHT_BYTES}`,
            );
          for (const p of group.paths) {
            const what = `the model's weights file`;
            const file = await pathInside(dir, p, { what, code: 'BAD_CONFIG' });
            const f = await openRegularFile(file, { maxBytes: MAX_WEIGHT_BYTES, what, code: 'BAD_CONFIG' });
            try {
              if (f.size > left)
                throw new GradroomError(
                  'BAD_CONFIG',
                  `${what} ${p} holds ${f.size} bytes, more than the ${left} its manifest declares`,
                );
              const b = await f.read();
              buffers.push(b.buffer as ArrayBuffer);
              left -= b.byteLength;
            } finally {
              await f.close();
            }
          }
          if (left !== 0)
            throw new GradroomError(
              'BAD_CONFIG',
              `the model's weights files (${group.paths.join(', ')}) hold ${left} bytes fewer than the manifest in ${path} declares`,
            );
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** The name and index of the first NaN or infinite value among all the model's weights, if any. */
function nonFiniteWeight(model: tf.LayersModel): string | undefined {
  for (const w of model.weights) {
    const values = w.read().dataSync();
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return `${w.name}[${i}] (${values[i]})`;
  }
  return undefined;
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
  const bad = nonFiniteWeight(model);
  if (bad) {
    model.dispose();
    throw new GradroomError('NON_FINITE', `the model in ${dir} is unusable: its weight ${bad} is NaN or infinite`);
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
