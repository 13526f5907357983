/**
 * A volunteer tab's compute engine: the ShardWorker in a module Web Worker (the demo's worker.js),
 * spoken to with comlink, so the page's main thread only moves messages. Weights are transferred.
 */
import { rejectWhenClosed } from '@gradroom/core';
import * as Comlink from 'comlink';
import type { OwnExamples } from '../own-data.js';
import { openWebWorker, type WorkerSource } from '../web-worker-client.js';
import type { ComputeEngine } from './volunteer.js';

export interface WebWorkerEngine extends ComputeEngine {
  /** Class probabilities of one example with the weights the engine holds now (the draw pad). */
  classify(features: Float32Array): Promise<number[]>;
  /** Draw to train: hands the student's drawings to the Web Worker (they stay in this tab). */
  setOwnExamples(own: OwnExamples | null): Promise<void>;
  /** Settles with a reason if the Web Worker fails (e.g. its script does not load). */
  readonly failed: Promise<string>;
  terminate(): void;
}

/** Starts the Web Worker (see WorkerSource) and wraps it as a ComputeEngine. */
export function webWorkerEngine(source: WorkerSource): WebWorkerEngine {
  const { api, failed, end } = openWebWorker(source);
  // not Promise.race against `failed`: that kept every result reachable for the worker's life
  const guard = rejectWhenClosed(failed, (r) => new Error(r));
  return {
    failed,
    init: (init) => guard(api.init(init)),
    setWeights: (version, w) => guard(api.setWeights(version, Comlink.transfer(w, [w.buffer]))),
    compute: (req) => guard(api.compute(req)),
    evaluate: (req) => guard(api.evaluate(req)),
    classify: (features) => guard(api.classify(features)),
    trainLocal: (req) => guard(api.trainLocal(req)),
    prefetch: (examples) => guard(api.prefetch(examples)),
    catchUp: (req) => guard(api.catchUp(req)),
    setOwnExamples: (own) => guard(api.setOwnExamples(own)),
    classEval: (req) => guard(api.classEval(Comlink.transfer(req, [req.weights.buffer]))),
    terminate: () => end('terminated'),
  };
}
