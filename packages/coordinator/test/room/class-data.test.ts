/**
 * Draw to train in a real room (room server, RoomHost, three in-process volunteers over the server's
 * relay, mode local on MNIST): each volunteer's drawings (MNIST test digits stand in for them) are
 * mixed into its inner steps, and
 * - the shared ledger stays exact: the rounds account for every shared mini-batch once, no more;
 * - the own examples come back as counts only, and no message a volunteer sends holds a drawing;
 * - the federated evaluation sums each tab's held-out answer per digit, equal to a forward pass
 *   written out here, before and after the drawings trained; a tab that answers for counts other
 *   than it reported, or a listener that throws, loses nothing.
 */
import { readFile } from 'node:fs/promises';
import type { Message } from '@gradroom/core';
import { gather, parseMnist, ShardWorker } from '@gradroom/worker';
import { readPackedFile } from '@gradroom/worker/node-thread';
import { type DrawingsSummary, joinRoom, type Volunteer } from '@gradroom/worker/peer';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { ClassData } from '../../src/room/class-data.js';
import { hostRoom, nodeRtc } from '../../src/room/node.js';
import { RoomServer } from '../../src/room/server.js';
import { Trainer } from '../../src/trainer.js';
import { MNIST_BIN, mnistJob, until } from './helpers.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const HIDDEN = 32;
/** Dense 784-32-10 with relu from flat weights, written out: the predicted digit of each example. */
function predict(w: Float32Array, x: Float32Array): number[] {
  const h = HIDDEN;
  const [k1, b1, k2, b2] = [0, 784 * h, 784 * h + h, 784 * h + h + h * 10];
  const out: number[] = [];
  for (let e = 0; e < x.length / 784; e++) {
    const a = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let s = w[b1 + j];
      for (let i = 0; i < 784; i++) s += x[e * 784 + i] * w[k1 + i * h + j];
      a[j] = Math.max(0, s);
    }
    let best = 0;
    let bestV = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < 10; c++) {
      let s = w[b2 + c];
      for (let j = 0; j < h; j++) s += a[j] * w[k2 + j * 10 + c];
      if (s > bestV) [best, bestV] = [c, s];
    }
    out.push(best);
  }
  return out;
}

function perDigit(w: Float32Array, x: Float32Array, y: Int32Array) {
  const said = predict(w, x);
  const correct = new Array(10).fill(0);
  const count = new Array(10).fill(0);
  y.forEach((d, i) => {
    count[d]++;
    if (said[i] === d) correct[d]++;
  });
  return { correct, count };
}

const counts = (y: Int32Array) => {
  const c = new Array(10).fill(0);
  for (const d of y) c[d]++;
  return c;
};

