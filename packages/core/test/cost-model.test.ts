import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesPerValue, type MemberCost, predictRoom } from '../src/cost-model.js';
import { GradroomError } from '../src/errors.js';

// 8 Mbit/s is exactly 1,000 bytes per ms, which keeps the closed forms below readable.
const MBIT8 = 8;

describe('cost model, exact mode: closed-form cases', () => {
  it('one member with no limits runs at its compute speed; with a per-shard cost, B / (shardMs + B / speed)', () => {
    const p = predictRoom({ members: [{ examplesPerSec: 1000 }], parameters: 1000, batchSize: 64 });
    expect(p.examplesPerSec).toBeCloseTo(1000, 9);
    expect(p.iterationMs).toBeCloseTo(64, 9);
    expect(p.used).toBe(1);
    expect(p.bottleneck).toBe('compute');
    expect(p.bytesPerIteration).toBe(2 * 1000 * 4);
    const q = predictRoom({ members: [{ examplesPerSec: 1000, shardMs: 16 }], parameters: 1000, batchSize: 64 });
    expect(q.examplesPerSec).toBeCloseTo((64 / (16 + 64)) * 1000, 9);
  });

  it('a member behind a slow link pays weights in and result out at its rate, plus latency both ways', () => {
    // P = 1000: 4,000 B each way at 1,000 B/ms = 4 ms + 4 ms; latency 3 ms each way; compute 64 ms; step 2 ms
    const p = predictRoom({
      members: [{ examplesPerSec: 1000, upMbit: MBIT8, downMbit: MBIT8, latencyMs: 3 }],
      parameters: 1000,
      batchSize: 64,
      coordinator: { stepMs: 2 },
    });
    expect(p.iterationMs).toBeCloseTo(4 + 4 + 6 + 64 + 2, 9);
    expect(p.examplesPerSec).toBeCloseTo((64 / 80) * 1000, 9);
    expect(p.transferMs).toBeCloseTo(14, 9);
    expect(p.computeMs).toBeCloseTo(64, 9);
    expect(p.fastestAloneExamplesPerSec).toBeCloseTo(p.examplesPerSec, 9);
  });

  it('identical members with free links split the mini-batch evenly: N times one', () => {
    const members = Array.from({ length: 4 }, () => ({ examplesPerSec: 500 }));
    const p = predictRoom({ members, parameters: 1000, batchSize: 64 });
    expect(p.shards).toEqual([16, 16, 16, 16]);
    expect(p.examplesPerSec).toBeCloseTo(2000, 9);
    expect(p.bytesPerIteration).toBe(4 * 2 * 1000 * 4);
  });

  it("the coordinator's link is shared by the members that use it at once", () => {
    // 2 members at 1,000 ex/s, B = 100, 8,000 B per member per iteration, coordinator 1,000 B/ms each way.
    // k = 1: 4 + 4 + 100 = 108 ms. k = 2: each gets half the link (8 + 8 ms) and 50 examples: 66 ms.
    const p = predictRoom({
      members: [{ examplesPerSec: 1000 }, { examplesPerSec: 1000 }],
      parameters: 1000,
      batchSize: 100,
      coordinator: { upMbit: MBIT8, downMbit: MBIT8 },
    });
    expect(p.used).toBe(2);
    expect(p.iterationMs).toBeCloseTo(66, 9);
    expect(p.shards).toEqual([50, 50]);
    expect(p.bytesPerIteration).toBe(16000);
    expect(p.fastestAloneExamplesPerSec).toBeCloseTo((100 / 108) * 1000, 9);
  });

  it('on a shared cell where transfer dominates, the room is its fastest member alone (others stand by)', () => {
    // 30 members on one cell of 1,000 B/ms; P = 100,000: 800 ms of transfer alone, 64 ms of compute.
    // With k members: 800 k + 64 / k ms, smallest at k = 1.
    const members: MemberCost[] = Array.from({ length: 30 }, () => ({ examplesPerSec: 1000, via: 'cell' }));
    const p = predictRoom({ members, parameters: 100_000, batchSize: 64, sharedLinks: { cell: { mbit: MBIT8 } } });
    expect(p.used).toBe(1);
    expect(p.iterationMs).toBeCloseTo(864, 9);
    expect(p.examplesPerSec).toBeCloseTo(p.fastestAloneExamplesPerSec, 9);
    expect(p.bottleneck).toBe('shared link');
    expect(p.bytesPerIteration).toBe(800_000);
  });

  it('a slow member is left out where its fixed cost would delay the iteration, and used where it pays', () => {
    const fast = { examplesPerSec: 1000 };
    // the slow member's link: 4 + 4 ms of fixed cost; the fast one computes 8 examples in 8 ms
    const slow = { examplesPerSec: 1000, upMbit: MBIT8, downMbit: MBIT8 };
    const small = predictRoom({ members: [fast, slow], parameters: 1000, batchSize: 8 });
    expect(small.shards).toEqual([8, 0]);
    expect(small.examplesPerSec).toBeCloseTo(1000, 9);
    const large = predictRoom({ members: [fast, slow], parameters: 1000, batchSize: 512 });
    // equal finish: n1 = T, n2 = T - 8 (ms at 1 ex/ms), n1 + n2 = 512: T = 260
    expect(large.shards).toEqual([260, 252]);
    expect(large.iterationMs).toBeCloseTo(260, 9);
  });
});

