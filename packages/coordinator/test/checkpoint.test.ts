/**
 * Checkpoints and job checks (issue 10): non-finite values are refused when loaded, a failed save
 * leaves no temporary file, an unwritable path is found before the run, and a model too large for
 * the protocol or for memory is refused before anything is built.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOptimizer, isGradroomError, specLayout } from '@gradroom/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT,
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  startingCheckpoint,
} from '../src/checkpoint.js';
import { FileCheckpointStore } from '../src/checkpoint-file.js';
import { checkJobSize, estimateJobSize, type JobConfig, MAX_PARAMS, validateJob } from '../src/job.js';

const dir = mkdtempSync(join(tmpdir(), 'gradroom-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job: JobConfig = {
  model: { kind: 'mlp', inputShape: [4], hidden: [3], classes: 2 },
  dataset: { kind: 'synthetic', seed: 1, examples: 50, features: 4, classes: 2, split: 'train' },
  optimizer: { kind: 'adam', lr: 0.01 },
  batchSize: 10,
  epochs: 2,
  seed: 1,
};
const layout = specLayout(job.model) ?? [];
const n = 4 * 3 + 3 + 3 * 2 + 2;

/** A real checkpoint: an Adam optimizer after two steps on these weights. */
function checkpoint(): Checkpoint {
  const weights = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const opt = createOptimizer(job.optimizer);
  const grads = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
  opt.step(weights, grads);
  opt.step(weights, grads);
  return {
    format: CHECKPOINT_FORMAT,
    job,
    layout,
    weights,
    optimizer: opt.state(),
    position: { epoch: 0, batch: 2, iteration: 2 },
    manual: [],
    lossEwa: { beta: 0.9, t: 2, value: 0.5 },
    savedAt: new Date(0).toISOString(),
  };
}

function refusal(c: Checkpoint): string {
  try {
    decodeCheckpoint(encodeCheckpoint(c));
  } catch (e) {
    expect(isGradroomError(e, 'NON_FINITE')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('the checkpoint was accepted');
}

describe('decodeCheckpoint', () => {
  it('round-trips a finite checkpoint exactly', () => {
    const c = checkpoint();
    const back = decodeCheckpoint(encodeCheckpoint(c));
    expect(Array.from(back.weights)).toEqual(Array.from(c.weights));
    expect(Object.keys(back.optimizer.slots).sort()).toEqual(Object.keys(c.optimizer.slots).sort());
    for (const k of Object.keys(c.optimizer.slots))
      expect(Array.from(back.optimizer.slots[k])).toEqual(Array.from(c.optimizer.slots[k]));
  });

  it('refuses NaN or Inf in the weights, naming the index', () => {
    const c = checkpoint();
    c.weights[7] = Number.NaN;
    expect(refusal(c)).toMatch(/non-finite weight \(NaN at index 7\).*lower learning rate/);
    const d = checkpoint();
    d.weights[0] = Number.POSITIVE_INFINITY;
    expect(refusal(d)).toMatch(/non-finite weight \(Infinity at index 0\)/);
  });

  it("refuses NaN or Inf in the optimizer's state and the loss average", () => {
    const c = checkpoint();
    const slot = Object.keys(c.optimizer.slots)[1];
    c.optimizer.slots[slot][3] = Number.NEGATIVE_INFINITY;
    expect(refusal(c)).toMatch(new RegExp(`optimizer's "${slot}" state \\(-Infinity at index 3\\)`));
    const d = checkpoint();
    d.lossEwa.value = Number.NaN;
    expect(refusal(d)).toMatch(/non-finite loss average/);
  });
});

describe('startingCheckpoint (--init-model)', () => {
  it('starts at iteration 0 with the given weights and a fresh optimizer', () => {
    const w = Float32Array.from({ length: n }, (_, i) => i / 10);
    const c = decodeCheckpoint(encodeCheckpoint(startingCheckpoint(job, layout, w)));
    expect(c.position).toEqual({ epoch: 0, batch: 0, iteration: 0 });
    expect(Array.from(c.weights)).toEqual(Array.from(w));
    expect(c.optimizer.t).toBe(0);
  });

  it("refuses weights whose layout is not the job's model's", () => {
    const other = specLayout({ kind: 'mlp', inputShape: [4], hidden: [5], classes: 2 }) ?? [];
    const size = 4 * 5 + 5 + 5 * 2 + 2;
    expect(() => startingCheckpoint(job, other, new Float32Array(size))).toThrow(
      /do not fit the job's model: they hold dense_0\/kernel \[4,5\].*the model needs dense_0\/kernel \[4,3\]/,
    );
    expect(() => startingCheckpoint(job, layout, new Float32Array(n - 1))).toThrow();
  });
});

describe('FileCheckpointStore', () => {
  const tmpFiles = (d: string) => readdirSync(d).filter((f) => f.endsWith('.tmp'));

  it('a failed rename leaves no FILE.<pid>.tmp behind', async () => {
    const d = join(dir, 'rename');
    mkdirSync(join(d, 'run.ckpt'), { recursive: true }); // a directory where the file should go
    const store = new FileCheckpointStore(join(d, 'run.ckpt'));
    await expect(store.save(new Uint8Array(100))).rejects.toThrow();
    expect(tmpFiles(d)).toEqual([]);
  });

  it('checkWritable finds an unwritable path at once and leaves an existing checkpoint alone', async () => {
    const d = join(dir, 'writable');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'a-file'), 'x');
    await expect(new FileCheckpointStore(join(d, 'a-file', 'run.ckpt')).checkWritable()).rejects.toThrow(
      /cannot be written: a part of its directory, .*a-file, is a file/,
    );
    await expect(new FileCheckpointStore(d).checkWritable()).rejects.toThrow(/it is a directory/);
    const store = new FileCheckpointStore(join(d, 'run.ckpt'));
    await store.save(Uint8Array.of(1, 2, 3));
    await store.checkWritable();
    expect(Array.from((await store.load()) ?? [])).toEqual([1, 2, 3]);
    expect(tmpFiles(d)).toEqual([]);
  });
});

describe('model size (issue 10, item 14)', () => {
  it('refuses hidden [400000] before anything is built, with the parameter count', () => {
    const big: JobConfig = { ...job, model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [400000], classes: 10 } };
    const params = 784 * 400000 + 400000 + 400000 * 10 + 10;
    expect(estimateJobSize(big).params).toBe(params);
    expect(params).toBeGreaterThan(MAX_PARAMS);
    const t0 = performance.now();
    expect(() => validateJob(big)).toThrow(/the model has 318,000,010 parameters, more than the 16,777,216/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('refuses a mini-batch whose activations cannot fit in a worker', () => {
    const cnn: JobConfig = {
      ...job,
      model: { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 64, classes: 10 },
      batchSize: 100_000,
    };
    expect(() => checkJobSize(cnn)).toThrow(/a worker would need about \d+\.\d GiB for a mini-batch of 100000/);
    expect(() => checkJobSize({ ...cnn, batchSize: 256 })).not.toThrow();
  });

  it('counts the parameters of the zoo models exactly', () => {
    expect(estimateJobSize(job).params).toBe(n);
    expect(
      estimateJobSize({
        ...job,
        model: { kind: 'cnn', inputShape: [28, 28, 1], filters: [8, 16], dense: 64, classes: 10 },
      }).params,
    ).toBe(3 * 3 * 8 + 8 + 3 * 3 * 8 * 16 + 16 + 5 * 5 * 16 * 64 + 64 + 64 * 10 + 10);
  });
});
