/** `gradroom train` as a user runs it: a real process, real worker threads, its output parsed. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'gradroom-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function events(stdout: string) {
  // every stdout line must be JSON: nothing else (tfjs's banner included) may land there
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
}

const small = ['--dataset', 'synthetic', '--examples', '600', '--model', 'mlp-small', '--workers', '2', '--seed', '3'];

describe('gradroom train', () => {
  it('--json prints one JSON object per event and ends with done and the test accuracy', () => {
    const r = run(['train', ...small, '--epochs', '2', '--batch-size', '100', '--json']);
    expect(r.code).toBe(0);
    const ev = events(r.stdout);
    const iterations = ev.filter((e) => e.event === 'iteration');
    expect(iterations).toHaveLength(12); // 600/100 = 6 iterations an epoch, 2 epochs
    expect(iterations[0]).toMatchObject({ epoch: 0, batch: 0, iteration: 1, examples: 100 });
    expect(ev.filter((e) => e.event === 'epoch')).toHaveLength(2);
    const done = ev.at(-1) as { event: string; testAccuracy: number; iterations: number };
    expect(done.event).toBe('done');
    expect(done.iterations).toBe(12);
    expect(done.testAccuracy).toBeGreaterThan(0.5); // 10 well-separated blobs
  });

  it('--dataset fashion-mnist-small trains on the quick subset of the second built-in data set', () => {
    const r = run(['train', '--dataset', 'fashion-mnist-small', '--workers', '1', '--max-iterations', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.event === 'iteration')).toHaveLength(3);
    expect(ev.at(-1)).toMatchObject({ event: 'done', iterations: 3 });
    expect((ev.at(-1) as unknown as { testAccuracy: number }).testAccuracy).toBeGreaterThan(0.2); // 10 classes: chance is 0.1
  });

  it('--batch-size auto follows and explains the lecture rule', () => {
    const r = run(['train', ...small, '--epochs', '1', '--batch-size', 'auto', '--json']);
    expect(r.code).toBe(0);
    const advice = events(r.stdout).find((e) => e.event === 'advice') as unknown as { size: number; reason: string };
    expect(advice.size).toBe(600); // m = 600 <= 2000: batch gradient descent
    expect(advice.reason).toMatch(/batch gradient descent/);
    expect(events(r.stdout).filter((e) => e.event === 'iteration')).toHaveLength(1);
  });

  it('shows a progress bar and a summary without --json', () => {
    const r = run([
      'train',
      ...small,
      '--epochs',
      '1',
      '--batch-size',
      '200',
      '--optimizer',
      'momentum',
      '--lr',
      '0.05',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /epoch 1\/1: iteration 3\/3, \d+ ex\/s, train loss \d\.\d{4}, test loss \d\.\d{4}, test accuracy \d+\.\d\d%/,
    );
    expect(r.stdout).toMatch(/Trained: 3 iterations \(1 epochs\)/);
    // which backend, and why not a faster one
    expect(r.stdout).toMatch(/workers compute on wasm \(skipped webgpu: .+; webgl: .+\)/);
    expect(r.stdout).toMatch(/kind=momentum lr=0.05/);
    expect(r.stdout).toMatch(/test accuracy \d+\.\d+%/);
  });

  it('resumes from a checkpoint file and finishes the run', () => {
    const ck = join(dir, 'run.ckpt');
    const first = run([
      'train',
      ...small,
      '--epochs',
      '2',
      '--batch-size',
      '100',
      '--checkpoint',
      ck,
      '--json',
      '--max-iterations',
      '6',
    ]);
    expect(first.code).toBe(0);
    expect(events(first.stdout).some((e) => e.event === 'checkpoint')).toBe(true);
    // the job (with its max-iterations) comes from the checkpoint; a finished run stays finished
    const again = run(['train', '--checkpoint', ck, '--resume', '--json']);
    expect(again.code).toBe(0);
    expect(events(again.stdout).filter((e) => e.event === 'iteration')).toHaveLength(0);
  });

  it('rejects bad flags with a clear message and exit code 2', () => {
    for (const [args, msg] of [
      [['--optimizer', 'adamw'], /--optimizer "adamw" is unknown/],
      [['--lr', 'fast'], /--lr must be a number/],
      [['--batch-size', '0'], /batchSize must be a positive integer/],
      [['--model', 'resnet'], /--model "resnet" is unknown/],
      [['--backend', 'cuda'], /unknown backend "cuda"/],
      [['--workers', '0'], /--workers must be an integer/],
      [['--beta1', '1.5'], /beta1/],
      [['--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const r = run(['train', ...small, ...args]);
      expect(r.code, `${args.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('gradroom serve', () => {
  it('serves the web app and, with --room, hosts a room and prints its join link; Ctrl-C ends it', async () => {
    const p = spawn(process.execPath, [cli, 'serve', '--room', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += String(d);
    });
    try {
      const deadline = Date.now() + 30_000;
      while (!/volunteers join with (\S+)/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const link = /volunteers join with (\S+)/.exec(out)?.[1] ?? '';
      expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/volunteer\.html#room=[\w-]{20,}$/);
      const origin = new URL(link).origin;
      const page = await fetch(`${origin}/volunteer.html`);
      expect(page.status).toBe(200);
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(await page.text()).toMatch(/Join a room/);
      expect(out).toMatch(/hosts the room/);
    } finally {
      p.kill('SIGINT');
    }
    const code = await new Promise((r) => p.once('exit', (c, sig) => r(c ?? sig)));
    expect([0, 130, 'SIGINT']).toContain(code);
  });
});