describe('cost model: the host tab as a member', () => {
  it('a local member costs no link and no bytes; remote ones join only where they shorten the iteration', () => {
    const host = { examplesPerSec: 1000, local: true };
    // a remote member on an 8 Mbit/s cell: 4 + 4 ms per shard (P = 1000)
    const remote = { examplesPerSec: 1000, via: 'cell' };
    const small = predictRoom({
      members: [remote, host],
      parameters: 1000,
      batchSize: 8,
      sharedLinks: { cell: { mbit: MBIT8 } },
    });
    expect(small.shards).toEqual([0, 8]);
    expect(small.bytesPerIteration).toBe(0);
    expect(small.examplesPerSec).toBeCloseTo(1000, 9);
    // B = 108: the host alone 108 ms; with the remote one: n_h = T, n_r = T - 8, 2T - 8 = 108: T = 58
    const large = predictRoom({
      members: [remote, host],
      parameters: 1000,
      batchSize: 108,
      sharedLinks: { cell: { mbit: MBIT8 } },
    });
    expect(large.shards).toEqual([50, 58]);
    expect(large.iterationMs).toBeCloseTo(58, 9);
    expect(large.bytesPerIteration).toBe(8000);
  });
});

describe('cost model: probes of members standing by', () => {
  it('each member standing by loads the shared link with one exchange every probeEvery + 1 iterations', () => {
    // 23 members on a cell of 1,000 B/ms, P = 100,000 (800 ms of transfer alone), probed every 11th
    // iteration: the one member computing shares the cell with 22 / 11 = 2 exchanges' worth of probes
    const members: MemberCost[] = Array.from({ length: 23 }, () => ({ examplesPerSec: 1000, via: 'cell' }));
    const base = { members, parameters: 100_000, batchSize: 64, sharedLinks: { cell: { mbit: MBIT8 } } };
    const p = predictRoom({ ...base, probeEvery: 10 });
    expect(p.used).toBe(1);
    expect(p.iterationMs).toBeCloseTo(800 * 3 + 64, 6);
    expect(p.bytesPerIteration).toBeCloseTo(800_000 * 3, 6);
    expect(predictRoom(base).iterationMs).toBeCloseTo(864, 6);
  });
});

