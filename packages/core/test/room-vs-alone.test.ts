/** "Room vs this laptop alone" (issues 18 §3, 22): predictRoomVsAlone and examplesToTarget against hand-worked figures. */
import { describe, expect, it } from 'vitest';
import { chooseMode, examplesRatio, examplesToTarget, GradroomError, predictRoomVsAlone } from '../src/index.js';

// the default MNIST MLP 784-128-10
const P = 784 * 128 + 128 + 128 * 10 + 10;
const host = { fixedMs: 4, msPerExample: 1, local: true };
const volunteer = { fixedMs: 20, msPerExample: 1 };

describe('predictRoomVsAlone', () => {
  it('this laptop alone: iterations x (fixed + batch x ms per example), the room from the cost split', () => {
    const r = predictRoomVsAlone({ members: [host, volunteer], parameters: P, batchSize: 64, examplesExact: 12_800 });
    // alone: 12,800 / 64 = 200 iterations of 4 + 64 x 1 = 68 ms
    expect(r.alone?.seconds).toBeCloseTo(13.6, 9);
    expect(r.alone?.examplesPerSec).toBeCloseTo(64_000 / 68, 9);
    // room: 4 + n = 20 + (64 - n) at n = 40, so 44 ms an iteration, both used
    expect(r.room.seconds).toBeCloseTo(8.8, 9);
    expect(r.room.used).toBe(2);
    expect(r.room.mode).toEqual({ kind: 'exact' });
    expect(r.ratio).toBeCloseTo(8.8 / 13.6, 9);
  });

  it('a volunteer whose shard costs more than it saves is left out: the room equals the laptop', () => {
    const slow = { fixedMs: 200, msPerExample: 1 };
    const r = predictRoomVsAlone({ members: [host, slow, slow], parameters: P, batchSize: 64, examplesExact: 12_800 });
    expect(r.room.used).toBe(1);
    expect(r.room.seconds).toBeCloseTo(13.6, 9);
    expect(r.ratio).toBeCloseTo(1, 9);
  });

  it('several Web Workers of this tab are this laptop together', () => {
    const r = predictRoomVsAlone({
      members: [host, host, volunteer],
      parameters: P,
      batchSize: 64,
      examplesExact: 6400,
    });
    // alone, two workers at 4 + 32 = 36 ms: 100 iterations, 3.6 s
    expect(r.alone?.seconds).toBeCloseTo(3.6, 9);
    expect(r.alone?.used).toBe(2);
  });

  it('mode local needs more examples (the efficiency table), one exchange a round', () => {
    const r = predictRoomVsAlone({
      members: [host, volunteer],
      parameters: P,
      batchSize: 64,
      examplesExact: 12_800,
      mode: { kind: 'local', steps: 4 },
    });
    // a round: each runs 4 x 64 = 256 examples; the slower takes 20 + 256 = 276 ms for 512 examples
    const ratio = examplesRatio(4, 2);
    expect(r.room.seconds).toBeCloseTo(((12_800 * ratio) / 512) * 0.276, 9);
    // the laptop alone is always exact mode
    expect(r.alone?.seconds).toBeCloseTo(13.6, 9);
  });

  it("a warm start: its examples at this laptop alone's pace, the rest in rounds, with the efficiency after a warm start", () => {
    const after = [{ steps: 4, workers: 2, examplesRatio: 1.25 }];
    const warm = (warmup: number, efficiencyAfterWarmup?: typeof after) =>
      predictRoomVsAlone({
        members: [host, volunteer],
        parameters: P,
        batchSize: 64,
        examplesExact: 12_800,
        mode: { kind: 'local', steps: 4 },
        warmup,
        ...(efficiencyAfterWarmup ? { efficiencyAfterWarmup } : {}),
      }).room.seconds;
    // 16,000 examples in all (12,800 x 1.25): 50 x 64 = 3,200 at 68 ms a mini-batch on the host
    // alone (3.4 s), the other 12,800 in rounds of 512 examples in 276 ms
    expect(warm(50, after)).toBeCloseTo(3.4 + (12_800 / 512) * 0.276, 9);
    // without the after-warm-start table, the from-scratch one
    expect(warm(50)).toBeCloseTo(3.4 + ((12_800 * examplesRatio(4, 2) - 3200) / 512) * 0.276, 9);
    // a warm start longer than the run needs: all of it at the host's pace
    expect(warm(1000, after)).toBeCloseTo((16_000 / 64) * 0.068, 9);
    // exact mode has no warm start: the figure is ignored there
    const exact = predictRoomVsAlone({
      members: [host, volunteer],
      parameters: P,
      batchSize: 64,
      examplesExact: 12_800,
      warmup: 50,
    });
    expect(exact.room.seconds).toBeCloseTo(8.8, 9);
  });

  it("mode auto: chooseMode's pick and its prediction", () => {
    const members = [host, { fixedMs: 300, msPerExample: 1 }, { fixedMs: 300, msPerExample: 1 }];
    const input = { members, parameters: P, batchSize: 64, examplesExact: 12_800 };
    const r = predictRoomVsAlone({ ...input, mode: { kind: 'auto' } });
    const d = chooseMode({
      ...input,
      members: members.map((m) => ({ examplesPerSec: 1000 / m.msPerExample, shardMs: m.fixedMs, local: m === host })),
    });
    expect(r.room.mode).toEqual(d.choice);
    const best = Math.min(...d.candidates.map((c) => c.prediction.seconds));
    expect(r.room.seconds).toBeCloseTo(best, 9);
  });

  it('no worker of this tab: no "alone" figure, never one made up', () => {
    const r = predictRoomVsAlone({ members: [volunteer], parameters: P, batchSize: 64, examplesExact: 12_800 });
    expect(r.alone).toBeNull();
    expect(r.ratio).toBeNull();
    expect(r.room.seconds).toBeCloseTo(200 * 0.084, 9);
  });

  it('refuses bad input with a typed error', () => {
    const base = { parameters: P, batchSize: 64, examplesExact: 12_800 };
    expect(() => predictRoomVsAlone({ ...base, members: [] })).toThrow(GradroomError);
    expect(() => predictRoomVsAlone({ ...base, members: [{ fixedMs: -1, msPerExample: 1 }] })).toThrow(/member 0/);
    expect(() => predictRoomVsAlone({ ...base, members: [{ fixedMs: 1, msPerExample: 0 }] })).toThrow(GradroomError);
    expect(() => predictRoomVsAlone({ ...base, members: [host], examplesExact: 0 })).toThrow(/examplesExact/);
    const local = { ...base, members: [host, volunteer], mode: { kind: 'local' as const, steps: 4 } };
    for (const warmup of [-1, 1.5, Number.NaN])
      expect(() => predictRoomVsAlone({ ...local, warmup }), String(warmup)).toThrow(
        /warmup must be a non-negative integer/,
      );
  });
});

