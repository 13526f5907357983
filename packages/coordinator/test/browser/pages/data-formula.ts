/** Data that the browser data test and its page both make from the same formula (no transfer needed). */
export const DATA_F = 5;

/** n examples of DATA_F features and 2 regression targets each. */
export function regressionArrays(n: number, offset = 0): { x: Float32Array; y: Float32Array } {
  const x = Float32Array.from({ length: n * DATA_F }, (_, i) => Math.sin((i + offset) * 0.731) * 1.5);
  const y = Float32Array.from(
    { length: n * 2 },
    (_, i) => x[(i >> 1) * DATA_F] * 2 - x[(i >> 1) * DATA_F + 3] + (i & 1),
  );
  return { x, y };
}
