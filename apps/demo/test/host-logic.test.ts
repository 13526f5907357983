// The host page's logic without a browser: the run's series and its decimation for the charts,
// tick labels, the roster of people (rejoin keeps one row), the summary CSV, "room vs fastest
// member alone", and when a volunteer tab retries joining.
import type { IterationEvent, WorkerStatus } from '@gradroom/coordinator/browser';
import { describe, expect, it } from 'vitest';
import { speedText, tickLabels, timedSpeed } from '../src/host/format.js';
import { backoffMs, MAX_ATTEMPTS, shouldRetry } from '../src/host/reconnect.js';
import { cleanName, Roster } from '../src/host/roster.js';
import { csvText, decimate, ITERATION_COLUMNS, RunSeries } from '../src/host/series.js';
import { explainSpeed, speedRatio } from '../src/host/speed.js';
import { DRAWING_MS, doing, summaryCsv } from '../src/host/workers.js';

function event(i: number, over: Partial<IterationEvent> = {}): IterationEvent {
  return {
    epoch: Math.floor((i - 1) / 10),
    batch: (i - 1) % 10,
    batchesPerEpoch: 10,
    iteration: i,
    examples: 64,
    loss: 2 / i,
    lossSmoothed: 2 / i + 0.1,
    lossSmoothedRaw: 1 / i,
    accuracy: 0.5,
    lr: 0.01,
    examplesPerSec: 1000,
    timing: { totalMs: 60, computeMs: 20, transferMs: 30, waitMs: 5, stepMs: 5 },
    bytes: { out: 4000, in: 4000 },
    fastestAloneExamplesPerSec: 2000,
    replanned: 0,
    workers: [],
    ...over,
  };
}

describe('decimate', () => {
  it('keeps every index of a short series', () => {
    expect(decimate([3, 1, 2], 10)).toEqual([0, 1, 2]);
  });

  it('caps a long series, keeps first, last and every bucket extreme, in order', () => {
    const n = 100_000;
    const ys = Array.from({ length: n }, (_, i) => Math.sin(i / 500) + (i === 54_321 ? 50 : 0));
    const idx = decimate(ys, 1000);
    expect(idx.length).toBeLessThanOrEqual(1000);
    expect(idx.length).toBeGreaterThan(900);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(n - 1);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
    expect(idx).toContain(54_321); // the spike survives
    // the drawn range equals the full range
    const drawn = idx.map((i) => ys[i]);
    expect(Math.max(...drawn)).toBe(Math.max(...ys));
    expect(Math.min(...drawn)).toBe(Math.min(...ys));
  });

  it('costs the same number of points at 10,000 and 1,000,000', () => {
    const a = decimate(new Array(10_000).fill(0).map(Math.random), 1200).length;
    const b = decimate(new Array(1_000_000).fill(0).map(Math.random), 1200).length;
    expect(Math.abs(a - b)).toBeLessThanOrEqual(2);
  });
});

describe('RunSeries', () => {
  it('records every iteration, counts steps, truncates to a checkpoint, and round-trips its record', () => {
    const s = new RunSeries();
    for (let i = 1; i <= 25; i++) s.push(event(i));
    s.pushEpoch({
      epoch: 0,
      iteration: 10,
      trainLoss: 1,
      trainAccuracy: 0.6,
      testLoss: 0.9,
      testAccuracy: 0.7,
      seconds: 1,
    });
    s.pushEpoch({
      epoch: 1,
      iteration: 20,
      trainLoss: 0.5,
      trainAccuracy: 0.8,
      testLoss: 0.4,
      testAccuracy: 0.85,
      seconds: 1,
    });
    expect(s.length).toBe(25);
    expect(s.steps).toBe(25 * 64);
    const copy = new RunSeries();
    copy.load(JSON.parse(JSON.stringify(s.record())));
    copy.truncate(20);
    expect(copy.cols.iteration).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(copy.steps).toBe(20 * 64);
    expect(copy.epochs.map((e) => e.iteration)).toEqual([10, 20]);
    for (const c of ITERATION_COLUMNS) expect(copy.cols[c].length).toBe(20);
  });

  it('refuses a record whose columns disagree', () => {
    const s = new RunSeries();
    s.push(event(1));
    const r = s.record();
    r.iterations.loss.push(1);
    expect(() => new RunSeries().load(r)).toThrow(/not readable/);
  });

  it('writes one CSV row per iteration, with the test figures on the iteration that ended an epoch', () => {
    const s = new RunSeries();
    for (let i = 1; i <= 10; i++) s.push(event(i));
    s.pushEpoch({
      epoch: 0,
      iteration: 10,
      trainLoss: 1,
      trainAccuracy: 0.6,
      testLoss: 0.9,
      testAccuracy: 0.7,
      seconds: 1,
    });
    const lines = s.iterationsCsv().trim().split('\n');
    expect(lines.length).toBe(11);
    const head = lines[0].split(',');
    expect(head[0]).toBe('iteration');
    expect(head.at(-2)).toBe('testAccuracy');
    const row = (i: number) => Object.fromEntries(lines[i].split(',').map((v, k) => [head[k], v]));
    expect(row(3).loss).toBe(String(2 / 3));
    expect(row(3).computeMs).toBe('20');
    expect(row(3).testAccuracy).toBe('');
    expect(row(10).testAccuracy).toBe('0.7');
  });
});

