/**
 * Serializable descriptions of what to train. They travel to untrusted peers, so they are plain
 * data (never code) and every field is validated on arrival (see protocol/validate.ts).
 */

/** A model from the built-in zoo, or a tfjs layers topology (model.toJSON()). */
export type ModelSpec =
  | { kind: 'mlp'; inputShape: number[]; hidden: number[]; classes: number; activation?: 'relu' | 'tanh' | 'sigmoid' }
  | { kind: 'cnn'; inputShape: [number, number, number]; filters: number[]; dense: number; classes: number }
  | { kind: 'layers'; topology: Record<string, unknown>; classes: number };

/** A data set the worker can load by itself; the coordinator then sends indices only. */
export type DatasetSpec =
  | { kind: 'mnist'; split: 'train' | 'test' }
  | { kind: 'synthetic'; seed: number; examples: number; features: number; classes: number; split: 'train' | 'test' };

/** One named tensor of the model, in the order of the flat parameter buffer. */
export interface TensorShape {
  name: string;
  shape: number[];
}