describe('draw to train in a room', () => {
  it('mixes drawings in, keeps the shared ledger exact, evaluates per digit, and sends no drawing', {
    timeout: 120_000,
  }, async () => {
    const logs: string[] = [];
    onTestFailed(() => console.error(logs.slice(-80).join('\n')));
    const server = await RoomServer.start({ port: 0, log: (l) => logs.push(`[server] ${l}`) });
    cleanup.push(() => server.close());
    const room = server.createRoom();
    const ITERATIONS = 12;
    const trainer = new Trainer(
      { ...mnistJob(ITERATIONS), mode: { kind: 'local', steps: 2, outer: { kind: 'sgd', lr: 1 } } },
      { waitForWorkers: true, firstDeadlineMs: 60_000 },
    );
    const rounds: { examples: number; epoch: number }[] = [];
    trainer.on('iteration', (e) => rounds.push({ examples: e.examples, epoch: e.epoch }));
    let changes = 0;
    const classData = new ClassData(
      () => {
        changes++;
        if (changes === 1) throw new Error('a listener that throws');
      },
      (l) => logs.push(`[class] ${l}`),
    );
    const received: { from: string; m: Message }[] = [];
    const host = await hostRoom({
      url: server.wsUrl,
      token: room.token,
      hostKey: room.hostKey,
      trainer,
      onPeer: (handle, name) => classData.track(handle, name),
      tap: (from, m) => received.push({ from, m }),
      log: (l) => logs.push(`[host] ${l}`),
    });
    cleanup.push(() => host.close());

    // three students, 8 training drawings and 2 held out each (MNIST test digits stand in for them)
    const test = parseMnist(new Uint8Array(await readFile(MNIST_BIN)), 'test');
    const students: { v: Volunteer; heldX: Float32Array; heldY: Int32Array; trainX: Float32Array }[] = [];
    for (let s = 0; s < 3; s++) {
      // spread over the test split (it may be ordered by digit)
      const idx = (from: number, n: number) => Uint32Array.from({ length: n }, (_, i) => (from + i) * 61);
      const train = gather(test, idx(s * 10, 8));
      const held = gather(test, idx(s * 10 + 8, 2));
      const engine = new ShardWorker(readPackedFile);
      await engine.setOwnExamples({
        x: train.x,
        y: train.y as Int32Array,
        heldX: held.x,
        heldY: held.y as Int32Array,
      });
      const v = await joinRoom({
        ...nodeRtc(),
        url: server.wsUrl,
        token: room.token,
        name: `student ${s}`,
        engine,
        // one tfjs in this process for all three: cpu (three wasm inits at once fail)
        backends: ['cpu'],
        relay: 'always',
        log: (l) => logs.push(`[s${s}] ${l}`),
      });
      cleanup.push(() => v.leave('test over'));
      const summary: DrawingsSummary = { counts: counts(train.y as Int32Array), heldOut: counts(held.y as Int32Array) };
      v.setDrawings(summary);
      students.push({ v, heldX: held.x, heldY: held.y as Int32Array, trainX: train.x });
    }
    await until(() => classData.report().students === 3, 20_000, 'three drawings reports');
    await until(() => trainer.pool.ready().length === 3, 60_000, 'three volunteers set up');

    const expected = (w: Float32Array) => {
      const correct = new Array(10).fill(0);
      const count = new Array(10).fill(0);
      for (const s of students) {
        const r = perDigit(w, s.heldX, s.heldY);
        r.correct.forEach((c, i) => {
          correct[i] += c;
          count[i] += r.count[i];
        });
      }
      return { correct, count };
    };
    // paused before its first round, the run has its starting weights: the class's 'before'
    expect(await classData.evaluate(trainer.getWeights())).toBeNull();
    trainer.pause();
    const running = trainer.run();
    await until(() => trainer.getWeights().length > 0, 10_000, 'the starting weights');
    const w0 = trainer.getWeights();
    const before = await classData.evaluate(w0);
    expect(before).toMatchObject({ ...expected(w0), members: 3, trained: false });
    expect(before?.count.filter((n) => n > 0).length).toBeGreaterThan(2);
    trainer.resume();
    const result = await running;
    expect(result.position.iteration).toBe(ITERATIONS);
    // the shared ledger: every shared mini-batch of 64 counted once, the drawings in none of it
    expect(rounds.reduce((a, r) => a + r.examples, 0)).toBe(ITERATIONS * 64);
    const report = classData.report();
    expect(report.counts.reduce((a, b) => a + b, 0)).toBe(24);
    expect(report.heldOut.reduce((a, b) => a + b, 0)).toBe(6);
    // each local round of each student mixed its 8 drawings in, reported as a count
    const results = received.filter((r) => r.m.type === 'local-result');
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect((r.m as { ownExamples?: number }).ownExamples).toBe(8);
    expect(report.ownExamples).toBe(8 * results.length);

    const w1 = trainer.getWeights();
    const after = await classData.evaluate(w1);
    expect(after).toMatchObject({ ...expected(w1), members: 3, trained: true });
    expect(classData.before).toBe(before);
    expect(classData.now).toBe(after);

    // no drawing in anything a student sent: no typed array or list holds a drawing's pixels
    const drawn = students.flatMap((s) => [s.trainX, s.heldX]);
    const holds = (a: ArrayLike<number>, x: Float32Array) => {
      for (let k = 0; k + 784 <= x.length; k += 784) {
        const img = x.subarray(k, k + 784);
        for (let o = 0; o + 784 <= a.length; o++) {
          let same = true;
          for (let i = 0; i < 784 && same; i++) same = Math.abs(a[o + i] - img[i]) < 1e-6;
          if (same) return true;
        }
      }
      return false;
    };
    const types = new Set(received.map((r) => r.m.type));
    expect(types.has('drawings') && types.has('class-evaluated')).toBe(true);
    for (const { m } of received)
      for (const value of Object.values(m)) {
        if (!ArrayBuffer.isView(value) && !Array.isArray(value)) continue;
        const a = value as ArrayLike<number>;
        expect(a.length % 784 === 0 && a.length > 0, `${m.type} holds ${a.length} values`).toBe(false);
        if (a.length >= 784) for (const x of drawn) expect(holds(a, x)).toBe(false);
      }

    // a tab that answers for other counts than it reported is left out, logged; the others count
    students[0].v.setDrawings({ counts: new Array(10).fill(0), heldOut: new Array(10).fill(1) });
    await until(() => classData.report().heldOut.reduce((a, b) => a + b, 0) === 14, 10_000, 'the new report');
    const partial = await classData.evaluate(w1);
    expect(partial?.members).toBe(2);
    expect(logs.some((l) => /student 0 left out: answered for/.test(l))).toBe(true);

    // a run resumed from a checkpoint may have trained on drawings already: it has no 'before'
    classData.newRun(true);
    expect(classData.before).toBeUndefined();
    expect((await classData.evaluate(w1))?.trained).toBe(true);
    expect(classData.before).toBeUndefined();
    classData.newRun();
    expect((await classData.evaluate(w1))?.trained).toBe(false);
    expect(classData.before).toBe(classData.now);
  });
});
