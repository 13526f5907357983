// Train a regression on your own CSV with gradroom in Node (two worker threads), export the model,
// load it back with plain TensorFlow.js and predict.
//
//   node train.mjs [file.csv] [model-dir]
//
// The CSV has a header row and numbers only; the last column is the target, the others features.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnThreadWorker, Trainer } from '@gradroom/coordinator';
import { arraysDataset } from '@gradroom/worker/data';
import * as tf from '@tensorflow/tfjs';

const csvPath = process.argv[2] ?? join(import.meta.dirname, 'houses.csv');
const modelDir = process.argv[3] ?? join(import.meta.dirname, 'model');

const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
const names = header.split(',');
const rows = lines.map((l, i) => {
  const v = l.split(',').map(Number);
  if (v.length !== names.length || v.some((n) => !Number.isFinite(n)))
    throw new Error(`${csvPath}:${i + 2}: expected ${names.length} numbers, got "${l}"`);
  return v;
});
const f = names.length - 1; // features per row

// hold out the last fifth as the test set; standardise with the training rows' mean and deviation
const cut = Math.floor(rows.length * 0.8);
const stats = names.map((_, j) => {
  const col = rows.slice(0, cut).map((r) => r[j]);
  const mean = col.reduce((a, b) => a + b, 0) / col.length;
  const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length) || 1;
  return { mean, sd };
});
const split = (part) => ({
  x: Float32Array.from(part.flatMap((r) => r.slice(0, f).map((v, j) => (v - stats[j].mean) / stats[j].sd))),
  y: Float32Array.from(part.map((r) => (r[f] - stats[f].mean) / stats[f].sd)),
});
const train = split(rows.slice(0, cut));
const test = split(rows.slice(cut));

const trainer = new Trainer({
  model: { kind: 'mlp', inputShape: [f], hidden: [32], classes: 1, loss: 'mean-squared-error' },
  dataset: arraysDataset({ name: 'csv', inputShape: [f], targets: 1, train, test }),
  optimizer: { kind: 'adam', lr: 0.01 },
  schedule: { kind: 'inverse-time', lr0: 0.01, decayRate: 0.05 },
  batchSize: 32,
  epochs: 20,
  seed: 1,
});
trainer.addWorker(spawnThreadWorker());
trainer.addWorker(spawnThreadWorker());
trainer.on('epoch', (e) => {
  if ((e.epoch + 1) % 5 === 0) console.log(`epoch ${e.epoch + 1}: test MSE ${e.testLoss.toFixed(4)} (standardised)`);
});
const result = await trainer.run();
await trainer.exportModel(modelDir); // model.json + weights.bin, a tfjs layers model
await trainer.close();

// plain tfjs from here on: load the files the trainer wrote and predict the held-out rows
const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
const bin = readFileSync(join(modelDir, 'weights.bin'));
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }),
);
const out = model.predict(tf.tensor2d(test.x, [test.y.length, f]));
const predicted = Array.from(await out.data(), (p) => p * stats[f].sd + stats[f].mean); // back to the CSV's units
out.dispose();
const actual = rows.slice(cut).map((r) => r[f]);
const err = predicted.map((p, i) => p - actual[i]);
const mae = err.reduce((a, e) => a + Math.abs(e), 0) / err.length;
const mse = err.reduce((a, e) => a + (e / stats[f].sd) ** 2, 0) / err.length;
for (let i = 0; i < 3; i++)
  console.log(`row ${cut + i + 1}: ${names[f]} ${actual[i]}, predicted ${predicted[i].toFixed(1)}`);
console.log(
  `test MAE ${mae.toFixed(2)} ${names[f]}; MSE of the loaded model ${mse.toPrecision(6)}, trainer's ${result.testLoss.toPrecision(6)} (standardised)`,
);
