/**
 * Overlap on the worker: the outer step an early local round missed ("when the new weights arrive,
 * it applies the difference"; README "Overlap"). A catch-up names its round, and may come before
 * that round has started here (its chunks still travelling), while it runs, or after its last inner
 * step has started (then it reaches nothing, and the coordinator's count alone catches the round
 * up). The early round takes it before its next inner step.
 *
 * It does not wait for one: an early round that waited before its last step would hold its member
 * through whatever the coordinator does between rounds (an evaluation asks every member), and the
 * catch-up comes only when the next round opens (measured: a testbed room stalled until deadlines).
 */
export class CatchUps {
  /** The latest catch-up that came, not yet taken. */
  private box?: { round: number; change: Float32Array };

  /** A catch-up for `round` came. */
  put(round: number, change: Float32Array): void {
    this.box = { round, change };
  }

  /** The catch-up for `round`, once, or undefined while none came. */
  take(round: number): Float32Array | undefined {
    const b = this.box;
    if (b?.round !== round) return undefined;
    this.box = undefined;
    return b.change;
  }

  /** A round that is not early starts: a catch-up left for an earlier round has nothing to reach. */
  clear(): void {
    this.box = undefined;
  }
}