describe('tick labels', () => {
  it('never give two neighbouring ticks the same label', () => {
    for (const ticks of [
      [0, 0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003],
      [0.0021, 0.0022, 0.0023],
      [0, 0.2, 0.4, 0.6],
      [0, 500, 1000, 1500],
      [1e-5, 2e-5, 3e-5],
      [0, 0.25, 0.5, 0.75, 1, 1.25, 2.25],
    ]) {
      const labels = tickLabels(ticks);
      expect(new Set(labels).size).toBe(labels.length);
      labels.forEach((l, i) => expect(Number(l)).toBeCloseTo(ticks[i], 12));
    }
    expect(tickLabels([0, 0.001, 0.002, 0.003])).toEqual(['0.000', '0.001', '0.002', '0.003']);
    expect(tickLabels([1.5, 1.75, 2, 2.25])).toEqual(['1.50', '1.75', '2.00', '2.25']);
    // a log axis passes null for the ticks it leaves unlabelled
    expect(tickLabels([0.1, null, 0.3, 1, null, 3])).toEqual(['0.1', '', '0.3', '1.0', '', '3.0']);
    expect(tickLabels([null])).toEqual(['']);
  });
});

describe('Roster', () => {
  let clock = 0;
  const status = (id: string, examples: number, s: WorkerStatus['status'] = 'ready'): WorkerStatus => ({
    id,
    kind: 'peer',
    backend: 'wasm',
    speed: 100,
    share: 0.5,
    examples,
    status: s,
  });

  it('a student who leaves and rejoins keeps one row, with examples and time of both sessions', () => {
    clock = 0;
    const r = new Roster(() => clock);
    r.join('p1', 'Alice');
    expect(r.present()).toEqual([]); // announced by the server, not connected yet
    r.join('p1', 'Alice', 'direct', true);
    expect(r.present().map((p) => p.name)).toEqual(['Alice']);
    r.update([status('p1', 300)]);
    clock = 10_000;
    r.leave('p1', 'paused by the volunteer');
    expect(r.list()[0].left).toBeTruthy();
    expect(r.present()).toEqual([]);
    clock = 15_000;
    const again = r.join('p2', 'alice');
    r.update([status('p2', 200)]);
    clock = 20_000;
    expect(r.list()).toHaveLength(1);
    expect(again.sessions).toBe(2);
    expect(r.examples(again)).toBe(500);
    expect(r.ms(again)).toBe(15_000);
    expect(r.get('p1')?.key).toBe(r.get('p2')?.key);
    // a late status of the old session does not overwrite the new one
    r.update([status('p1', 9999)]);
    expect(r.examples(again)).toBe(500);
  });

  it('the projector says a student is drawing when they kept a drawing in the last 20 s, unless they train', () => {
    clock = 0;
    const r = new Roster(() => clock);
    const p = r.join('p1', 'Ana', 'direct', true);
    const now = 1_000_000;
    // before a run: drawing, then waiting again once the drawing is 20 s old
    expect(doing(p, false, now - 1000, now)).toBe('drawing');
    expect(doing(p, false, now - DRAWING_MS, now)).toBe('waiting for a run');
    expect(doing(p, false, undefined, now)).toBe('waiting for a run');
    // in a run: standing by while drawing says drawing; training says training (the drawings train too)
    r.update([status('p1', 0, 'standby')]);
    expect(doing(p, true, now - 1000, now)).toBe('drawing');
    expect(doing(p, true, undefined, now)).toBe('standing by');
    r.update([status('p1', 64, 'busy')]);
    expect(doing(p, true, now - 1000, now)).toBe('training');
  });

  it('one ledger per run: a new run counts from zero, and a saved ledger carries over a reload', () => {
    clock = 0;
    const r = new Roster(() => clock);
    r.join('p1', 'Ana', 'direct', true);
    r.join('p2', 'Ben', 'direct', true);
    clock = 60_000; // a minute in the room before the run starts
    r.newRun();
    r.update([status('p1', 700), status('p2', 300)]);
    clock = 76_000;
    r.endRun();
    clock = 90_000; // the clock stops with the run
    const ana = r.list().find((p) => p.name === 'Ana');
    if (!ana) throw new Error('no row');
    expect(r.ms(ana)).toBe(16_000);
    expect(r.examples(ana)).toBe(700);
    const saved = r.record();
    expect(saved.reduce((a, p) => a + p.examples, 0)).toBe(1000);

    // the host page reloads: a fresh roster; Ben is back before the run resumes, Ana after it
    const again = new Roster(() => clock);
    again.join('p3', 'Ben', 'direct', true);
    again.newRun();
    again.restore(saved);
    expect(again.list().find((p) => p.name === 'Ana')?.left).toMatch(/away/);
    again.update([status('p3', 50)]);
    again.join('p4', 'Ana', 'direct', true);
    again.update([status('p4', 20)]);
    const byName = Object.fromEntries(again.list().map((p) => [p.name, again.examples(p)]));
    expect(byName).toEqual({ Ben: 350, Ana: 720 });
    expect(again.present()).toHaveLength(2);
    // a corrupt entry is skipped, not counted
    again.restore([{ key: 'v:eve', name: 'Eve', local: false, sessions: 1, examples: Number.NaN, ms: 0 }]);
    expect(again.list()).toHaveLength(2);
  });

  it('shows a speed only when a second of compute stands behind it', () => {
    // Ben's probe: 500 examples "at" 69,789/s is 7 ms of work, mostly latency
    expect(timedSpeed(69_789, 500)).toBe('measuring');
    expect(speedText(69_789, 500)).toBe('measuring');
    expect(timedSpeed(2000, 1999)).toBe('measuring');
    expect(timedSpeed(2000, 2000)).toBe(2000);
    expect(speedText(2345.6, 10_000)).toBe('2,346');
    expect(timedSpeed(0, 10_000)).toBe('measuring');
    expect(timedSpeed(Number.NaN, 10_000)).toBe('measuring');
    expect(timedSpeed(100, 0)).toBe('measuring');
  });

  it('two tabs under one name at once get two rows; names are cleaned', () => {
    const r = new Roster(() => 0);
    r.join('a', 'Bob');
    r.join('b', 'Bob');
    r.join('c', 'bob');
    expect(r.list().map((p) => p.name)).toEqual(['Bob', 'Bob (2)', 'Bob (3)']);
    expect(cleanName('\u0007 Eve\u202e \n', 'x')).toBe('Eve');
    expect(cleanName('   ', 'volunteer')).toBe('volunteer');
    expect(cleanName('x'.repeat(100), '')).toHaveLength(40);
  });

  it('the summary CSV has one row per person and one for the room; shares add up to 1', () => {
    const r = new Roster(() => 0);
    r.join('a', '=cmd|calc, "x"');
    r.local('w1', 'This tab, Web Worker 1');
    r.update([status('a', 300), status('w1', 100)]);
    const lines = summaryCsv(r, { examples: 400, seconds: 12.4, testAccuracy: 0.9123 }).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1].startsWith(`"'=cmd|calc, ""x"""`)).toBe(true); // quoted, and no formula
    const shares = lines.slice(1, 3).map((l) => Number(l.split(',').at(-4)));
    expect(shares[0] + shares[1]).toBeCloseTo(1, 6);
    expect(lines[3]).toBe('the room,all,,400,1,12,,test accuracy 91.2%');
    expect(csvText('plain')).toBe('plain');
  });
});

