/**
 * The zoo's one definition (zoo.ts): layouts and memory estimates worked out by hand, the losses'
 * metadata, and the wire checks of the data set and loss fields a task carries to peers.
 */
import { describe, expect, it } from 'vitest';
import { estimateBytesPerExample, specLayout } from '../src/model-layout.js';
import { PROTOCOL_VERSION, type TaskSpec } from '../src/protocol/messages.js';
import { validateMessage } from '../src/protocol/validate.js';
import type { DatasetSpec, ModelSpec } from '../src/specs.js';
import { LOSS_NAMES, lossInfo, ZOO, zooArchitecture } from '../src/zoo.js';

describe('zoo architectures', () => {
  it('cnn-small: 28x28 -> conv 26x26x8 -> pool 13 -> conv 11x11x16 -> pool 5 -> 400 -> 64 -> 10', () => {
    expect(specLayout(ZOO['cnn-small'])).toEqual([
      { name: 'conv_0/kernel', shape: [3, 3, 1, 8] },
      { name: 'conv_0/bias', shape: [8] },
      { name: 'conv_1/kernel', shape: [3, 3, 8, 16] },
      { name: 'conv_1/bias', shape: [16] },
      { name: 'dense/kernel', shape: [400, 64] },
      { name: 'dense/bias', shape: [64] },
      { name: 'logits/kernel', shape: [64, 10] },
      { name: 'logits/bias', shape: [10] },
    ]);
    // input, two conv outputs, two pool outputs, dense, logits; 3 floats of 4 bytes each
    const floats = 784 + 26 * 26 * 8 + 13 * 13 * 8 + 11 * 11 * 16 + 5 * 5 * 16 + 64 + 10;
    expect(estimateBytesPerExample(ZOO['cnn-small'])).toBe(floats * 12);
  });

  it('cnn-portable: the same sizes, kernels with a depth of 1, a reshape first', () => {
    const portable = specLayout(ZOO['cnn-portable']) ?? [];
    const small = specLayout(ZOO['cnn-small']) ?? [];
    expect(portable.map((t) => t.name)).toEqual(small.map((t) => t.name));
    expect(portable[2].shape).toEqual([1, 3, 3, 8, 16]);
    expect(portable.map((t) => t.shape.reduce((a, b) => a * b, 1))).toEqual(
      small.map((t) => t.shape.reduce((a, b) => a * b, 1)),
    );
    const arch = zooArchitecture(ZOO['cnn-portable']);
    expect(arch.layers[0]).toMatchObject({
      layer: { type: 'reshape', targetShape: [1, 28, 28, 1] },
      outShape: [1, 28, 28, 1],
    });
    expect(estimateBytesPerExample(ZOO['cnn-portable'])).toBe(estimateBytesPerExample(ZOO['cnn-small']));
  });

  it('mlp: flatten only for images; hidden layers then logits', () => {
    expect(specLayout({ kind: 'mlp', inputShape: [4], hidden: [], classes: 2 })).toEqual([
      { name: 'logits/kernel', shape: [4, 2] },
      { name: 'logits/bias', shape: [2] },
    ]);
    expect(zooArchitecture(ZOO['mlp-wide']).layers.map((l) => l.layer.type)).toEqual([
      'flatten',
      'dense',
      'dense',
      'dense',
    ]);
    expect(estimateBytesPerExample(ZOO['mlp-small'])).toBe((784 + 128 + 10) * 12);
  });

  it('an image too small for its convolutions is refused', () => {
    expect(() => specLayout({ kind: 'cnn', inputShape: [5, 5, 1], filters: [4, 4], dense: 8, classes: 2 })).toThrow(
      /conv_1: a 3x3 convolution needs at least 3x3 inputs, got 1x1/,
    );
  });
});

describe('losses', () => {
  it('metrics follow the loss', () => {
    expect(LOSS_NAMES.map((l) => lossInfo(l).metric)).toEqual(['accuracy', 'accuracy', 'mse', 'mae']);
    expect(lossInfo().task).toBe('classification');
    expect(() => lossInfo('hinge' as never)).toThrow(/unknown loss "hinge"/);
  });
});

describe('wire checks of the data set and loss fields', () => {
  const task = (model: ModelSpec, dataset: DatasetSpec): TaskSpec => ({
    model,
    dataset,
    layout: [{ name: 'w', shape: [2] }],
    paramCount: 2,
  });
  const send = (t: TaskSpec) => validateMessage({ v: PROTOCOL_VERSION, type: 'task', task: t });
  const mlp: ModelSpec = { kind: 'mlp', inputShape: [4], hidden: [], classes: 2 };
  const hash = 'ab'.repeat(32);

  it('accepts fashion-mnist, a url with its hash, a named loss and the 3d cnn', () => {
    expect(() => send(task(mlp, { kind: 'fashion-mnist', split: 'train' }))).not.toThrow();
    expect(() => send(task(mlp, { kind: 'fashion-mnist-small', split: 'test' }))).not.toThrow();
    expect(() =>
      send(
        task({ ...mlp, loss: 'mean-absolute-error' }, { kind: 'url', url: '/data/a.bin', sha256: hash, split: 'test' }),
      ),
    ).not.toThrow();
    expect(() =>
      send(task(ZOO['cnn-portable'], { kind: 'url', url: 'https://example.org/a.bin', sha256: hash, split: 'train' })),
    ).not.toThrow();
  });

  it('refuses a bad hash, a URL that is not http(s) or a path, an unknown loss, and app arrays', () => {
    const url = (u: string, sha256 = hash) => task(mlp, { kind: 'url', url: u, sha256, split: 'train' });
    expect(() => send(url('/a.bin', 'AB'.repeat(32)))).toThrow(
      'task.task.dataset.sha256 must be a SHA-256 as 64 lowercase hex digits',
    );
    expect(() => send(url('/a.bin', 'ab'))).toThrow(/sha256 must be a SHA-256/);
    for (const u of ['javascript:alert(1)', 'file:///etc/passwd', '//evil.example/a.bin', 'data.bin', '/a b.bin']) {
      expect(() => send(url(u)), u).toThrow(/url must be an http\(s\) URL or a path starting with \//);
    }
    expect(() => send(task({ ...mlp, loss: 'hinge' as never }, { kind: 'mnist', split: 'train' }))).toThrow(
      /task\.task\.model\.loss must be one of/,
    );
    const arrays = {
      kind: 'arrays',
      name: 'a',
      inputShape: [4],
      classes: 2,
      targets: 1,
      train: { x: new Float32Array(4), y: new Int32Array(1) },
      test: { x: new Float32Array(4), y: new Int32Array(1) },
      split: 'train',
    } as DatasetSpec;
    expect(() => send(task(mlp, arrays))).toThrow(
      /dataset\.kind must be one of 'mnist', 'fashion-mnist', 'fashion-mnist-small', 'url', 'chunked', 'synthetic'/,
    );
  });
});
