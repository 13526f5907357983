/**
 * Draw to train: a student's drawings, kept in this tab only (memory; nothing is uploaded). Every
 * fifth drawing is kept aside as the student's held-out set; the prompts go through the ten digits
 * in a shuffled order each round, so the held-out ones are not always the same digits.
 */
import { MAX_SHARED_THUMBNAILS, THUMBNAIL_PIXELS } from '@gradroom/core';
import type { OwnExamples } from '@gradroom/worker';
import type { DrawingsSummary } from '@gradroom/worker/peer';

export const MIN_DRAWINGS = 10;
export const MAX_DRAWINGS = 30;
/** One drawing in this many is held out. */
export const HELD_OUT_EVERY = 5;

export interface Drawing {
  digit: number;
  /** 28x28 grey levels in [0, 1], ink high (the data set's layout). */
  pixels: Float32Array;
  heldOut: boolean;
  /** The student ticked "share": only then do its pixels leave the tab, as a thumbnail. */
  shared: boolean;
}

export class DrawingSet {
  readonly items: Drawing[] = [];
  /** The digit prompted for each drawing, in order: rounds of the ten digits, each round shuffled. */
  private readonly sequence: number[] = [];

  constructor(private readonly random: () => number = Math.random) {
    while (this.sequence.length < MAX_DRAWINGS) this.sequence.push(...this.shuffled());
  }

  private shuffled(): number[] {
    const a = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  /** The digit to draw next ("Draw a 3"), or null when the set is full. */
  prompt(): number | null {
    if (this.items.length >= MAX_DRAWINGS) return null;
    return this.sequence[this.items.length];
  }

  /** Keeps a drawing of the prompted digit. */
  add(pixels: Float32Array): Drawing | null {
    const digit = this.prompt();
    if (digit === null || pixels.length !== THUMBNAIL_PIXELS) return null;
    const d: Drawing = { digit, pixels, heldOut: (this.items.length + 1) % HELD_OUT_EVERY === 0, shared: false };
    this.items.push(d);
    return d;
  }

  /** Removes the last drawing (its prompt comes back). */
  undo(): void {
    this.items.pop();
  }

  /** Drawings per digit: [training, held out]. */
  counts(): { counts: number[]; heldOut: number[] } {
    const counts = new Array<number>(10).fill(0);
    const heldOut = new Array<number>(10).fill(0);
    for (const d of this.items) (d.heldOut ? heldOut : counts)[d.digit]++;
    return { counts, heldOut };
  }

  /** The drawings for this tab's Web Worker (they stay in the tab). */
  own(): OwnExamples {
    const pack = (ds: Drawing[]) => {
      const x = new Float32Array(ds.length * THUMBNAIL_PIXELS);
      ds.forEach((d, i) => x.set(d.pixels, i * THUMBNAIL_PIXELS));
      return { x, y: Int32Array.from(ds, (d) => d.digit) };
    };
    const train = pack(this.items.filter((d) => !d.heldOut));
    const held = pack(this.items.filter((d) => d.heldOut));
    return { x: train.x, y: train.y, heldX: held.x, heldY: held.y };
  }

  /** What the coordinator is told: counts, and thumbnails of the shared drawings only. */
  summary(named: boolean): DrawingsSummary {
    const shared = this.items.filter((d) => d.shared).slice(0, MAX_SHARED_THUMBNAILS);
    if (shared.length === 0) return this.counts();
    const bytes = new Uint8Array(shared.length * THUMBNAIL_PIXELS);
    shared.forEach((d, k) => {
      for (let i = 0; i < THUMBNAIL_PIXELS; i++) bytes[k * THUMBNAIL_PIXELS + i] = Math.round(d.pixels[i] * 255);
    });
    return { ...this.counts(), shared: bytes, sharedDigits: shared.map((d) => d.digit), named };
  }
}
