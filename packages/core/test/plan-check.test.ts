/** The self-checking planner's rule: measured iterations overrule the cost model. */
import { describe, expect, it } from 'vitest';
import { PlanCheck } from '../src/plan-check.js';

describe('PlanCheck', () => {
  it('caps plans at the smaller member count when more members were measured slower, and re-measures later', () => {
    const c = new PlanCheck({ firstWait: 10 });
    for (let i = 0; i < 3; i++) c.observe(1, 64, 64); // 1 ms an example alone
    expect(c.limit()).toBe(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 2; i++) c.observe(3, 128, 64);
    expect(c.limit()).toBe(Number.POSITIVE_INFINITY); // two samples are not enough to judge
    c.observe(3, 128, 64);
    expect(c.cap).toEqual({ members: 3, msPerExample: 2, fewer: 1, fewerMsPerExample: 1 });
    expect(c.limit()).toBe(1);
    for (let i = 0; i < 9; i++) c.observe(1, 64, 64);
    expect(c.limit()).toBe(1);
    c.observe(1, 64, 64);
    // the wait is over: the full plan is measured again, and is faster now (members stopped sharing)
    expect(c.limit()).toBe(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 3; i++) c.observe(3, 30, 64);
    expect(c.limit()).toBe(Number.POSITIVE_INFINITY);
  });

  it('the wait doubles while the cap keeps proving right, up to maxWait', () => {
    const c = new PlanCheck({ firstWait: 4, maxWait: 16 });
    for (let i = 0; i < 3; i++) c.observe(1, 10, 10);
    const capped: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) c.observe(2, 30, 10);
      let n = 0;
      while (c.limit() === 1) {
        c.observe(1, 10, 10);
        n++;
      }
      capped.push(n);
    }
    expect(capped).toEqual([4, 8, 16, 16, 16]);
  });

  it('noise within the margin, and members never measured, change nothing', () => {
    const c = new PlanCheck();
    for (let i = 0; i < 5; i++) c.observe(1, 100, 100);
    for (let i = 0; i < 5; i++) c.observe(2, 104, 100);
    expect(c.limit()).toBe(Number.POSITIVE_INFINITY);
    c.observe(2, Number.NaN, 100);
    c.observe(0, 10, 100);
    expect(c.limit()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a member count never compared with a smaller one is compared once with half as many', () => {
    const shared = new PlanCheck();
    for (let i = 0; i < 3; i++) shared.observe(4, 200, 64);
    expect(shared.limit()).toBe(2); // measuring a plan of 2
    for (let i = 0; i < 3; i++) shared.observe(2, 100, 64);
    expect(shared.cap?.fewer).toBe(2);
    const independent = new PlanCheck();
    for (let i = 0; i < 3; i++) independent.observe(4, 50, 64);
    expect(independent.limit()).toBe(2);
    for (let i = 0; i < 3; i++) independent.observe(2, 100, 64);
    expect(independent.limit()).toBe(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 10; i++) independent.observe(4, 50, 64);
    expect(independent.limit()).toBe(Number.POSITIVE_INFINITY); // compared once, not again
  });

  it('compares only medians of the same stretch of time: a stale smaller plan is measured again before a cap', () => {
    // 2 members early on, then 40 iterations of 4 at a good pace, then the machine slows down
    const early = (c: PlanCheck) => {
      for (let i = 0; i < 3; i++) c.observe(2, 100, 64);
      expect(c.limit()).toBe(1); // compared once with half as many
      for (let i = 0; i < 3; i++) c.observe(1, 100, 64);
      expect(c.limit()).toBe(Number.POSITIVE_INFINITY);
    };
    const drift = new PlanCheck({ fresh: 30 });
    early(drift);
    for (let i = 0; i < 40; i++) drift.observe(4, 50, 64);
    for (let i = 0; i < 3; i++) drift.observe(4, 120, 64); // a slow patch: median 120 against 2's old 100
    expect(drift.cap).toBeUndefined();
    expect(drift.limit()).toBe(2); // measuring the plan of 2 again, in the same patch
    for (let i = 0; i < 3; i++) drift.observe(2, 130, 64); // slow too: the members were not the cause
    expect(drift.cap).toBeUndefined();
    expect(drift.limit()).toBe(Number.POSITIVE_INFINITY);
    // members that do share a CPU: the fresh measurement confirms, and the plan is capped
    const shared = new PlanCheck({ fresh: 30 });
    early(shared);
    for (let i = 0; i < 40; i++) shared.observe(4, 90, 64);
    for (let i = 0; i < 3; i++) shared.observe(4, 200, 64); // a third tab opened on the same laptop
    expect(shared.limit()).toBe(2);
    for (let i = 0; i < 3; i++) shared.observe(2, 100, 64);
    expect(shared.cap).toEqual({ members: 4, msPerExample: 200 / 64, fewer: 2, fewerMsPerExample: 100 / 64 });
    expect(shared.limit()).toBe(2);
  });
});