describe('cost model: compressed updates and local mode (extension point for issue 9)', () => {
  it('fp16 halves and int8 quarters (plus one scale per block) what members send back', () => {
    expect(bytesPerValue('none')).toBe(4);
    expect(bytesPerValue('fp16')).toBe(2);
    expect(bytesPerValue('int8', 256)).toBeCloseTo(1 + 4 / 256, 12);
    const base = { members: [{ examplesPerSec: 1000 }], parameters: 1000, batchSize: 64 };
    expect(predictRoom({ ...base, mode: { kind: 'exact', compress: 'fp16' } }).bytesIn).toBe(2000);
    expect(predictRoom({ ...base, mode: { kind: 'exact', compress: 'int8' } }).bytesIn).toBeCloseTo(
      1000 * (1 + 4 / 256),
      9,
    );
    expect(predictRoom({ ...base, mode: { kind: 'exact', compress: 'fp16' } }).bytesOut).toBe(4000);
  });

  it('topk: 28 values of each 256 back (a byte each and a byte for its place, plus the block scale); the weights go out as int8', () => {
    expect(bytesPerValue('topk')).toBeCloseTo((2 * 28 + 4) / 256, 12);
    expect(4 / bytesPerValue('topk')).toBeGreaterThanOrEqual(16);
    const base = { members: [{ examplesPerSec: 1000 }], parameters: 1000, batchSize: 64 };
    // per iteration: a round of H = 4 exchanges once
    const p = predictRoom({ ...base, mode: { kind: 'local', steps: 4, compress: 'topk', compressWeights: true } });
    expect(p.bytesIn).toBeCloseTo((1000 * 60) / 256 / 4, 9);
    expect(p.bytesOut).toBeCloseTo((1000 * (1 + 4 / 256)) / 4, 9);
  });

  it('local mode with H steps exchanges once per H mini-batches', () => {
    const p = predictRoom({
      members: [{ examplesPerSec: 1000, upMbit: MBIT8, downMbit: MBIT8 }],
      parameters: 1000,
      batchSize: 64,
      mode: { kind: 'local', steps: 10 },
    });
    // a round: 4 + 4 ms of transfer and 640 ms of compute, for 10 mini-batches
    expect(p.bytesPerIteration).toBeCloseTo(8000 / 10, 9);
    expect(p.iterationMs).toBeCloseTo(64.8, 9);
    expect(p.examplesPerSec).toBeCloseTo((640 / 648) * 1000, 9);
  });

  it('local mode on a short epoch: the last round is spread over every member, as the runner shapes it', () => {
    // 7 equal members (1 ms an example, 100 ms a shard), H = 32, batch 64, an epoch of 125 mini-batches
    // (MNIST's 8,000): no full round fits, so one round of 125 with 18, 18, ..., 17 steps
    const members = Array.from({ length: 7 }, () => ({ examplesPerSec: 1000, shardMs: 100 }));
    const base = { members, parameters: 1000, batchSize: 64, mode: { kind: 'local', steps: 32 } } as const;
    const p = predictRoom({ ...base, epochBatches: 125 });
    expect(p.used).toBe(7);
    expect(p.steps).toBe(18);
    expect(p.shards.reduce((a, b) => a + b, 0)).toBe(125 * 64);
    expect(p.shards).toEqual([18, 18, 18, 18, 18, 18, 17].map((n) => n * 64));
    // the round lasts the slowest group: 100 ms + 18 x 64 ms; 8,000 examples in it
    expect(p.examplesPerSec).toBeCloseTo((125 * 64 * 1000) / (100 + 18 * 64), 6);
    // without the epoch's size, 7 x 32 mini-batches a round: the model prices a round that never runs
    const open = predictRoom(base);
    expect(open.steps).toBe(32);
    expect(open.shards.every((n) => n === 32 * 64)).toBe(true);
    // a full round and a short one: 2 x 7 x 4 = 56 of 60 mini-batches, then 4 spread as 1 step on 4 members
    const two = predictRoom({ ...base, mode: { kind: 'local', steps: 4 }, epochBatches: 60 });
    expect(two.used).toBe(7);
    expect(two.shards).toEqual([9, 9, 9, 9, 8, 8, 8].map((n) => n * 64));
    expect(two.examplesPerSec).toBeCloseTo((60 * 64 * 1000) / (2 * (100 + 4 * 64) + (100 + 64)), 6);
    expect(() => predictRoom({ ...base, epochBatches: 0 })).toThrow(/epochBatches must be a positive integer/);
  });

  it('local mode prices steps by speed as the runner runs them: on in a room, a slower member runs fewer steps', () => {
    // two members at 1 ms an example and one at 4 ms, free links, H = 8, batch 64
    const members = [{ examplesPerSec: 1000 }, { examplesPerSec: 1000 }, { examplesPerSec: 250 }];
    const base = { members, parameters: 1000, batchSize: 64 } as const;
    // the slow one runs round(8 x 250 / 1000) = 2 steps: every group ends after 512 ms
    const on = predictRoom({ ...base, mode: { kind: 'local', steps: 8 } });
    expect(on.shards).toEqual([8, 8, 2].map((n) => n * 64));
    expect(on.examplesPerSec).toBeCloseTo((18 * 64 * 1000) / 512, 6);
    // off (or a run of its own workers only, by default): everyone H, so the slow one would hold
    // each round 2,048 ms, and the best plan leaves it out
    const off = predictRoom({ ...base, mode: { kind: 'local', steps: 8, balance: false } });
    expect(off.shards).toEqual([8, 8, 0].map((n) => n * 64));
    expect(off.examplesPerSec).toBeCloseTo((16 * 64 * 1000) / 512, 6);
    const own = predictRoom({
      ...base,
      members: members.map((m) => ({ ...m, local: true })),
      mode: { kind: 'local', steps: 8 },
    });
    expect(own.examplesPerSec).toBeCloseTo(off.examplesPerSec, 6);
    // an epoch of 40 mini-batches: two full rounds of 18, then 4 spread (2, 2, 0) as roundShape does
    const epoch = predictRoom({ ...base, mode: { kind: 'local', steps: 8 }, epochBatches: 40 });
    expect(epoch.shards).toEqual([18, 18, 4].map((n) => n * 64));
    expect(epoch.examplesPerSec).toBeCloseTo((40 * 64 * 1000) / (2 * 512 + 2 * 64), 6);
  });

  it('wire overhead scales the bytes', () => {
    const p = predictRoom({ members: [{ examplesPerSec: 1000 }], parameters: 1000, batchSize: 64, overhead: 1.1 });
    expect(p.bytesPerIteration).toBeCloseTo(8800, 9);
  });
});

