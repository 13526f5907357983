// The student's drawings (draw to train): guided prompts, one in five held out, undo, and what the
// room is told: counts only, plus the pixels of exactly the drawings ticked "share".
import { THUMBNAIL_PIXELS, validateMessage } from '@gradroom/core';
import { describe, expect, it } from 'vitest';
import { DrawingSet, MAX_DRAWINGS } from '../src/volunteer/drawing-set.js';

/** A drawing whose pixels say which it is: value k/100 everywhere but one inked pixel. */
const drawing = (k: number) => {
  const p = new Float32Array(THUMBNAIL_PIXELS);
  p[k % THUMBNAIL_PIXELS] = 1;
  p[(k * 7 + 3) % THUMBNAIL_PIXELS] = 0.5;
  return p;
};

describe('DrawingSet', () => {
  it('prompts each digit once per round of ten, in a shuffled order, and holds out every fifth', () => {
    let seed = 1;
    const set = new DrawingSet(() => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    });
    const prompted: number[] = [];
    for (let k = 0; k < MAX_DRAWINGS; k++) {
      prompted.push(set.prompt() as number);
      expect(set.add(drawing(k))).not.toBeNull();
    }
    for (let r = 0; r < 3; r++)
      expect([...prompted.slice(r * 10, r * 10 + 10)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(prompted.slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(set.items.map((d, i) => d.heldOut === ((i + 1) % 5 === 0)).every(Boolean)).toBe(true);
    // full: no more prompts, nothing more kept
    expect(set.prompt()).toBeNull();
    expect(set.add(drawing(99))).toBeNull();
    const { counts, heldOut } = set.counts();
    expect(counts.reduce((a, b) => a + b, 0)).toBe(24);
    expect(heldOut.reduce((a, b) => a + b, 0)).toBe(6);
    expect(counts.map((n, d) => n + heldOut[d])).toEqual(new Array(10).fill(3));
  });

  it('undo takes the last drawing back and prompts its digit again', () => {
    const set = new DrawingSet();
    set.add(drawing(1));
    const second = set.prompt();
    set.add(drawing(2));
    set.undo();
    expect(set.items).toHaveLength(1);
    expect(set.prompt()).toBe(second);
    expect(set.add(new Float32Array(10))).toBeNull(); // not a 28x28 drawing
  });

  it('gives its Web Worker every drawing, and the room counts plus only the shared ones', () => {
    const set = new DrawingSet();
    for (let k = 0; k < 10; k++) set.add(drawing(k));
    const own = set.own();
    expect(own.y).toHaveLength(8);
    expect(own.heldY).toHaveLength(2);
    expect(own.x.subarray(0, THUMBNAIL_PIXELS)).toEqual(set.items[0].pixels);
    expect(own.heldX.subarray(0, THUMBNAIL_PIXELS)).toEqual(set.items[4].pixels);
    // nothing shared: counts only
    const quiet = set.summary(true);
    expect(Object.keys(quiet).sort()).toEqual(['counts', 'heldOut']);
    // two ticked: exactly their pixels, as 0-255, with their digits
    set.items[2].shared = true;
    set.items[4].shared = true;
    const s = set.summary(false);
    expect(s.sharedDigits).toEqual([set.items[2].digit, set.items[4].digit]);
    expect(s.named).toBe(false);
    const bytes = s.shared as Uint8Array;
    expect(bytes).toHaveLength(2 * THUMBNAIL_PIXELS);
    [2, 4].forEach((i, k) =>
      expect(Array.from(bytes.subarray(k * THUMBNAIL_PIXELS, (k + 1) * THUMBNAIL_PIXELS))).toEqual(
        Array.from(set.items[i].pixels, (v) => Math.round(v * 255)),
      ),
    );
    // and what the room is told passes the wire's checks
    expect(validateMessage({ v: 3, type: 'drawings', ...s })).toBeTruthy();
    expect(validateMessage({ v: 3, type: 'drawings', ...quiet })).toBeTruthy();
  });
});
