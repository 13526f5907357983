/**
 * The parameter layout of a zoo model, computed from its spec alone (no tfjs): the coordinator knows
 * the flat buffer's shape before any worker has joined, so it can tell the first peer what to build.
 * The architectures themselves are defined once, in zoo.ts, which the worker builds from too.
 */
import type { ModelSpec, TensorShape } from './specs.js';
import { zooBytesPerExample, zooLayout } from './zoo.js';

export function specLayout(spec: ModelSpec): TensorShape[] | null {
  return zooLayout(spec);
}

/**
 * Memory one example costs in a gradient step, estimated from a zoo spec alone: inputs and
 * activations, their gradients and room for temporaries (float32). Feeds the batch-size advice.
 */
export function estimateBytesPerExample(spec: ModelSpec): number {
  if (spec.kind === 'layers') return 784 * 4 * 3 * 4; // a layers topology: a generous guess for 28x28 inputs
  return zooBytesPerExample(spec);
}
