/**
 * Round five's attacks on draw to train, on the host's side: scripted students over real FramedLinks
 * (an in-memory channel pair) against peerWorkerHandle and ClassData. A student that never answers
 * the federated evaluation, one that answers an evaluation never asked or for another one, one that
 * answers for other counts than it reported, and one that floods its drawings: each is left out or
 * disconnected, nothing throws out of a listener, the host holds a bounded amount per student, and
 * the class figure is the honest students' own.
 */
import {
  FramedLink,
  MAX_CLASS_DIGITS,
  MAX_SHARED_THUMBNAILS,
  type Message,
  msg,
  THUMBNAIL_PIXELS,
} from '@gradroom/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassData } from '../../src/room/class-data.js';
import { type PeerWorkerHandle, peerWorkerHandle } from '../../src/transports/peer.js';
import { channelPair, until } from './helpers.js';

const digits = (n: number) => new Array<number>(MAX_CLASS_DIGITS).fill(n);

interface Student {
  handle: PeerWorkerHandle;
  /** Sends a message as this student. */
  say(m: Message): Promise<void>;
  /** class-eval requests it received. */
  asked: number[];
  logs: string[];
}

const open: PeerWorkerHandle[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close('test over');
});

/** A student whose answer to class-eval `evalId` is `answer` (none: it never answers). */
function student(
  id: string,
  answer?: (evalId: number) => Message | undefined,
  local?: (round: number, version: number) => Message | undefined,
): Student {
  const [hostSide, peerSide] = channelPair();
  const logs: string[] = [];
  const hostLink = new FramedLink(hostSide);
  const handle = peerWorkerHandle({ id, name: id, link: hostLink, log: (l) => logs.push(l), heartbeatMs: 60_000 });
  open.push(handle);
  const peerLink = new FramedLink(peerSide);
  const asked: number[] = [];
  peerLink.onMessage((m) => {
    if (m.type === 'local') {
      const a = local?.(m.round, m.version);
      if (a) void peerLink.send(a);
      return;
    }
    if (m.type !== 'class-eval') return;
    asked.push(m.evalId);
    const a = answer?.(m.evalId);
    if (a) void peerLink.send(a);
  });
  return { handle, say: (m) => peerLink.send(m), asked, logs };
}

const drawings = (heldOut: number[]) => msg({ type: 'drawings', counts: digits(2), heldOut });
const weights = new Float32Array(10).fill(0.5);

