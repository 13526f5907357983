import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../src/protocol/messages.js';
import { validateMessage } from '../src/protocol/validate.js';

const chunked = {
  kind: 'chunked',
  url: '/datasets/fashion-mnist/manifest.json',
  sha256: 'a'.repeat(64),
  split: 'train',
  train: 60_000,
  test: 10_000,
  chunkExamples: 1000,
};
const task = (dataset: unknown) => ({
  v: PROTOCOL_VERSION,
  type: 'task',
  task: {
    model: { kind: 'mlp', inputShape: [784], hidden: [], classes: 10 },
    dataset,
    layout: [{ name: 'k', shape: [7850] }],
    paramCount: 7850,
  },
});
const why = (dataset: unknown) => {
  try {
    validateMessage(task(dataset));
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('a chunked data set spec', () => {
  it('is accepted with an http(s) URL or a server path, a hex SHA-256 and sane counts', () => {
    expect(why(chunked)).toBe('accepted');
    expect(why({ ...chunked, url: 'https://data.example/f/manifest.json' })).toBe('accepted');
  });
  it('is refused with a URL that is not http(s), naming the field', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'ftp://x/m.json', 'manifest.json', '//x/m'])
      expect(why({ ...chunked, url })).toMatch(/dataset\.url must be an http\(s\) URL/);
  });
  it('is refused with a hash that is not 64 lowercase hex digits', () => {
    for (const sha256 of ['a'.repeat(63), 'A'.repeat(64), 'g'.repeat(64), 42])
      expect(why({ ...chunked, sha256 })).toMatch(/dataset\.sha256 must be a SHA-256/);
  });
  it('is refused with absurd counts', () => {
    expect(why({ ...chunked, train: 0 })).toMatch(/dataset\.train must be an integer/);
    expect(why({ ...chunked, test: -1 })).toMatch(/dataset\.test must be an integer/);
    expect(why({ ...chunked, train: 2 ** 40 })).toMatch(/dataset\.train must be an integer/);
    expect(why({ ...chunked, chunkExamples: 1.5 })).toMatch(/dataset\.chunkExamples must be an integer/);
    // a million chunks of one example: more than a peer's manifest may list
    expect(why({ ...chunked, train: 1_000_000, chunkExamples: 1 })).toMatch(/at most 65536 chunks/);
    expect(why({ ...chunked, extra: 1 })).toMatch(/unknown field 'extra'/);
    const { chunkExamples: _, ...missing } = chunked;
    expect(why(missing)).toMatch(/dataset\.chunkExamples is missing/);
  });
});
