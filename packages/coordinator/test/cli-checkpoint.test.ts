/**
 * `gradroom train` checkpoints and failures as a user meets them (issue 10, items 3, 13, 14): real
 * processes, real worker threads. --resume refuses flags that would change the saved job and a
 * missing file; unwritable paths and oversized models are refused before any work; a run ended by
 * --max-iterations mid-epoch is saved and resumes from there; a diverged run exits 1 with a clear line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../src/checkpoint.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'gradroom-cli-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], timeout = 120_000) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });

// 300 examples in mini-batches of 50: 6 iterations an epoch
const small = ['--dataset', 'synthetic', '--examples', '300', '--workers', '1', '--seed', '3', '--batch-size', '50'];

describe('gradroom train --checkpoint / --resume', () => {
  const ck = join(dir, 'run.ckpt');

  it('a run ended by --max-iterations in mid-epoch saves a checkpoint, and --resume goes on from there', () => {
    const first = run(['train', ...small, '--epochs', '2', '--checkpoint', ck, '--max-iterations', '4', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const saved = events(first.stdout).filter((e) => e.event === 'checkpoint');
    expect(saved.at(-1)).toMatchObject({ iteration: 4, epoch: 0 });
    expect(decodeCheckpoint(new Uint8Array(readFileSync(ck))).position).toEqual({ epoch: 0, batch: 4, iteration: 4 });

    // the first command line again, with --resume and a higher --max-iterations: allowed
    const again = run([
      'train',
      ...small,
      '--epochs',
      '2',
      '--checkpoint',
      ck,
      '--resume',
      '--max-iterations',
      '7',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const its = events(again.stdout).filter((e) => e.event === 'iteration');
    expect(its.map((e) => e.iteration)).toEqual([5, 6, 7]);
    expect(its[0]).toMatchObject({ epoch: 0, batch: 4 });
    expect(events(again.stdout).at(-1)).toMatchObject({ event: 'done', iterations: 7 });
  });

  it('refuses --resume with flags that change the saved job, naming each with its saved value', () => {
    const before = readFileSync(ck);
    const r = run([
      'train',
      ...small.filter((f) => f !== '50' && f !== '--batch-size'),
      '--checkpoint',
      ck,
      '--resume',
      '--lr',
      '0.1',
      '--optimizer',
      'sgd',
      '--batch-size',
      '20',
      '--epochs',
      '1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resume continues the run saved in .*run\.ckpt/);
    expect(r.stderr).toMatch(/--optimizer sgd \(saved: adam\)/);
    expect(r.stderr).toMatch(/--lr 0\.1 \(saved: 0\.005\)/);
    expect(r.stderr).toMatch(/--batch-size 20 \(saved: 50\)/);
    expect(r.stderr).toMatch(/--epochs 1 \(saved: 2; it may only be raised\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // one clear line
    expect(readFileSync(ck).equals(before)).toBe(true); // the saved run is untouched
  });

  it('--epochs may be raised on --resume: the run trains the extra epoch', () => {
    const r = run(['train', '--checkpoint', ck, '--resume', '--epochs', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const its = events(r.stdout).filter((e) => e.event === 'iteration');
    // max-iterations 7 still comes from the checkpoint: nothing new, the job's limit holds
    expect(its).toHaveLength(0);
    const more = run(['train', '--checkpoint', ck, '--resume', '--epochs', '3', '--max-iterations', '100', '--json']);
    expect(more.code, more.stderr).toBe(0);
    const done = events(more.stdout).at(-1) as { event: string; iterations: number; epochs: number };
    expect(done).toMatchObject({ event: 'done', iterations: 18, epochs: 3 });
  });

  it('refuses --resume with a missing checkpoint file instead of starting from scratch', () => {
    const r = run(['train', ...small, '--checkpoint', join(dir, 'nothing-here.ckpt'), '--resume', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resume: there is no checkpoint at .*nothing-here\.ckpt/);
    expect(r.stdout).toBe('');
  });

  it('refuses a checkpoint holding a NaN weight when resuming', () => {
    const c = decodeCheckpoint(new Uint8Array(readFileSync(ck)));
    c.weights[10] = Number.NaN;
    const bad = join(dir, 'nan.ckpt');
    writeFileSync(bad, encodeCheckpoint(c));
    const r = run(['train', '--checkpoint', bad, '--resume', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checkpoint holds a non-finite weight \(NaN at index 10\)/);
    expect(r.stdout).toBe('');
  });

  it('finds an unwritable --checkpoint path at start, before any iteration', () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const r = run(['train', ...small, '--checkpoint', join(dir, 'a-file', 'run.ckpt'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/checkpoint file .*a-file\/run\.ckpt cannot be written: a part of its directory/);
    expect(r.stdout).toBe(''); // no iteration ran
    const d = run(['train', ...small, '--checkpoint', dir, '--json']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/cannot be written: it is a directory/);
  });
});

describe('gradroom train refuses what cannot train, at once and clearly', () => {
  it('hidden [400000]: the parameter count against the protocol limit, before anything is built', () => {
    const spec = join(dir, 'huge.json');
    writeFileSync(spec, JSON.stringify({ kind: 'mlp', inputShape: [28, 28, 1], hidden: [400000], classes: 10 }));
    const r = run(['train', '--model', spec], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the model has 318,000,010 parameters, more than the 16,777,216 the protocol carries/);
    expect(r.seconds).toBeLessThan(10); // it used to grow past 3 GB before being killed
  });

  it('a diverged run (sgd, lr 1e20) stops with one line about NaN and the learning rate, and exits 1', () => {
    const ck = join(dir, 'diverged.ckpt');
    const r = run(
      ['train', ...small, '--optimizer', 'sgd', '--lr', '1e20', '--epochs', '1', '--checkpoint', ck],
      60_000,
    );
    expect(r.code, `stderr: ${r.stderr.slice(-2000)}`).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^gradroom: /);
    expect(last).toMatch(/NaN|not finite|infinite/i);
    expect(last).toMatch(/learning rate/i);
    // whatever was saved is the last good state: a checkpoint with NaN in it would be refused here
    if (existsSync(ck)) expect(() => decodeCheckpoint(new Uint8Array(readFileSync(ck)))).not.toThrow();
  });
});
