/**
 * The student page's words: what the room says, in the words of a 16-year-old. The technical version
 * (backend, adapter, the planner's figures) stays available in the page's "Technical details" fold.
 * Pure: no DOM, so the mapping is tested in Node.
 */
import type { VolunteerStatus } from '@gradroom/worker/peer';

/** The planner's reason for a member it leaves out: "standing by: its link costs N ms a shard, …". */
const LINK_COSTS = /^standing by: its link costs \d+ ms a shard, more than it would save\b/;
/** The plan check's reasons (core's PlanCheck): more members were measured slower, or it is measuring. */
const SHARED = /^standing by: the room was slower with more members\b/;
const MEASURING = /^standing by for a few iterations: the room measures\b/;
/** Mode local's warm start (coordinator's WARM_START_STANDBY). */
const WARM_START = /^standing by for the warm start\b/;

/** Why this laptop gets no work, in plain words; the coordinator's own sentence goes to the fold. */
export function plainStandby(standby: string): string {
  if (LINK_COSTS.test(standby))
    return 'Your laptop is waiting: sending it work takes longer than the work itself on this Wi-Fi. It helps again when the class switches to local steps.';
  if (SHARED.test(standby))
    return 'Your laptop is waiting: the class went slower with more laptops at once (they may share a processor or the Wi-Fi). The room tries again with you in a little while.';
  if (WARM_START.test(standby))
    return 'Your laptop is waiting while the teacher’s laptop takes the first steps alone (a warm start). Then every laptop trains.';
  if (MEASURING.test(standby))
    return 'Your laptop is waiting for a few steps while the room checks whether fewer laptops are faster.';
  return 'Your laptop is waiting: the room has enough helpers for this step right now. It joins in again by itself.';
}

/** The line under the title: what this laptop (and the class) is doing now. */
export function plainStatus(s: VolunteerStatus): string {
  if (s.state === 'left') return `You left the room: ${s.reason ?? ''}`;
  switch (s.roomState) {
    case 'paused':
      return 'Paused by the teacher: your laptop waits and carries on when the class does.';
    case 'stopped':
      return `The teacher stopped the training${s.testAccuracy !== undefined ? ` (the model got ${(s.testAccuracy * 100).toFixed(1)} % of the test digits right)` : ''}. Stay here for the next one.`;
    case 'done':
      return `Finished: test accuracy ${s.testAccuracy !== undefined ? `${(s.testAccuracy * 100).toFixed(1)} %` : 'not measured'}. Thank you for lending your laptop!`;
    case 'failed':
      return 'The training stopped because of an error on the teacher’s computer.';
  }
  if (s.standby) return plainStandby(s.standby);
  switch (s.state) {
    case 'connecting':
      return 'Connecting to the class…';
    case 'setting-up':
      return s.backend
        ? 'Getting ready: loading the model and the digits to learn from…'
        : 'You are in! Waiting for the teacher to start the training.';
    case 'ready':
      return 'Ready: waiting for the next piece of work.';
    case 'computing':
      return 'Working: your laptop is helping the model learn right now.';
  }
}
