/**
 * `gradroom train --mode local` as a user runs it (issue 9): a real process with real worker
 * threads trains in rounds of H inner steps with int8 pseudo-gradients, and sends far fewer bytes
 * per example than exact mode; bad values exit 2 naming the flag; --resume compares the mode.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/checkpoint.js';
import { jobFromFlags, modeFromFlags } from '../src/cli/job-flags.js';
import { resumeJob } from '../src/cli/resume.js';
import { DEFAULT_OUTER, outerOf } from '../src/job.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'gradroom-cli-modes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Iteration {
  event: 'iteration';
  iteration: number;
  examples: number;
  loss: number;
  bytes: { in: number; out: number };
  round?: { steps: number; groups: number };
}

function events(stdout: string) {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
}

const iterations = (stdout: string) => events(stdout).filter((e) => e.event === 'iteration') as unknown as Iteration[];
const bytesInPerExample = (its: Iteration[]) =>
  its.reduce((a, e) => a + e.bytes.in, 0) / its.reduce((a, e) => a + e.examples, 0);

// 600 examples in mini-batches of 50: 12 iterations an epoch
const small = ['--dataset', 'synthetic', '--examples', '600', '--workers', '2', '--seed', '3', '--batch-size', '50'];

describe('gradroom train --mode', () => {
  it('--mode auto measures in exact mode, then says what it chose and why', () => {
    const r = run(['train', ...small, '--mode', 'auto', '--outer-optimizer', 'sgd', '--epochs', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const its = iterations(r.stdout);
    expect(its.reduce((n, e) => n + e.examples, 0)).toBe(600);
    const autos = its.map((e) => (e as unknown as { auto: { mode: string; reason: string } }).auto);
    expect(autos[0]).toMatchObject({ mode: 'exact', reason: 'mode exact while the members are measured' });
    expect(autos.at(-1)?.reason).toMatch(
      /^mode (exact|local, H = \d+( \(\d+ steps a round: the epoch is short\))?): .*predicted/,
    );
    const logs = events(r.stdout).filter((e) => e.event === 'log' && String(e.message).includes('mode auto'));
    expect(logs).toHaveLength(1);
  });

  it('--mode local --local-steps 4 --compress int8 trains in rounds of 4 steps per worker, with far fewer bytes than exact', () => {
    const local = run([
      'train',
      ...small,
      '--mode',
      'local',
      '--local-steps',
      '4',
      '--compress',
      'int8',
      '--warm-start',
      '0', // rounds from the start: this test is about them, not the warm start
      '--epochs',
      '1',
      '--json',
    ]);
    expect(local.code, local.stderr).toBe(0);
    const rounds = iterations(local.stdout);
    // 2 workers x 4 steps = 8 mini-batches a round: 8, then the epoch's last 4
    expect(rounds.map((e) => e.iteration)).toEqual([8, 12]);
    expect(rounds.map((e) => e.examples)).toEqual([400, 200]);
    expect(rounds[0].round).toEqual({ steps: 4, groups: 2 });
    const done = events(local.stdout).at(-1) as { event: string; iterations: number; testAccuracy: number };
    expect(done).toMatchObject({ event: 'done', iterations: 12 });
    expect(done.testAccuracy).toBeGreaterThan(0.5); // 10 blobs: chance is 0.1
    expect(rounds[1].loss).toBeLessThan(rounds[0].loss);

    const exact = run(['train', ...small, '--epochs', '1', '--json']);
    expect(exact.code, exact.stderr).toBe(0);
    const its = iterations(exact.stdout);
    expect(its).toHaveLength(12);
    expect(its[0].round).toBeUndefined();
    // exact: a float32 gradient per shard per mini-batch; local: one int8 change per 4 mini-batches
    const ratio = bytesInPerExample(rounds) / bytesInPerExample(its);
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(0.1);
  });

  it('the summary names the mode and its outer optimizer', () => {
    const r = run([
      'train',
      ...small,
      '--mode',
      'local',
      '--local-steps',
      'auto',
      '--outer-optimizer',
      'sgd',
      '--outer-lr',
      '1',
      '--max-iterations',
      '4',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /mode {7}local, auto inner steps per round, outer kind=sgd lr=1, compress int8 for peers, none for threads/,
    );
    // the warm start is on by default, and said
    expect(r.stdout).toMatch(/exact for the first 160 iterations/);
    const plain = run(['train', ...small, '--max-iterations', '2']);
    expect(plain.stdout).toMatch(/mode {7}exact/);
  });

  it('the flags reach the trainer: --local-steps 1 with inner and outer SGD at lr 1 trains the weights of exact mode', () => {
    const base = [...small, '--workers', '1', '--optimizer', 'sgd', '--lr', '0.05', '--max-iterations', '6'];
    const weights = (name: string, flags: string[]) => {
      const dir = join(tmp, name);
      const r = run(['train', ...base, ...flags, '--save-model', dir]);
      expect(r.code, r.stderr).toBe(0);
      const b = readFileSync(join(dir, 'weights.bin'));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const exact = weights('exact', []);
    const anchor = weights('anchor', [
      '--mode',
      'local',
      '--local-steps',
      '1',
      '--outer-optimizer',
      'sgd',
      '--outer-lr',
      '1',
      '--warm-start',
      '0',
    ]);
    const nesterov = weights('nesterov', [
      '--mode',
      'local',
      '--local-steps',
      '1',
      '--outer-optimizer',
      'nesterov',
      '--warm-start',
      '0',
    ]);
    const diff = (a: Float32Array, b: Float32Array) => {
      let d = 0;
      let n = 0;
      for (let i = 0; i < a.length; i++) {
        d += (a[i] - b[i]) ** 2;
        n += b[i] ** 2;
      }
      return Math.sqrt(d / n);
    };
    expect(anchor.length).toBe(exact.length);
    expect(diff(anchor, exact)).toBeLessThanOrEqual(1e-5);
    expect(diff(nesterov, exact)).toBeGreaterThan(1e-3); // DiLoCo's outer step is not plain averaging
  });

  it('the default outer step (sgd at lr 1.5 for H <= 4 and 1 worker, the sweep winner) at H = 1 with inner SGD is exact mode at 1.5 times the learning rate', () => {
    const base = [...small, '--workers', '1', '--optimizer', 'sgd', '--max-iterations', '6'];
    const weights = (name: string, flags: string[]) => {
      const dir = join(tmp, name);
      const r = run(['train', ...base, ...flags, '--save-model', dir]);
      expect(r.code, r.stderr).toBe(0);
      const b = readFileSync(join(dir, 'weights.bin'));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    // one worker, one inner step: w - 1.5 * (w - (w - lr g)) = w - 1.5 lr g
    const local = weights('default-outer', [
      '--lr',
      '0.04',
      '--mode',
      'local',
      '--local-steps',
      '1',
      '--warm-start',
      '0',
    ]);
    const exact = weights('exact-1.5x', ['--lr', '0.06']);
    let d = 0;
    let n = 0;
    for (let i = 0; i < local.length; i++) {
      d += (local[i] - exact[i]) ** 2;
      n += exact[i] ** 2;
    }
    expect(local.length).toBe(exact.length);
    expect(Math.sqrt(d / n)).toBeLessThanOrEqual(1e-5);
  });

  it.each([
    [['--mode', 'fast'], /--mode "fast" is unknown: use exact \(default\) or local/],
    [['--mode', 'local', '--local-steps', '0'], /--local-steps must be auto or an integer from 1 to 10000, got "0"/],
    [['--mode', 'local', '--local-steps', 'many'], /--local-steps must be an integer written in digits, got "many"/],
    [['--mode', 'local', '--compress', 'zip'], /--compress "zip" is unknown: use none, fp16, int8 or topk/],
    [['--compress', 'int8'], /--compress applies only to --mode local/],
    [['--local-steps', '4', '--outer-lr', '0.5'], /--local-steps, --outer-lr apply only to --mode local/],
    [['--mode', 'local', '--outer-optimizer', 'lion'], /--outer-optimizer "lion" is unknown: use nesterov or sgd/],
    [['--mode', 'local', '--outer-optimizer', 'adam'], /--outer-optimizer adam needs --outer-lr/],
    [['--mode', 'local', '--outer-lr', '0'], /--outer-lr must be a positive number, got "0"/],
    [
      ['--mode', 'local', '--outer-restart', '8'],
      /--outer-restart restarts momentum: it needs --outer-optimizer nesterov/,
    ],
    [
      ['--mode', 'local', '--outer-optimizer', 'nesterov', '--outer-restart', '0'],
      /--outer-restart must be an integer >= 1/,
    ],
    [['--outer-restart', '8'], /--outer-restart applies only to --mode local/],
    [['--mode', 'local', '--inner-scale', 'linear'], /--inner-scale "linear" is unknown: use none or sqrt-workers/],
    [['--inner-scale', 'none'], /--inner-scale applies only to --mode local/],
    [['--mode', 'auto', '--local-steps', '4'], /--local-steps cannot be set with --mode auto: it chooses H itself/],
    [['--mode', 'auto', '--warm-start', '3'], /--warm-start cannot be set with --mode auto/],
    [['--mode', 'auto', '--compress', 'zip'], /--compress "zip" is unknown/],
    [['--mode', 'local', '--steps-by-speed', 'maybe'], /--steps-by-speed must be on or off, got "maybe"/],
    [['--steps-by-speed', 'on'], /--steps-by-speed applies only to --mode local/],
    [['--mode', 'local', '--warm-start-steps', '0'], /--warm-start-steps must be an integer from 1 to 10000/],
    [['--mode', 'local', '--warm-start', '0', '--warm-start-steps', '2'], /--warm-start 0 has none/],
    [['--mode', 'auto', '--warm-start-steps', '2'], /--warm-start-steps cannot be set with --mode auto/],
  ])('%j exits 2 with a clear message', (flags, message) => {
    const r = run(['train', ...small, ...flags, '--epochs', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe(''); // refused before any worker started
  });

  it('--outer-restart N restarts the outer momentum every N outer steps', () => {
    expect(modeFromFlags({ mode: 'local', 'outer-optimizer': 'nesterov', 'outer-restart': '8' })).toMatchObject({
      outer: { kind: 'momentum', nesterov: true, lr: 0.7, restartEvery: 8 },
    });
    expect(
      modeFromFlags({ mode: 'local', 'outer-optimizer': 'momentum', 'outer-lr': '0.5', 'outer-restart': '3' }),
    ).toMatchObject({ outer: { kind: 'momentum', lr: 0.5, restartEvery: 3 } });
  });

  it('--overlap: mode local only, off unless given, kept and compared on --resume', () => {
    expect(modeFromFlags({ mode: 'local', overlap: true })).toMatchObject({ kind: 'local', overlap: true });
    expect(modeFromFlags({ mode: 'local' })).not.toHaveProperty('overlap');
    expect(() => modeFromFlags({ overlap: true })).toThrow(/--overlap applies only to --mode local/);
    expect(() => modeFromFlags({ mode: 'auto', overlap: true })).toThrow(/--overlap cannot be set with --mode auto/);
    const on = { job: jobFromFlags({ mode: 'local', overlap: true }).job } as Checkpoint;
    const off = { job: jobFromFlags({ mode: 'local' }).job } as Checkpoint;
    expect(resumeJob({}, on, 'run.ckpt').mode).toMatchObject({ overlap: true });
    expect(resumeJob({ overlap: true }, on, 'run.ckpt').mode).toMatchObject({ overlap: true });
    expect(() => resumeJob({ overlap: true }, off, 'run.ckpt')).toThrow(/--overlap \(saved: false\)/);
  });

  it('--steps-by-speed on|off and --warm-start-steps K reach the job, unset by default, kept and compared on --resume', () => {
    expect(modeFromFlags({ mode: 'local', 'steps-by-speed': 'off' })).toMatchObject({ kind: 'local', balance: false });
    expect(modeFromFlags({ mode: 'auto', 'steps-by-speed': 'on' })).toMatchObject({ kind: 'auto', balance: true });
    expect(modeFromFlags({ mode: 'local' })).not.toHaveProperty('balance');
    expect(modeFromFlags({ mode: 'local' })).not.toHaveProperty('warmupSteps');
    expect(modeFromFlags({ mode: 'local', 'warm-start-steps': '2' })).toMatchObject({ warmup: 160, warmupSteps: 2 });
    const saved = {
      job: jobFromFlags({ mode: 'local', 'steps-by-speed': 'off', 'warm-start-steps': '2' }).job,
    } as Checkpoint;
    expect(resumeJob({}, saved, 'run.ckpt').mode).toMatchObject({ balance: false, warmupSteps: 2 });
    expect(resumeJob({ 'steps-by-speed': 'off' }, saved, 'run.ckpt').mode).toMatchObject({ balance: false });
    expect(() => resumeJob({ 'steps-by-speed': 'on' }, saved, 'run.ckpt')).toThrow(
      /--steps-by-speed on \(saved: off\)/,
    );
    expect(() => resumeJob({ 'warm-start-steps': '1' }, saved, 'run.ckpt')).toThrow(
      /--warm-start-steps 1 \(saved: 2\)/,
    );
  });

  it('--inner-scale: none after a warm start (the default), sqrt-workers from scratch and in mode auto; as told', () => {
    expect(modeFromFlags({ mode: 'local' })).toMatchObject({ warmup: 160, innerScale: 'none' });
    expect(modeFromFlags({ mode: 'auto' })).toMatchObject({ innerScale: 'sqrt-workers' });
    expect(modeFromFlags({ mode: 'local', 'warm-start': '0' })).toMatchObject({ innerScale: 'sqrt-workers' });
    expect(modeFromFlags({ mode: 'local', 'inner-scale': 'sqrt-workers' })).toMatchObject({
      innerScale: 'sqrt-workers',
    });
    expect(modeFromFlags({ mode: 'auto', 'inner-scale': 'sqrt-workers' })).toMatchObject({
      innerScale: 'sqrt-workers',
    });
    expect(modeFromFlags({ mode: 'local', 'warm-start': '0', 'inner-scale': 'none' })).toMatchObject({
      innerScale: 'none',
    });
    expect(modeFromFlags({})).toBeUndefined();
  });

  it('the default outer step: plain averaging after a warm start, the sweep rule by H from scratch; as told', () => {
    const outer = (f: Record<string, string>) => (modeFromFlags({ mode: 'local', ...f }) as { outer: unknown }).outer;
    for (const h of ['2', '4', '8', '16'])
      expect(outer({ 'local-steps': h }), `H = ${h}`).toEqual({ kind: 'sgd', lr: 1 });
    expect(outer({ 'local-steps': '4', 'warm-start': '0' })).toEqual({ kind: 'sgd', lr: 1.5 });
    expect(outer({ 'local-steps': '8', 'warm-start': '0' })).toEqual({ kind: 'sgd', lr: 1.2 });
    expect(outer({ 'local-steps': '8', 'outer-lr': '1.2' })).toEqual({ kind: 'sgd', lr: 1.2 });
    // mode auto leaves it to the trainer (job.ts outerOf): its few measuring iterations are no warm start
    expect(modeFromFlags({ mode: 'auto' })).not.toHaveProperty('outer');
    expect(outerOf({ kind: 'auto' })).toEqual(DEFAULT_OUTER);
    expect(outerOf({ kind: 'local', steps: 8 })).toEqual(DEFAULT_OUTER);
    expect(outerOf({ kind: 'local', steps: 8, warmup: 10 })).toEqual({ kind: 'sgd', lr: 1 });
  });

  it('--resume keeps the saved mode and refuses flags that would change it', () => {
    const ckpt = join(tmp, 'local.ckpt');
    const first = [
      'train',
      ...small,
      '--mode',
      'local',
      '--local-steps',
      '2',
      '--compress',
      'fp16',
      '--warm-start',
      '0',
      '--checkpoint',
      ckpt,
    ];
    const a = run([...first, '--epochs', '2', '--max-iterations', '4', '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(events(a.stdout).at(-1)).toMatchObject({ event: 'done', iterations: 4 });

    for (const [flags, named] of [
      [['--mode', 'exact'], /--mode exact \(saved: local\)/],
      [['--local-steps', '3'], /--local-steps 3 \(saved: 2\)/],
      [['--compress', 'int8'], /--compress int8 \(saved: fp16\)/],
      [['--outer-optimizer', 'nesterov'], /--outer-optimizer nesterov \(saved: sgd\)/],
    ] as const) {
      const r = run(['train', ...small, '--checkpoint', ckpt, '--resume', ...flags]);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(named);
    }

    // the first run's command line plus --resume continues in mode local, from iteration 4
    // (a saved --max-iterations stays until it is changed)
    const b = run([...first, '--epochs', '2', '--max-iterations', '24', '--resume', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const its = iterations(b.stdout);
    expect(its[0].iteration).toBe(8); // a round of 2 workers x 2 steps after iteration 4
    expect(its[0].round).toEqual({ steps: 2, groups: 2 });
    expect(events(b.stdout).at(-1)).toMatchObject({ event: 'done', iterations: 24 });

    // an exact-mode checkpoint refuses local flags on resume
    const exactCkpt = join(tmp, 'exact.ckpt');
    expect(run(['train', ...small, '--checkpoint', exactCkpt, '--max-iterations', '2']).code).toBe(0);
    const c = run(['train', ...small, '--checkpoint', exactCkpt, '--resume', '--mode', 'local']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--mode local \(saved: exact\)/);
  });

  it('--resume of a --mode auto run keeps its outer optimizer and encoding, and decides afresh', () => {
    const ckpt = join(tmp, 'auto.ckpt');
    const first = ['train', ...small, '--mode', 'auto', '--compress', 'int8', '--outer-optimizer', 'sgd'];
    const a = run([...first, '--checkpoint', ckpt, '--epochs', '2', '--max-iterations', '6', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const refused = run(['train', ...small, '--checkpoint', ckpt, '--resume', '--compress', 'fp16']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--compress fp16 \(saved: int8\)/);
    // the first run's command line plus --resume is accepted, and measures in exact mode again first
    const b = run([...first, '--checkpoint', ckpt, '--epochs', '2', '--max-iterations', '24', '--resume', '--json']);
    expect(b.code, b.stderr).toBe(0);
    const its = iterations(b.stdout);
    expect((its[0] as unknown as { auto: { reason: string } }).auto.reason).toBe(
      'mode exact while the members are measured',
    );
    expect(its.reduce((n, e) => n + e.examples, 0)).toBe(18 * 50);
  });
});