describe('draw to train: hostile students on the host side', () => {
  it('a student that never answers is asked once, not once per evaluation: the host holds one request for it', async () => {
    const logs: string[] = [];
    const data = new ClassData(undefined, (l) => logs.push(l));
    const silent = student('silent');
    const honest = student('honest', (evalId) =>
      msg({ type: 'class-evaluated', evalId, correct: digits(1), count: digits(3) }),
    );
    data.track(silent.handle, 'silent');
    data.track(honest.handle, 'honest');
    await silent.say(drawings(digits(5)));
    await honest.say(drawings(digits(3)));
    await until(() => data.report().students === 2, 2000, 'both students counted');
    for (let i = 0; i < 40; i++) {
      const r = await data.evaluate(weights, 20);
      // the figure is the honest student's own: 10 of 30
      expect(r).toMatchObject({ members: 1, accuracy: 10 / 30 });
    }
    expect(honest.asked).toHaveLength(40);
    // asked once; while that request is open it is left out without another one piling up
    expect(silent.asked).toHaveLength(1);
    expect(logs.filter((l) => /class evaluation: silent left out/.test(l)).length).toBe(40);
    // it is still in the room (a slow tab is not a hostile one), and its late answer is taken next time
    expect(silent.handle.violation).toBeUndefined();
  });

  it('a late answer is still paired with its request, and the student is asked again after it', async () => {
    let hold = true;
    const pending: number[] = [];
    const s = student('slow', (evalId) => {
      if (hold) {
        pending.push(evalId);
        return undefined;
      }
      return msg({ type: 'class-evaluated', evalId, correct: digits(2), count: digits(4) });
    });
    const data = new ClassData();
    data.track(s.handle, 'slow');
    await s.say(drawings(digits(4)));
    await until(() => data.report().students === 1, 2000, 'counted');
    expect(await data.evaluate(weights, 20)).toBeNull();
    // answers late: paired with the open request; no violation
    hold = false;
    await s.say(msg({ type: 'class-evaluated', evalId: pending[0], correct: digits(2), count: digits(4) }));
    // once the answer is in, the next evaluation asks again (until then it is left out, not asked)
    let r: Awaited<ReturnType<ClassData['evaluate']>> = null;
    for (let i = 0; i < 100 && !r; i++) {
      r = await data.evaluate(weights, 2000);
      if (!r) await new Promise((ok) => setTimeout(ok, 20));
    }
    expect(r).toMatchObject({ members: 1, accuracy: 0.5 });
    expect(s.asked).toHaveLength(2);
    expect(s.handle.violation).toBeUndefined();
  });

  it('an evaluation asked while a slow student still works on the last one waits for that answer, then counts it', async () => {
    // answers 150 ms after each request: the second evaluation starts while the first is open
    const s = student('slow', (evalId) => {
      setTimeout(() => void s.say(msg({ type: 'class-evaluated', evalId, correct: digits(3), count: digits(4) })), 150);
      return undefined;
    });
    const data = new ClassData();
    data.track(s.handle, 'slow');
    await s.say(drawings(digits(4)));
    await until(() => data.report().students === 1, 2000, 'counted');
    const first = data.evaluate(weights, 2000);
    await new Promise((ok) => setTimeout(ok, 20));
    const second = data.evaluate(weights, 2000);
    expect(await first).toMatchObject({ members: 1, accuracy: 0.75 });
    expect(await second).toMatchObject({ members: 1, accuracy: 0.75 });
    expect(s.asked).toHaveLength(2); // one after the other, never two open at once
    expect(s.handle.violation).toBeUndefined();
  });

  it('an answer never asked for, or for another evaluation, disconnects the student; the class figure is the others’', async () => {
    const data = new ClassData();
    const unasked = student('unasked');
    data.track(unasked.handle, 'unasked');
    await unasked.say(drawings(digits(1)));
    await unasked.say(msg({ type: 'class-evaluated', evalId: 0, correct: digits(1), count: digits(1) }));
    await until(() => unasked.handle.violation !== undefined, 2000, 'violation');
    expect(unasked.handle.violation).toMatch(/class evaluation that was not asked for/);
    await until(() => data.report().students === 0, 2000, 'removed');

    const other = student('other', (evalId) =>
      msg({ type: 'class-evaluated', evalId: evalId + 7, correct: digits(1), count: digits(1) }),
    );
    const honest = student('honest', (evalId) =>
      msg({ type: 'class-evaluated', evalId, correct: digits(0), count: digits(2) }),
    );
    data.track(other.handle, 'other');
    data.track(honest.handle, 'honest');
    await other.say(drawings(digits(1)));
    await honest.say(drawings(digits(2)));
    await until(() => data.report().students === 2, 2000, 'both');
    const r = await data.evaluate(weights, 2000);
    expect(r).toMatchObject({ members: 1, accuracy: 0, count: digits(2) });
    expect(other.handle.violation).toMatch(/not asked for/);
  });

  it('an answer for more drawings than reported is left out: one student bends the figure by its own held-out count at most', async () => {
    const logs: string[] = [];
    const data = new ClassData(undefined, (l) => logs.push(l));
    const liar = student('liar', (evalId) =>
      msg({ type: 'class-evaluated', evalId, correct: digits(1000), count: digits(1000) }),
    );
    const honest = student('honest', (evalId) =>
      msg({ type: 'class-evaluated', evalId, correct: digits(1), count: digits(4) }),
    );
    data.track(liar.handle, 'liar');
    data.track(honest.handle, 'honest');
    await liar.say(drawings(digits(2)));
    await honest.say(drawings(digits(4)));
    await until(() => data.report().students === 2, 2000, 'both');
    const r = await data.evaluate(weights, 2000);
    expect(r).toMatchObject({ members: 1, accuracy: 0.25 });
    expect(logs.some((l) => /liar left out: answered for 1000,.* having reported 2,/.test(l))).toBe(true);
  });

  it('a flood of drawings: the host keeps the last per student (at most 30 thumbnails), and a throwing listener loses nothing', async () => {
    const data = new ClassData();
    const s = student('flood');
    data.track(s.handle, 'flood');
    s.handle.onClassData(() => {
      throw new Error('the page broke');
    });
    const shared = new Uint8Array(MAX_SHARED_THUMBNAILS * THUMBNAIL_PIXELS).fill(200);
    const sharedDigits = Array.from({ length: MAX_SHARED_THUMBNAILS }, (_, i) => i % MAX_CLASS_DIGITS);
    const N = 2000;
    for (let i = 0; i < N; i++)
      void s.say(msg({ type: 'drawings', counts: digits(i % 1000), heldOut: digits(1), shared, sharedDigits }));
    await until(() => data.report().counts[0] === (N - 1) % 1000, 10_000, 'the last drawings');
    const r = data.report();
    expect(r.thumbnails).toHaveLength(MAX_SHARED_THUMBNAILS);
    expect(r.students).toBe(1);
    expect(s.handle.violation).toBeUndefined();
    expect(s.logs.filter((l) => /listener failed: the page broke/.test(l)).length).toBeGreaterThan(0);
  });
  it('a student claiming more drawings than a tab holds is disconnected and counts for nothing; the figure is the class’s', async () => {
    const logs: string[] = [];
    const data = new ClassData(undefined, (l) => logs.push(l), { maxDrawings: 30 });
    const liar = student('liar', (evalId) =>
      msg({ type: 'class-evaluated', evalId, correct: digits(0), count: digits(1000) }),
    );
    const honest = student('honest', (evalId) =>
      msg({ type: 'class-evaluated', evalId, correct: digits(1), count: digits(1) }),
    );
    data.track(liar.handle, 'liar');
    data.track(honest.handle, 'honest');
    await honest.say(drawings(digits(1)));
    // 10 x 2 training + 10 x 1,000 held out: within the protocol's bound, far past a tab's 30
    await liar.say(drawings(digits(1000)));
    await until(() => liar.handle.violation !== undefined, 2000, 'the liar disconnected');
    expect(liar.handle.violation).toMatch(/claimed 10020 drawings; a student's tab holds at most 30/);
    const report = data.report();
    expect(report.heldOut).toEqual(digits(1));
    expect(report.students).toBe(1);
    const r = await data.evaluate(weights, 2000);
    expect(r).toMatchObject({ members: 1, accuracy: 1, count: digits(1) });
    expect(liar.asked).toHaveLength(0);
    expect(logs.some((l) => /liar disconnected: claimed 10020 drawings/.test(l))).toBe(true);
    // an honest tab at the limit stays
    const full = student('full');
    data.track(full.handle, 'full');
    await full.say(msg({ type: 'drawings', counts: digits(2), heldOut: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] }));
    await until(() => data.report().students === 2, 2000, 'the full tab counted');
    expect(full.handle.violation).toBeUndefined();
  });
  it('a student claiming more own examples in a round than a tab holds is disconnected; the class figure does not count them', async () => {
    const data = new ClassData(undefined, () => {}, { maxDrawings: 30 });
    const answer = (ownExamples: number) => (round: number, version: number) =>
      msg({
        type: 'local-result',
        round,
        version,
        delta: new Float32Array(4),
        lossSum: 1,
        correct: 0,
        count: 2,
        computeMs: 1,
        backend: 'cpu',
        ownExamples,
      });
    const honest = student('honest', undefined, answer(24));
    const liar = student('liar', undefined, answer(10_000));
    const req = {
      round: 0,
      version: 0,
      batches: [Uint32Array.of(0, 1)],
      lrs: [0.1],
      inner: { kind: 'sgd', lr: 0.1 } as const,
      compress: 'none' as const,
    };
    for (const s of [honest, liar]) {
      data.track(s.handle, s === liar ? 'liar' : 'honest');
      await s.handle.trainLocal?.(req).catch(() => {});
    }
    await until(() => liar.handle.violation !== undefined, 2000, 'the liar disconnected');
    expect(liar.handle.violation).toMatch(/claimed 10000 own examples in a round/);
    expect(data.report().ownExamples).toBe(24);
    expect(honest.handle.violation).toBeUndefined();
  });
});
