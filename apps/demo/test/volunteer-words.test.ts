// The student page's plain words (src/volunteer/words.ts) and its contribution samples.
import type { VolunteerStatus } from '@gradroom/worker/peer';
import { describe, expect, it } from 'vitest';
import { Contribution } from '../src/volunteer/contribution.js';
import { plainStandby, plainStatus } from '../src/volunteer/words.js';

const WAITING =
  'Your laptop is waiting: sending it work takes longer than the work itself on this Wi-Fi. It helps again when the class switches to local steps.';

function status(over: Partial<VolunteerStatus>): VolunteerStatus {
  return {
    state: 'ready',
    backend: 'wasm',
    examples: 0,
    shards: 0,
    examplesPerSec: 0,
    share: 0,
    workers: 0,
    iteration: 3,
    epoch: 0,
    loss: 1,
    ...over,
  } as VolunteerStatus;
}

describe('the student page speaks plainly', () => {
  it('the coordinator’s standing-by sentence becomes the Wi-Fi sentence', () => {
    // the sentence as packages/coordinator/src/planning.ts writes it
    const fromCoordinator =
      'standing by: its link costs 146 ms a shard, more than it would save (the iteration takes 109 ms without it)';
    expect(plainStandby(fromCoordinator)).toBe(WAITING);
    expect(plainStatus(status({ standby: fromCoordinator }))).toBe(WAITING);
    expect(plainStatus(status({ standby: fromCoordinator }))).not.toMatch(/ms|shard|iteration/);
    // another reason is still plain, and never the figures
    expect(plainStandby('standing by: something else')).toMatch(/^Your laptop is waiting/);
  });

  it('the plan check’s reasons (more laptops were slower, or the room is measuring) are plain too', () => {
    const slower =
      'standing by: the room was slower with more members (120 ms a mini-batch with 3, 60 ms with 1): members may share a CPU or a link';
    expect(plainStandby(slower)).toMatch(/went slower with more laptops/);
    expect(
      plainStandby('standing by for a few iterations: the room measures whether it is faster with fewer members'),
    ).toMatch(/checks whether fewer laptops are faster/);
    for (const s of [slower]) expect(plainStandby(s)).not.toMatch(/ms|mini-batch|CPU/);
  });

  it('the warm start of mode local: the teacher’s laptop goes first, then everyone', () => {
    // WARM_START_STANDBY, as packages/coordinator/src/modes/exact.ts writes it
    const warm =
      "standing by for the warm start: its mini-batches run on the run's own workers; mode local's rounds, for every member, come after";
    expect(plainStandby(warm)).toMatch(/takes the first steps alone \(a warm start\)\. Then every laptop trains\./);
    expect(plainStatus(status({ standby: warm }))).not.toMatch(/mini-batch|mode local/);
  });

  it('a pause, stop or end announced by the room wins over standing by; the old prefixes stay', () => {
    const standby = 'standing by: its link costs 9 ms a shard, more than it would save (x)';
    expect(plainStatus(status({ roomState: 'paused', standby }))).toMatch(/^Paused by the teacher/);
    expect(plainStatus(status({ roomState: 'done', testAccuracy: 0.9123 }))).toBe(
      'Finished: test accuracy 91.2 %. Thank you for lending your laptop!',
    );
    expect(plainStatus(status({ roomState: 'stopped' }))).toMatch(/^The teacher stopped/);
    expect(plainStatus(status({ state: 'computing', roomState: 'running' }))).toMatch(/^Working/);
  });
});

describe('contribution samples', () => {
  it('keep their shape and stop growing past the cap', () => {
    const c = new Contribution();
    for (let i = 0; i < 1000; i++) c.add(1000 + i * 1000, i * 10);
    expect(c.points.length).toBeLessThanOrEqual(240);
    expect(c.points.length).toBeGreaterThan(100);
    expect(c.points[0]).toEqual([0, 0]);
    for (let i = 1; i < c.points.length; i++) {
      expect(c.points[i][0]).toBeGreaterThan(c.points[i - 1][0]);
      expect(c.points[i][1]).toBe(c.points[i][0] * 10);
    }
  });
});
