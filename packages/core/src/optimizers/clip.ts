/** Global-norm gradient clipping. The optimizers apply the scale inside their update loop, so the
 * caller's gradient buffer is never copied or modified. */

/** Euclidean norm of the whole buffer, summed in doubles. */
export function globalNorm(grads: Float32Array): number {
  let s = 0;
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i];
    s += g * g;
  }
  return Math.sqrt(s);
}

/**
 * Multiplier that brings the gradient's global norm down to clipNorm: clipNorm/||g|| when ||g|| > clipNorm,
 * else 1 (also 1 when clipNorm is Infinity, without reading the buffer).
 */
export function clipScale(grads: Float32Array, clipNorm: number): number {
  if (clipNorm === Number.POSITIVE_INFINITY) return 1;
  const norm = globalNorm(grads);
  return norm > clipNorm ? clipNorm / norm : 1;
}

/** A clipped copy of grads (for callers that want the clipped gradient itself; optimizers don't copy). */
export function clipByGlobalNorm(grads: Float32Array, clipNorm: number): Float32Array {
  const scale = clipScale(grads, clipNorm);
  const out = new Float32Array(grads.length);
  for (let i = 0; i < grads.length; i++) out[i] = grads[i] * scale;
  return out;
}