describe('room vs fastest member alone', () => {
  it('is the ratio of the recent means, and says communication dominates when it does', () => {
    const s = new RunSeries();
    for (let i = 1; i <= 30; i++) s.push(event(i));
    const r = speedRatio(s);
    expect(r.room).toBe(1000);
    expect(r.alone).toBe(2000);
    expect(r.ratio).toBe(0.5);
    expect(explainSpeed(s, r)).toMatch(/^Communication dominates: .*35 ms.*20 ms computing\. That is why .*0\.50×/);
    const c = new RunSeries();
    for (let i = 1; i <= 30; i++)
      c.push(
        event(i, { examplesPerSec: 3000, timing: { totalMs: 50, computeMs: 40, transferMs: 5, waitMs: 3, stepMs: 2 } }),
      );
    expect(explainSpeed(c, speedRatio(c))).toMatch(/^Compute dominates: 40 ms .* 1\.50× as fast/);
  });
});

describe('volunteer reconnecting', () => {
  it('retries while the host is away or the link broke, not after a refusal or the volunteer’s own choice', () => {
    expect(shouldRetry("room server refused: the room's coordinator is not connected")).toEqual({
      retry: true,
      waitingFor: 'host',
    });
    expect(shouldRetry('channel closed: data channel error: User-Initiated Abort, reason=Close called')).toMatchObject({
      retry: true,
    });
    expect(shouldRetry('room server: the coordinator left')).toMatchObject({ retry: true, waitingFor: 'host' });
    expect(shouldRetry('room server refused: unknown room or wrong token')).toEqual({ retry: false });
    expect(shouldRetry('room server refused: the room is full')).toEqual({ retry: false });
    expect(shouldRetry('paused by the volunteer')).toEqual({ retry: false });
    expect(shouldRetry('room server: the room expired')).toEqual({ retry: false });
  });

  it('backs off 1, 2, 4, 8 s then every 10 s, for about ten minutes', () => {
    expect([0, 1, 2, 3, 4, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    let total = 0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) total += backoffMs(i);
    expect(total / 60_000).toBeGreaterThan(8);
    expect(total / 60_000).toBeLessThan(12);
  });
});
