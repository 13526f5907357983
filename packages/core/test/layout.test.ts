import { describe, expect, it } from 'vitest';
import { adviseBatchSize } from '../src/batch-size.js';
import { GradroomError } from '../src/errors.js';
import { initWeights } from '../src/init.js';
import { ParamLayout } from '../src/layout.js';

const shapes = [
  { name: 'dense/kernel', shape: [3, 4] },
  { name: 'dense/bias', shape: [4] },
  { name: 'out/kernel', shape: [4, 2] },
];

describe('ParamLayout', () => {
  it('lays tensors end to end with views that alias the flat buffer', () => {
    const l = new ParamLayout(shapes);
    expect(l.size).toBe(12 + 4 + 8);
    expect(l.entries.map((e) => e.offset)).toEqual([0, 12, 16]);
    const flat = new Float32Array(l.size);
    l.view(flat, 'dense/bias')[2] = 5;
    expect(flat[14]).toBe(5);
    const f = l.flatten({
      'dense/kernel': new Array(12).fill(1),
      'dense/bias': [1, 2, 3, 4],
      'out/kernel': new Array(8).fill(2),
    });
    expect(Array.from(l.views(f)[1])).toEqual([1, 2, 3, 4]);
    expect(l.equals(new ParamLayout(l.shapes()))).toBe(true);
  });
  it('rejects bad shapes, duplicates and wrong lengths', () => {
    expect(() => new ParamLayout([{ name: 'a', shape: [0] }])).toThrow(GradroomError);
    expect(() => new ParamLayout([shapes[0], shapes[0]])).toThrow(/twice/);
    const l = new ParamLayout(shapes);
    expect(() => l.view(new Float32Array(3), 'dense/bias')).toThrow(/expected 24/);
    expect(() => l.flatten({ 'dense/kernel': [1] })).toThrow(/expected 12/);
    expect(() => l.entry('nope')).toThrow(/nope/);
  });
});

describe('initWeights', () => {
  it('is Glorot-uniform for kernels, zero for biases, reproducible from the seed', () => {
    const l = new ParamLayout([
      { name: 'k', shape: [300, 100] },
      { name: 'b', shape: [100] },
    ]);
    const w = initWeights(l, 9);
    expect(initWeights(l, 9)).toEqual(w);
    expect(initWeights(l, 10)).not.toEqual(w);
    const k = l.view(w, 'k');
    const limit = Math.sqrt(6 / 400);
    expect(Math.max(...k)).toBeLessThanOrEqual(limit);
    expect(Math.min(...k)).toBeGreaterThanOrEqual(-limit);
    const variance = k.reduce((a, x) => a + x * x, 0) / k.length;
    expect(variance).toBeCloseTo((limit * limit) / 3, 3);
    expect(l.view(w, 'b').every((x) => x === 0)).toBe(true);
  });
});

describe('adviseBatchSize (the lecture rule)', () => {
  it('uses batch GD for a small set', () => {
    const a = adviseBatchSize({ examples: 1500, bytesPerExample: 4000 });
    expect(a).toMatchObject({ size: 1500, mode: 'batch' });
    expect(a.reason).toMatch(/batch gradient descent/);
  });
  it('picks the largest power of two that fits the memory budget', () => {
    expect(adviseBatchSize({ examples: 60000, bytesPerExample: 4000 }).size).toBe(512);
    const a = adviseBatchSize({ examples: 60000, bytesPerExample: 1e6, memoryBudgetBytes: 200e6 });
    expect(a.size).toBe(128);
    expect(a.mode).toBe('mini-batch');
    expect(a.reason).toMatch(/power of two/);
    expect(adviseBatchSize({ examples: 8000, bytesPerExample: 100, maxSize: 2048 }).size).toBe(2048);
  });
  it('rejects nonsense', () => {
    expect(() => adviseBatchSize({ examples: 0, bytesPerExample: 1 })).toThrow(GradroomError);
    expect(() => adviseBatchSize({ examples: 10, bytesPerExample: -1 })).toThrow(/positive/);
  });
});
