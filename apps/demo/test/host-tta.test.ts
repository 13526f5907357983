// "Room vs this laptop alone" in Node: the cost model's input from the page's measured workers, the
// sentences before and after the target, the target field's values and counts in words.
import type { JobConfig, WorkerStatus } from '@gradroom/coordinator/browser';
import { predictRoomVsAlone } from '@gradroom/core';
import { datasetName } from '@gradroom/worker/catalog';
import { describe, expect, it } from 'vitest';
import { counted } from '../src/host/format.js';
import { DEFAULT_TARGET, examplesFor, parseTarget, targetText } from '../src/host/target.js';
import { evalEveryFor } from '../src/host/tta.js';
import { measuredMembers, modeOf, parametersOf, ttaInput } from '../src/host/tta-input.js';
import { aboutSeconds, seconds, ttaSentence } from '../src/host/tta-words.js';

const plain = (s: string) => s.replace(/\u00a0/g, ' ');

const JOB: JobConfig = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  optimizer: { kind: 'adam', lr: 0.005 },
  batchSize: 64,
  epochs: 3,
  seed: 1,
};

const status = (o: Partial<WorkerStatus>): WorkerStatus => ({
  id: 'w',
  kind: 'peer',
  backend: 'wasm',
  speed: 1000,
  share: 0.5,
  examples: 5000,
  status: 'ready',
  fixedMs: 20,
  ...o,
});

describe('the cost model input from measured workers', () => {
  it('keeps workers timed over a quarter second, marks this tab’s Web Workers local', () => {
    const list = [
      status({ id: 'host', kind: 'web-worker', speed: 4000, examples: 4000, fixedMs: 2 }), // 1 s of compute
      status({ id: 'ana', speed: 1000, examples: 250, fixedMs: 30 }), // 250 ms: just timed
      status({ id: 'ben', speed: 1000, examples: 249, fixedMs: 30 }), // under: still measuring
      status({ id: 'cleo', fixedMs: undefined }), // no fixed cost yet
      status({ id: 'dev', status: 'gone' }),
    ];
    expect(measuredMembers(list)).toEqual([
      { fixedMs: 2, msPerExample: 0.25, local: true },
      { fixedMs: 30, msPerExample: 1, local: false },
    ]);
  });

  it('the job: parameters from the model spec, the mode as the cost model takes it', () => {
    expect(parametersOf(JOB)).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect(modeOf(JOB)).toEqual({ kind: 'exact' });
    expect(modeOf({ ...JOB, mode: { kind: 'local', steps: 8 } })).toEqual({ kind: 'local', steps: 8 });
    expect(modeOf({ ...JOB, mode: { kind: 'local', steps: 'auto' } })).toEqual({ kind: 'auto' });
    expect(modeOf({ ...JOB, mode: { kind: 'auto' } })).toEqual({ kind: 'auto' });
  });

  it('null while nothing is measured or no curve reaches the target', () => {
    expect(ttaInput(JOB, [status({ examples: 1 })], 12_000)).toBeNull();
    expect(ttaInput(JOB, [status({})], null)).toBeNull();
    const input = ttaInput(JOB, [status({ kind: 'web-worker', fixedMs: 4 }), status({})], 12_800);
    expect(input?.members).toHaveLength(2);
    expect(input?.batchSize).toBe(64);
    expect(input?.compress).toBeUndefined(); // exact mode sends no updates
    // mode local prices the students' links at the encoding they use: the job's, or int8 by default
    const local = (compress?: 'none' | 'fp16') => ({
      ...JOB,
      mode: { kind: 'local' as const, steps: 8, ...(compress ? { compress } : {}) },
    });
    expect(ttaInput(local(), [status({})], 12_800)?.compress).toBe('int8');
    expect(ttaInput(local('none'), [status({})], 12_800)?.compress).toBe('none');
    // the run's epoch, once an iteration said it, caps mode local's rounds in the prediction
    expect(ttaInput(local(), [status({})], 12_800, 125)?.epochBatches).toBe(125);
    expect(ttaInput(local(), [status({})], 12_800)?.epochBatches).toBeUndefined();
    expect(ttaInput(local(), [status({})], 12_800, 0)?.epochBatches).toBeUndefined();
    // the warm start goes to the model, which prices it at this laptop's pace
    expect(ttaInput(local(), [status({})], 12_800)?.warmup).toBeUndefined();
    const warm = { ...JOB, mode: { kind: 'local' as const, steps: 8, warmup: 160 } };
    expect(ttaInput(warm, [status({})], 12_800)?.warmup).toBe(160);
    expect(ttaInput({ ...warm, mode: { kind: 'exact' } }, [status({})], 12_800)?.warmup).toBeUndefined();
  });
});

