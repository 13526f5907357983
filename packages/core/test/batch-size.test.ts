/**
 * The batch-size advice that knows the device: a GPU's larger default, the smallest efficient shard
 * from a worker's measured {fixedMs, msPerExample}, and the mini-batch that keeps every worker's
 * shard efficient when the planner splits it (checked against planShardsByCost itself).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adviseBatchSize, deviceKind, efficientShardSize, type ShardSpeed } from '../src/batch-size.js';

const share = (w: ShardSpeed, n: number) => w.fixedMs / (w.fixedMs + n * w.msPerExample);

/**
 * An independent split: examples handed out one at a time to whoever would finish it earliest
 * (list scheduling), which minimises the latest finish for costs F_i + n_i p_i.
 */
function greedySplit(total: number, ws: readonly ShardSpeed[]): number[] {
  const n = ws.map(() => 0);
  for (let k = 0; k < total; k++) {
    let best = 0;
    for (let i = 1; i < ws.length; i++) {
      const fi = ws[i].fixedMs + (n[i] + 1) * ws[i].msPerExample;
      const fb = ws[best].fixedMs + (n[best] + 1) * ws[best].msPerExample;
      if (fi < fb) best = i;
    }
    n[best]++;
  }
  return n;
}

describe('deviceKind', () => {
  it('counts webgpu and webgl as GPUs, everything else as CPUs', () => {
    expect(['webgpu', 'webgl', 'wasm', 'cpu', 'none'].map(deviceKind)).toEqual(['gpu', 'gpu', 'cpu', 'cpu', 'cpu']);
  });
});

describe('efficientShardSize', () => {
  it('is the smallest shard whose fixed cost takes at most the given share of its time', () => {
    // an H100-like GPU worker: about 8 ms whatever the shard, 4 us per example
    expect(efficientShardSize({ fixedMs: 8, msPerExample: 0.004 }, 0.2)).toBe(8000);
    expect(efficientShardSize({ fixedMs: 0, msPerExample: 0.5 })).toBe(1);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 1e-4, max: 50, noNaN: true }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (fixedMs, msPerExample, s) => {
          const w = { fixedMs, msPerExample };
          const n = efficientShardSize(w, s);
          expect(share(w, n)).toBeLessThanOrEqual(s + 1e-9);
          if (n > 1) expect(share(w, n - 1)).toBeGreaterThan(s - 1e-9);
        },
      ),
    );
  });
  it('rejects a cost or share that means nothing', () => {
    expect(() => efficientShardSize({ fixedMs: -1, msPerExample: 1 })).toThrow(/fixedMs >= 0/);
    expect(() => efficientShardSize({ fixedMs: 1, msPerExample: 0 })).toThrow(/msPerExample > 0/);
    expect(() => efficientShardSize({ fixedMs: 1, msPerExample: 1 }, 1)).toThrow(/fixedShare/);
  });
});

describe('adviseBatchSize knows the device', () => {
  it('goes up to 2048 on a GPU, 512 on a CPU, within the memory budget', () => {
    expect(adviseBatchSize({ examples: 60000, bytesPerExample: 4000 }).size).toBe(512);
    const gpu = adviseBatchSize({ examples: 60000, bytesPerExample: 4000, device: 'gpu' });
    expect(gpu.size).toBe(2048);
    expect(gpu.reason).toMatch(/up to 2048 on a GPU/);
    expect(adviseBatchSize({ examples: 60000, bytesPerExample: 1e6, device: 'gpu' }).size).toBe(256);
  });

  it('with measured costs: the smallest power of two from 64 whose shards stay efficient', () => {
    // a wasm worker: 1 ms fixed, 0.25 ms per example: 16 examples would do; the lecture's 64 stays
    const cpu = adviseBatchSize({
      examples: 60000,
      bytesPerExample: 4000,
      workers: [{ fixedMs: 1, msPerExample: 0.25 }],
    });
    expect(cpu.size).toBe(64);
    // a GPU worker with 6 ms fixed and 0.01 ms per example needs 2400 examples: 2048 is the cap
    const gpu = adviseBatchSize({
      examples: 60000,
      bytesPerExample: 4000,
      device: 'gpu',
      workers: [{ fixedMs: 6, msPerExample: 0.01 }],
    });
    expect(gpu.size).toBe(2048);
    expect(gpu.reason).toMatch(/still spend 2\d% of a shard on the fixed cost/);
    // the same GPU at 1.5 ms fixed needs 600: 1024
    const mid = adviseBatchSize({
      examples: 60000,
      bytesPerExample: 4000,
      device: 'gpu',
      workers: [{ fixedMs: 1.5, msPerExample: 0.01 }],
    });
    expect(mid.size).toBe(1024);
    expect(mid.reason).toMatch(/1024 is the smallest from 64 at which the worker on a GPU spend at most 20%/);
    expect(mid.reason).toMatch(/13% here/);
  });

  it("every worker's shard in the planner's split of the advised mini-batch spends at most the share on its fixed cost", () => {
    const worker = fc.record({
      fixedMs: fc.double({ min: 0, max: 20, noNaN: true }),
      msPerExample: fc.double({ min: 0.001, max: 2, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(worker, { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        (ws, s) => {
          const a = adviseBatchSize({
            examples: 1e6,
            bytesPerExample: 1,
            maxSize: 2 ** 20,
            workers: ws,
            fixedShare: s,
          });
          const sizes = greedySplit(a.size, ws);
          // one example of slack: the split hands out whole examples (and 2e-9 of float rounding:
          // a share of exactly s + 1e-9 came out 1e-17 above it)
          sizes.forEach((n, i) => {
            if (n > 0) expect(share(ws[i], n + 1)).toBeLessThanOrEqual(s + 2e-9);
          });
          // one worker: the smallest power of two from 64 that reaches its efficient shard size
          if (ws.length === 1) {
            const need = efficientShardSize(ws[0], s);
            expect(a.size).toBe(Math.max(64, 2 ** Math.ceil(Math.log2(need))));
          }
        },
      ),
    );
  });

  it('two GPUs and a laptop: the mini-batch grows until the slowest-to-start worker is efficient too', () => {
    const ws = [
      { fixedMs: 8, msPerExample: 0.004 },
      { fixedMs: 8, msPerExample: 0.004 },
      { fixedMs: 2, msPerExample: 0.3 },
    ];
    const a = adviseBatchSize({ examples: 1e6, bytesPerExample: 1, maxSize: 2 ** 16, workers: ws });
    // 2 x 8000 GPU examples and the laptop's share of the same 40 ms: 8192 is short, 16384 is not
    expect(a.size).toBe(16384);
    const at = greedySplit(a.size, ws);
    at.forEach((n, i) => expect(share(ws[i], n)).toBeLessThanOrEqual(0.2));
    const half = greedySplit(a.size / 2, ws);
    expect(Math.max(...half.map((n, i) => share(ws[i], n)))).toBeGreaterThan(0.2);
  });

  it('rejects workers or a share that mean nothing', () => {
    expect(() => adviseBatchSize({ examples: 6000, bytesPerExample: 1, workers: [] })).toThrow(/workers is empty/);
    expect(() =>
      adviseBatchSize({ examples: 6000, bytesPerExample: 1, workers: [{ fixedMs: Number.NaN, msPerExample: 1 }] }),
    ).toThrow(/fixedMs/);
    expect(() => adviseBatchSize({ examples: 6000, bytesPerExample: 1, fixedShare: 0 })).toThrow(/fixedShare/);
    expect(() => adviseBatchSize({ examples: 6000, bytesPerExample: 1, device: 'tpu' as 'gpu' })).toThrow(/device/);
  });
});
