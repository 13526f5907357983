/**
 * Seeded weight initialisation on the flat layout, the same in every process: Glorot-uniform for
 * kernels (rank >= 2, last two dims are fan-in/fan-out as tfjs lays out dense and conv kernels),
 * zeros for biases (rank 1). The coordinator owns the weights, so initialisation lives here, not in
 * tfjs.
 */
import type { ParamLayout } from './layout.js';
import { rngFor, STREAM } from './prng.js';

export function initWeights(layout: ParamLayout, seed: number): Float32Array {
  const flat = new Float32Array(layout.size);
  const rng = rngFor(seed, STREAM.init);
  for (const e of layout.entries) {
    if (e.shape.length < 2) continue;
    const receptive = e.shape.slice(0, -2).reduce((a, b) => a * b, 1);
    const fanIn = e.shape[e.shape.length - 2] * receptive;
    const fanOut = e.shape[e.shape.length - 1] * receptive;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < e.size; i++) flat[e.offset + i] = (rng.next() * 2 - 1) * limit;
  }
  return flat;
}