describe('the target', () => {
  it('follows the data set by default, is typed in percent and refused outside 50..99.9', () => {
    expect(DEFAULT_TARGET).toEqual({ mnist: 0.92, 'fashion-mnist-small': 0.85 });
    expect(parseTarget('92')).toBeCloseTo(0.92, 12);
    expect(parseTarget('85.5')).toBeCloseTo(0.855, 12);
    for (const bad of ['', 'abc', '49', '100', '-3']) expect(() => parseTarget(bad)).toThrow(/Target accuracy/);
    expect(plain(targetText(0.92))).toBe('92 %');
    expect(plain(targetText(0.855))).toBe('85.5 %');
  });

  it('examples to the target from the measured curves (interpolated on the running best)', () => {
    // MNIST: best 91.92 % (since 10,236) still at the evaluation of 11,516 examples, 92.42 % at 12,796
    expect(examplesFor('mnist', 0.92)).toBeCloseTo(11_516 + ((0.92 - 0.9192) / (0.9242 - 0.9192)) * 1280, 6);
    // Fashion (12,000): best 84.6 % (since 12,768) at the evaluation of 21,728, 85.57 % at 23,008
    expect(examplesFor('fashion-mnist-small', 0.85)).toBeCloseTo(
      21_728 + ((0.85 - 0.846) / (0.8557 - 0.846)) * 1280,
      6,
    );
    expect(examplesFor('mnist', 0.99)).toBeNull(); // never measured that high
    expect(examplesFor('synthetic', 0.9)).toBeNull();
    // a chunked form is its data set in another order: the page names it by the folder it is served from
    const chunked = {
      kind: 'chunked',
      url: '/data/chunks/mnist/manifest.json',
      sha256: '',
      split: 'train',
      train: 7996,
      test: 2004,
      chunkExamples: 1000,
    } as const;
    expect(datasetName(chunked)).toBe('mnist');
    expect(examplesFor(datasetName(chunked), 0.92)).toBe(examplesFor('mnist', 0.92));
    expect(datasetName({ kind: 'fashion-mnist-small', split: 'train' })).toBe('fashion-mnist-small');
  });

  it('scores the test split every ~1,280 examples', () => {
    expect(evalEveryFor(64)).toBe(20);
    expect(evalEveryFor(128)).toBe(10);
    expect(evalEveryFor(4096)).toBe(1);
  });
});

describe('the sentence', () => {
  const prediction = predictRoomVsAlone({
    members: [
      { fixedMs: 4, msPerExample: 1, local: true },
      { fixedMs: 20, msPerExample: 1 },
    ],
    parameters: 101_770,
    batchSize: 64,
    examplesExact: 12_800,
  });
  const base = { target: 0.92, examplesExact: 12_800, prediction, hasLocal: true };

  it('before: the room and this laptop, predicted (8.8 s and 13.6 s by hand)', () => {
    expect(plain(ttaSentence(base))).toBe(
      'This room should reach 92 % in about 8.8 s; this laptop alone would take about 14 s.',
    );
    expect(plain(aboutSeconds(13.6))).toBe('about 14 s');
    expect(plain(seconds(125))).toBe('2 min 5 s');
  });

  it('after: what was measured, the prediction beside it, "alone" named a prediction', () => {
    expect(plain(ttaSentence({ ...base, reached: { seconds: 9.94, accuracy: 0.9231, iteration: 1200 } }))).toBe(
      'Reached 92 % in 9.9 s (predicted 8.8 s): 92.3 % at iteration 1,200. This laptop alone would take about 14 s: a prediction from its measured speed, not a measurement.',
    );
    // the projector's line leaves the score out
    expect(plain(ttaSentence({ ...base, reached: { seconds: 9.94, accuracy: 0.9231, iteration: 1200 } }, true))).toBe(
      'Reached 92 % in 9.9 s (predicted 8.8 s). This laptop alone would take about 14 s: a prediction from its measured speed, not a measurement.',
    );
    expect(plain(ttaSentence({ ...base, ended: { seconds: 31.25, best: 0.9142 } }))).toBe(
      'Not reached: 91.4 % at best after 31.3 s (92 % predicted in 8.8 s). This laptop alone would take about 14 s: a prediction from its measured speed, not a measurement.',
    );
  });

  it('never makes up what was not measured', () => {
    const noAlone = { ...prediction, alone: null, ratio: null };
    expect(plain(ttaSentence({ ...base, prediction: noAlone, hasLocal: false }))).toBe(
      'This room should reach 92 % in about 8.8 s; this laptop alone: not measured (tick “This tab trains too” so it computes and is measured)',
    );
    expect(plain(ttaSentence({ ...base, prediction: noAlone }))).toBe(
      'This room should reach 92 % in about 8.8 s; this laptop alone: measuring its speed…',
    );
    expect(
      plain(ttaSentence({ ...base, prediction: null, reached: { seconds: 1.2, accuracy: 0.93, iteration: 40 } })),
    ).toBe(
      'Reached 92 % in 1.2 s (too soon for a prediction: the workers were still being measured): 93.0 % at iteration 40.',
    );
    expect(plain(ttaSentence({ ...base, examplesExact: null }))).toBe(
      'No measured run reaches 92 % on this data set, so no time to it is predicted.',
    );
    expect(plain(ttaSentence({ ...base, prediction: null }, true))).toBe(
      'Target 92 %: measuring the room and this laptop…',
    );
  });

  it('counts take the word in the number they need', () => {
    expect(counted(1, 'student')).toBe('1 student');
    expect(counted(0, 'student')).toBe('0 students');
    expect(counted(2048, 'example')).toBe('2,048 examples');
    expect(counted(1, 'Web Worker')).toBe('1 Web Worker');
  });
});
