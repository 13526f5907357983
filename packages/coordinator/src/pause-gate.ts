/** The teacher's pause: the run waits at the next iteration boundary until resumed. */
export class PauseGate {
  private gate?: { promise: Promise<void>; resolve: () => void };

  get paused(): boolean {
    return this.gate !== undefined;
  }

  /** Pauses; false if it was paused already. */
  pause(): boolean {
    if (this.gate) return false;
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.gate = { promise, resolve };
    return true;
  }

  /** Resumes; false if it was not paused. */
  resume(): boolean {
    const g = this.gate;
    if (!g) return false;
    this.gate = undefined;
    g.resolve();
    return true;
  }

  /** Resolves at once, or when resumed. */
  async passed(): Promise<void> {
    await this.gate?.promise;
  }
}
