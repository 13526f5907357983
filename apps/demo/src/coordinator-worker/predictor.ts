/**
 * What the model learned, for the host page: a Web Worker of its own (tfjs on the cpu backend,
 * kept out of the coordinator worker) that the coordinator feeds with the current weights after each
 * epoch. It classifies a fixed panel of test digits, a drawn digit, and the whole test split for a
 * confusion matrix. Only labels, classes and probabilities go back, never weights.
 */
import type { DatasetSpec, ModelSpec, TensorShape } from '@gradroom/core';
import {
  allIndices,
  buildModel,
  type Dataset,
  ensureExamples,
  gather,
  loadDataset,
  ShardComputer,
} from '@gradroom/worker';
import { exportLayersModel } from '@gradroom/worker/export';
import * as tf from '@tensorflow/tfjs';
import * as Comlink from 'comlink';

export interface PanelResult {
  indices: number[];
  /** 28x28 grey levels 0..255 per digit, concatenated. */
  images: Uint8Array;
  labels: number[];
  predicted: number[];
  /** Probability of the predicted class. */
  confidence: number[];
}

export interface PredictorApi {
  init(model: ModelSpec, dataset: DatasetSpec, dataUrl: string): Promise<{ testSize: number; classes: number }>;
  setWeights(weights: Float32Array): void;
  panel(count: number): PanelResult;
  /** Probabilities of each class for one drawn image (features in [0, 1], the data set's layout). */
  classify(pixels: Float32Array): number[];
  /** Counts [true class][predicted class] over the test split. */
  confusion(): number[][];
  /** A tfjs layers model of `spec` holding `weights`: model.json text and the weights' bytes. */
  exportModel(
    spec: ModelSpec,
    layout: TensorShape[],
    weights: Float32Array,
  ): Promise<{ modelJson: string; weights: ArrayBuffer }>;
}

let model: tf.LayersModel | undefined;
let computer: ShardComputer | undefined;
let test: Dataset | undefined;

function ready(): { model: tf.LayersModel; test: Dataset } {
  if (!model || !test || !computer) throw new Error('the predictor is not set up');
  return { model, test };
}

/** Softmax probabilities of rows [from, from + n) of `x` (n examples). */
function probabilities(x: Float32Array, n: number): Float32Array {
  const { model, test } = ready();
  return tf.tidy(() => {
    const out = model.predict(tf.tensor(x, [n, ...test.inputShape])) as tf.Tensor;
    return tf.softmax(out).dataSync() as Float32Array;
  });
}

function argmax(p: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[row * classes + c] > p[row * classes + best]) best = c;
  return best;
}

const api: PredictorApi = {
  async exportModel(spec, layout, weights) {
    if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
    let saved: tf.io.ModelArtifacts | undefined;
    await exportLayersModel(
      spec,
      layout,
      weights,
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!saved?.weightData || !saved.weightSpecs) throw new Error('the model could not be written');
    // what tfjs's own browser download writes: model.json naming its weights file
    const modelJson = JSON.stringify({
      modelTopology: saved.modelTopology,
      format: saved.format,
      generatedBy: saved.generatedBy,
      convertedBy: saved.convertedBy,
      userDefinedMetadata: saved.userDefinedMetadata,
      weightsManifest: [{ paths: ['./model.weights.bin'], weights: saved.weightSpecs }],
    });
    const data = tf.io.concatenateArrayBuffers(
      Array.isArray(saved.weightData) ? saved.weightData : [saved.weightData as ArrayBuffer],
    );
    return Comlink.transfer({ modelJson, weights: data }, [data]);
  },

  async init(spec, dataset, dataUrl) {
    await tf.setBackend('cpu');
    const loader = async (name: string) => {
      const res = await fetch(new URL(name, dataUrl));
      if (!res.ok) throw new Error(`could not fetch ${name}: HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    test = await loadDataset({ ...dataset, split: 'test' } as DatasetSpec, loader);
    // a chunked data set's test split is one file, fetched when first needed: the panel needs all of it
    await ensureExamples(test, allIndices(test.size));
    if (test.classes < 2) throw new Error('predictions are shown for classification data sets only');
    model = await buildModel(spec);
    computer = new ShardComputer(model, test.inputShape, test);
    return { testSize: test.size, classes: test.classes };
  },

  setWeights(weights) {
    computer?.setWeights(weights);
  },

  panel(count) {
    const { test } = ready();
    const n = Math.min(count, test.size);
    // evenly spread over the test split, the same digits after every epoch
    const indices = Array.from({ length: n }, (_, i) => Math.floor((i * test.size) / n));
    const { x } = gather(test, indices);
    const p = probabilities(x, n);
    const predicted = indices.map((_, k) => argmax(p, k, test.classes));
    const images = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i++) images[i] = Math.round(Math.min(1, Math.max(0, x[i])) * 255);
    return {
      indices,
      images,
      labels: indices.map((ix) => test.y[ix]),
      predicted,
      confidence: predicted.map((c, k) => p[k * test.classes + c]),
    };
  },

  classify(pixels) {
    const { test } = ready();
    if (pixels.length !== test.features) throw new Error(`a drawing has ${test.features} pixels, not ${pixels.length}`);
    return [...probabilities(pixels, 1)];
  },

  confusion() {
    const { test } = ready();
    const k = test.classes;
    const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let from = 0; from < test.size; from += 256) {
      const n = Math.min(256, test.size - from);
      const p = probabilities(
        gather(
          test,
          Array.from({ length: n }, (_, r) => from + r),
        ).x,
        n,
      );
      for (let r = 0; r < n; r++) m[test.y[from + r]][argmax(p, r, k)]++;
    }
    return m;
  },
};

Comlink.expose(api);
