/**
 * Parameter layout: the model's named tensors laid end to end in one flat Float32Array. Every part
 * of gradroom (optimizers, wire, aggregation, checkpoints) speaks flat buffers; only the worker maps
 * them back onto tfjs variables.
 */
import { GradroomError } from './errors.js';
import type { TensorShape } from './specs.js';

export interface LayoutEntry extends TensorShape {
  offset: number;
  size: number;
}

export class ParamLayout {
  readonly entries: readonly LayoutEntry[];
  readonly size: number;
  private readonly byName: Map<string, LayoutEntry>;

  constructor(shapes: readonly TensorShape[]) {
    let offset = 0;
    const entries: LayoutEntry[] = [];
    this.byName = new Map();
    for (const { name, shape } of shapes) {
      if (this.byName.has(name)) throw new GradroomError('BAD_CONFIG', `layout: tensor name "${name}" appears twice`);
      if (!shape.every((d) => Number.isInteger(d) && d > 0)) {
        throw new GradroomError(
          'BAD_CONFIG',
          `layout: tensor "${name}" has shape [${shape}], dimensions must be positive integers`,
        );
      }
      const size = shape.reduce((a, b) => a * b, 1);
      const entry = { name, shape: [...shape], offset, size };
      entries.push(entry);
      this.byName.set(name, entry);
      offset += size;
    }
    this.entries = entries;
    this.size = offset;
  }

  /** The shapes, as they travel in a task spec. */
  shapes(): TensorShape[] {
    return this.entries.map(({ name, shape }) => ({ name, shape: [...shape] }));
  }

  entry(name: string): LayoutEntry {
    const e = this.byName.get(name);
    if (!e) throw new GradroomError('BAD_CONFIG', `layout: no tensor named "${name}"`);
    return e;
  }

  /** A view (no copy) of one tensor's values inside the flat buffer. */
  view(flat: Float32Array, name: string): Float32Array {
    this.check(flat);
    const e = this.entry(name);
    return flat.subarray(e.offset, e.offset + e.size);
  }

  /** Views of every tensor, in layout order. */
  views(flat: Float32Array): Float32Array[] {
    this.check(flat);
    return this.entries.map((e) => flat.subarray(e.offset, e.offset + e.size));
  }

  /** Lays separate tensors end to end, in layout order. */
  flatten(tensors: Record<string, ArrayLike<number>>): Float32Array {
    const flat = new Float32Array(this.size);
    for (const e of this.entries) {
      const t = tensors[e.name];
      if (!t) throw new GradroomError('BAD_CONFIG', `layout: missing tensor "${e.name}"`);
      if (t.length !== e.size) {
        throw new GradroomError('BAD_LENGTH', `layout: tensor "${e.name}" has ${t.length} values, expected ${e.size}`);
      }
      flat.set(t, e.offset);
    }
    return flat;
  }

  check(flat: Float32Array): void {
    if (flat.length !== this.size) {
      throw new GradroomError('BAD_LENGTH', `layout: buffer has ${flat.length} values, expected ${this.size}`);
    }
  }

  /** True when both layouts have the same names and shapes in the same order. */
  equals(other: ParamLayout): boolean {
    return (
      this.entries.length === other.entries.length &&
      this.entries.every((e, i) => {
        const o = other.entries[i];
        return e.name === o.name && e.shape.length === o.shape.length && e.shape.every((d, j) => d === o.shape[j]);
      })
    );
  }
}
