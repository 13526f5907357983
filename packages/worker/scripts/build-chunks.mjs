#!/usr/bin/env node
// Cuts the built-in data sets into chunked form (src/data/chunked.ts) for mode local's partitions:
// dist/chunks/NAME/ holds manifest.json, train-NN.bin (1,000 training examples each, after a fixed
// shuffle: the packed files are sorted by class, and a member's partition must be a fair sample),
// test.bin, and spec.json (the data set spec that names them, served by the room server as
// /datasets/chunks/NAME/manifest.json). Rebuilt only when the source file or this script is newer.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shuffleEpoch } from '@gradroom/core';
import { chunkPacked, encodePacked, parseMnist, sha256Hex } from '../dist/data/index.js';

const dist = join(import.meta.dirname, '..', 'dist');
const CHUNK = 1000;
/** The fixed shuffle's seed: part of the chunked data sets' definition (example i of chunk c). */
const SEED = 18;

/** mnist.bin (its own format, split by parseMnist) as a packed file with uint8 pixels. */
function mnistPacked() {
  const bytes = new Uint8Array(readFileSync(join(dist, 'mnist.bin')));
  const part = (split) => {
    const d = parseMnist(bytes, split);
    return { x: Uint8Array.from(d.x, (v) => Math.round(v * 255)), y: d.y };
  };
  return encodePacked({ inputShape: [28, 28, 1], classes: 10, train: part('train'), test: part('test') });
}

const SETS = [
  { name: 'mnist', source: 'mnist.bin', packed: mnistPacked },
  {
    name: 'fashion-mnist',
    source: 'fashion-mnist.bin',
    packed: () => new Uint8Array(readFileSync(join(dist, 'fashion-mnist.bin'))),
  },
];

for (const s of SETS) {
  const out = join(dist, 'chunks', s.name);
  const spec = join(out, 'spec.json');
  const newest = Math.max(statSync(join(dist, s.source)).mtimeMs, statSync(import.meta.filename).mtimeMs);
  if (existsSync(spec) && statSync(spec).mtimeMs > newest) continue;
  const t0 = performance.now();
  const bytes = s.packed();
  const train = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const { manifest, files } = await chunkPacked(bytes, {
    name: s.name,
    chunkExamples: CHUNK,
    order: shuffleEpoch(SEED, 0, train),
  });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const [file, data] of files) writeFileSync(join(out, file), data);
  const dataset = {
    kind: 'chunked',
    url: `/datasets/chunks/${s.name}/manifest.json`,
    sha256: await sha256Hex(files.get('manifest.json')),
    split: 'train',
    train: manifest.train.examples,
    test: manifest.test.examples,
    chunkExamples: CHUNK,
  };
  writeFileSync(spec, `${JSON.stringify(dataset, null, 2)}\n`);
  console.log(
    `${s.name}: ${manifest.train.chunks.length} chunks of ${CHUNK} + a test file in ${Math.round(performance.now() - t0)} ms`,
  );
}
