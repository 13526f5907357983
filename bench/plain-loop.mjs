// The plain tfjs loop the engine benchmark compares against: what a developer would write without
// gradroom (variableGrads + tf.train.adam, one process, wasm). Used in the main thread and, for the
// machine-ceiling measure, in worker threads (plain-loop-thread.mjs).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel, gather } from '../packages/worker/dist/index.js';

export const MODEL = { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 };
export const ADAM = { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Builds the loop on `train`; step(b) trains on the b-th window of `batch` examples. */
export async function plainLoop(train, batch) {
  await tf.setBackend('wasm');
  const m = await buildModel(MODEL);
  const vars = m.trainableWeights.map((w) => w.read());
  const opt = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  const idx = Uint32Array.from({ length: train.size }, (_, i) => i);
  return {
    step(b) {
      const at = (b * batch) % (train.size - batch);
      const ex = gather(train, idx.subarray(at, at + batch));
      tf.tidy(() => {
        const x = tf.tensor(ex.x, [batch, 28, 28, 1]);
        const y = tf.oneHot(tf.tensor1d(ex.y, 'int32'), 10);
        const { grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true })),
          vars,
        );
        opt.applyGradients(grads);
      });
    },
    /** Waits for the backend to finish what was queued. */
    sync: () => vars[0].data(),
    dispose() {
      m.dispose();
      opt.dispose();
    },
  };
}