describe('cost model: guarantees and bad input', () => {
  it('never predicts a room below its fastest member alone, and never more bytes than the exact floor', () => {
    const member = fc.record({
      examplesPerSec: fc.double({ min: 10, max: 1e5, noNaN: true }),
      shardMs: fc.double({ min: 0, max: 50, noNaN: true }),
      upMbit: fc.option(fc.double({ min: 0.5, max: 1000, noNaN: true }), { nil: undefined }),
      downMbit: fc.option(fc.double({ min: 0.5, max: 1000, noNaN: true }), { nil: undefined }),
      latencyMs: fc.double({ min: 0, max: 100, noNaN: true }),
      via: fc.option(fc.constant('cell'), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(member, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 1024 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.option(fc.double({ min: 1, max: 10_000, noNaN: true }), { nil: undefined }),
        (members, batchSize, parameters, coordMbit) => {
          const p = predictRoom({
            members,
            batchSize,
            parameters,
            sharedLinks: { cell: { mbit: 139 } },
            coordinator: { upMbit: coordMbit, downMbit: coordMbit },
          });
          expect(p.examplesPerSec).toBeGreaterThanOrEqual(p.fastestAloneExamplesPerSec * (1 - 1e-9));
          expect(p.shards.reduce((a, b) => a + b, 0)).toBe(batchSize);
          expect(p.bytesPerIteration).toBe(2 * p.used * parameters * 4);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects bad input with a clear error', () => {
    const ok = { members: [{ examplesPerSec: 1000 }], parameters: 1000, batchSize: 64 };
    const cases: [unknown, RegExp][] = [
      [{ ...ok, members: [] }, /at least one member/],
      [{ ...ok, parameters: 0 }, /parameters/],
      [{ ...ok, batchSize: 1.5 }, /batchSize/],
      [{ ...ok, members: [{ examplesPerSec: 0 }] }, /examplesPerSec/],
      [{ ...ok, members: [{ examplesPerSec: 1, upMbit: -1 }] }, /link rates/],
      [{ ...ok, members: [{ examplesPerSec: 1, latencyMs: Number.NaN }] }, /latencyMs/],
      [{ ...ok, members: [{ examplesPerSec: 1, via: 'cell' }] }, /no shared link named 'cell'/],
      [{ ...ok, coordinator: { upMbit: 0 } }, /coordinator link/],
      [{ ...ok, mode: { kind: 'local', steps: 0 } }, /steps/],
      [{ ...ok, overhead: 0.5 }, /overhead/],
      [{ ...ok, probeEvery: -1 }, /probeEvery/],
    ];
    for (const [input, re] of cases) {
      expect(() => predictRoom(input as Parameters<typeof predictRoom>[0])).toThrow(GradroomError);
      expect(() => predictRoom(input as Parameters<typeof predictRoom>[0])).toThrow(re);
    }
  });
});
