/**
 * Draw to train in the host's coordinator worker: the class data set as the students' tabs report it
 * (ClassData), evaluated on their held-out drawings at the start of each run (before any drawing
 * trained), at each epoch, every EVAL_MS while it runs and at its end; the page hears a 'class' event.
 * With `wiretap=1` in the host page's address, every message from a student is kept for the tests.
 */
import { ClassData, type PeerWorkerHandle, type Trainer } from '@gradroom/coordinator/browser';
import type { Message } from '@gradroom/core';
import { MAX_DRAWINGS } from '../volunteer/drawing-set.js';
import type { HostEvent } from './protocol.js';

const EVAL_MS = 10_000;
/** The wiretap keeps this many messages at most (it is for tests: a lesson's worth would fill memory). */
const WIRETAP_MAX = 20_000;

export class ClassRoom {
  readonly data: ClassData;
  private timer?: ReturnType<typeof setInterval>;
  private sendTimer?: ReturnType<typeof setTimeout>;
  private evaluating = false;
  /** With wiretap on: every message students sent, in order. */
  readonly heard: { from: string; m: Message }[] | undefined;

  constructor(
    private readonly post: (e: HostEvent) => void,
    wiretap: boolean,
  ) {
    this.data = new ClassData(
      () => this.send(),
      (line) => post({ type: 'log', line }),
      { maxDrawings: MAX_DRAWINGS },
    );
    this.heard = wiretap ? [] : undefined;
  }

  track(handle: PeerWorkerHandle, name: string): void {
    this.data.track(handle, name);
  }

  tap(from: string, m: Message): void {
    if (this.heard && this.heard.length < WIRETAP_MAX) this.heard.push({ from, m });
  }

  /** Follows a run: its 'before' is measured on its starting weights (not for a resumed run), then as it goes. */
  follow(t: Trainer, resumed: boolean): void {
    this.data.newRun(resumed);
    clearInterval(this.timer);
    let started = false;
    t.on('state', (e) => {
      if (e.state === 'running' && !started) {
        started = true;
        void this.evaluate(t);
        this.timer = setInterval(() => void this.evaluate(t), EVAL_MS);
      } else if (e.state === 'done' || e.state === 'stopped' || e.state === 'failed') {
        clearInterval(this.timer);
        void this.evaluate(t, true);
      }
    });
    t.on('epoch', () => void this.evaluate(t));
    this.send();
  }

  /** Evaluates the run's weights now (one evaluation at a time, unless `force`). */
  async evaluate(t: Trainer, force = false): Promise<void> {
    if (this.evaluating && !force) return;
    this.evaluating = true;
    try {
      await this.data.evaluate(t.getWeights());
    } catch (e) {
      this.post({ type: 'log', line: `class evaluation failed: ${(e as Error).message}` });
    } finally {
      this.evaluating = false;
    }
  }

  /** The page hears the class data set at most 4 times a second. */
  private send(): void {
    if (this.sendTimer) return;
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      this.post({ type: 'class', report: this.data.report(), before: this.data.before, now: this.data.now });
    }, 250);
  }
}