describe('examplesToTarget', () => {
  it('interpolates between the evaluations around the target, on the running best', () => {
    const curve = [
      [1000, 0.8],
      [2000, 0.9],
      [3000, 0.85], // a dip: the running best stays 0.9
      [4000, 0.95],
    ] as const;
    expect(examplesToTarget(curve, 0.85)).toBeCloseTo(1500, 9);
    // from (3000, best 0.9) to (4000, 0.95)
    expect(examplesToTarget(curve, 0.92)).toBeCloseTo(3400, 9);
    expect(examplesToTarget(curve, 0.95)).toBeCloseTo(4000, 9);
    expect(examplesToTarget(curve, 0.7)).toBe(1000); // the first evaluation already reached it
    expect(examplesToTarget(curve, 0.96)).toBeNull(); // never measured that high
  });

  it('refuses a bad target or curve', () => {
    expect(() => examplesToTarget([[1, 0.5]], 0)).toThrow(GradroomError);
    expect(() => examplesToTarget([[1, 0.5]], 1.2)).toThrow(GradroomError);
    expect(() =>
      examplesToTarget(
        [
          [2, 0.5],
          [1, 0.6],
        ],
        0.55,
      ),
    ).toThrow(/increasing/);
    expect(() => examplesToTarget([[1, 1.5]], 0.5)).toThrow(GradroomError);
  });
});
