/**
 * The parameter layout of a zoo model, computed from its spec alone (no tfjs): the coordinator knows
 * the flat buffer's shape before any worker has joined, so it can tell the first peer what to build.
 * Names and shapes follow what tfjs builds for the same spec (the worker checks they agree).
 */
import type { ModelSpec, TensorShape } from './specs.js';

export function specLayout(spec: ModelSpec): TensorShape[] | null {
  if (spec.kind === 'mlp') {
    const out: TensorShape[] = [];
    let fanIn = spec.inputShape.reduce((a, b) => a * b, 1);
    spec.hidden.forEach((units, i) => {
      out.push({ name: `dense_${i}/kernel`, shape: [fanIn, units] }, { name: `dense_${i}/bias`, shape: [units] });
      fanIn = units;
    });
    out.push({ name: 'logits/kernel', shape: [fanIn, spec.classes] }, { name: 'logits/bias', shape: [spec.classes] });
    return out;
  }
  if (spec.kind === 'cnn') {
    const out: TensorShape[] = [];
    let [h, w, c] = spec.inputShape;
    spec.filters.forEach((f, i) => {
      out.push({ name: `conv_${i}/kernel`, shape: [3, 3, c, f] }, { name: `conv_${i}/bias`, shape: [f] });
      // 3x3 'valid' convolution, then 2x2 max-pooling
      h = Math.floor((h - 2) / 2);
      w = Math.floor((w - 2) / 2);
      c = f;
    });
    out.push({ name: 'dense/kernel', shape: [h * w * c, spec.dense] }, { name: 'dense/bias', shape: [spec.dense] });
    out.push(
      { name: 'logits/kernel', shape: [spec.dense, spec.classes] },
      { name: 'logits/bias', shape: [spec.classes] },
    );
    return out;
  }
  return null; // a tfjs layers topology: the first worker to build it reports its layout
}

/**
 * Memory one example costs in a gradient step, estimated from a zoo spec alone: inputs and
 * activations, their gradients and room for temporaries (float32). Feeds the batch-size advice.
 */
export function estimateBytesPerExample(spec: ModelSpec): number {
  if (spec.kind === 'mlp') {
    const input = spec.inputShape.reduce((a, b) => a * b, 1);
    return (input + spec.hidden.reduce((a, b) => a + b, 0) + spec.classes) * 4 * 3;
  }
  if (spec.kind === 'cnn') {
    let [h, w] = spec.inputShape;
    let floats = h * w * spec.inputShape[2];
    for (const f of spec.filters) {
      h -= 2;
      w -= 2;
      floats += h * w * f;
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
      floats += h * w * f;
    }
    return (floats + spec.dense + spec.classes) * 4 * 3;
  }
  return 784 * 4 * 3 * 4; // a layers topology: a generous guess for 28x28 inputs
}
