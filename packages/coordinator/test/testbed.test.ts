// The classroom network testbed (scripts/testbed): a smoke run on the `lan` profile with one Node
// volunteer over real WebRTC in its own network namespace (and one with a Chromium tab beside it),
// and the cleanup rules: nothing it made is left after a run, a failed run, SIGTERM, or a crashed run
// (removed by the next one).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTestbed, probe, remnants, removeLeftovers } from '../../../scripts/testbed/net.mjs';
import { defaultJob, type IterationRecord, runTestbed } from '../../../scripts/testbed/testbed.mjs';
import { hasChromium, hasDemoBuild } from './browser/chromium.js';

const SCRIPTS = join(import.meta.dirname, '..', '..', '..', 'scripts', 'testbed');
const can = probe();
if (!can.ok) console.log(`testbed tests skipped: ${can.reason}`);
// a CPU quota where the machine has a cgroup cpu controller (so the cleanup of cgroups is tested too)
const quota = can.ok && can.cgroup !== 'none';

describe('testbed command line', () => {
  it('rejects bad numbers and unknown profiles with one clear line and a non-zero exit', () => {
    for (const [args, re] of [
      [['--volunteers', '0'], /--volunteers must be a positive integer/],
      [['--cpu', 'lots'], /--cpu must be a positive number or none/],
      [['--profile', 'mars'], /unknown profile 'mars'/],
    ] as const) {
      const r = spawnSync(process.execPath, [join(SCRIPTS, 'cli.mjs'), ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
    }
  });
});

// an unprivileged user that can read the scripts (a checkout under /root may not let it)
const files = ['cli.mjs', 'format.mjs', 'testbed.mjs', 'net.mjs'].map((f) => join(SCRIPTS, f));
const setpriv =
  spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      '-e',
      `for (const f of ${JSON.stringify(files)}) require('node:fs').accessSync(f, 4)`,
    ],
    { stdio: 'ignore', timeout: 20_000 },
  ).status === 0;
if (can.ok && !setpriv)
  console.log('testbed without root: skipped (no setpriv, or user 65534 cannot read the scripts)');
describe.skipIf(!can.ok || !setpriv)('testbed without root', () => {
  it('says in one line that it needs root and exits 2, making nothing', () => {
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        join(SCRIPTS, 'cli.mjs'),
        '--iterations',
        '2',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('testbed: not run: needs root (network namespaces, tc, cgroups)');
    expect(remnants(r.pid)).toEqual([]);
  });
});

describe.skipIf(!can.ok)('testbed (network namespaces, tc, cgroups; needs root)', () => {
  it('lan, 1 volunteer: trains over direct WebRTC, counts bytes on the coordinator link, leaves nothing behind', async () => {
    const seen: IterationRecord[] = [];
    const r = await runTestbed({
      profile: 'lan',
      volunteers: 1,
      job: defaultJob({ iterations: 10, evaluate: false }),
      warmup: 2,
      onIteration: (e) => seen.push(e),
      timeoutMs: 90_000,
    });
    expect(r.via).toEqual({ v0: 'direct' });
    expect(r.iterations).toBe(10);
    expect(seen.map((e) => e.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // it trained: Adam on MNIST brings the loss well below ln(10) = 2.30 within ten mini-batches
    const early = seen[0].loss;
    const late = seen.slice(-3).reduce((a, e) => a + e.loss, 0) / 3;
    expect(early).toBeGreaterThan(1.8);
    expect(late).toBeLessThan(early - 0.5);
    expect(r.examplesPerSec).toBeGreaterThan(0);
    expect(r.workers[0].share).toBe(1);
    // the kernel saw at least the payload of exact mode go through the coordinator's link each
    // iteration (weights out, gradient back), and not wildly more
    expect(r.job.parameters).toBe(101_770);
    expect(r.floorBytes).toBe(2 * 1 * 101_770 * 4);
    expect(r.linkBytes.out).toBeGreaterThan(101_770 * 4);
    expect(r.linkBytes.in).toBeGreaterThan(101_770 * 4);
    expect(r.linkBytes.out + r.linkBytes.in).toBeLessThan(1.5 * r.floorBytes);
    expect(remnants()).toEqual([]);
  });

  it.skipIf(!hasChromium() || !hasDemoBuild())(
    'a Chromium tab volunteers from its own namespace over direct WebRTC, beside a Node volunteer',
    async () => {
      const r = await runTestbed({
        profile: 'lan',
        volunteers: 1,
        tabs: 1,
        planning: 'all',
        job: defaultJob({ iterations: 6, evaluate: false }),
        warmup: 2,
        timeoutMs: 120_000,
      });
      expect(r.via).toEqual({ v0: 'direct', tab0: 'direct' });
      expect(r.iterations).toBe(6);
      // with planning 'all' both take part in every iteration
      expect(r.workersUsed).toBe(2);
      expect(r.volunteerBytes.map((v) => v.name)).toEqual(['v0', 'tab0']);
      expect(r.volunteerBytes[1].rx).toBeGreaterThan(6 * 101_770 * 4);
      expect(remnants()).toEqual([]);
    },
    150_000,
  );

  it('a run that fails (the coordinator rejects the job) says why and leaves nothing behind', async () => {
    const job = { ...defaultJob({ iterations: 2, evaluate: false }), batchSize: 0 };
    await expect(
      runTestbed({ profile: 'classroom', volunteers: 2, job, timeoutMs: 60_000, cpu: quota ? undefined : 0 }),
    ).rejects.toThrow(/coordinator exited with 1 before the run ended.*batchSize must be a positive integer/s);
    expect(remnants()).toEqual([]);
  });

  it('SIGTERM mid-run: the command removes every namespace and cgroup it made', async () => {
    const cli = spawn(
      process.execPath,
      [
        join(SCRIPTS, 'cli.mjs'),
        ...['--profile', 'lan', '--cpu', quota ? '0.5' : 'none', '--volunteers', '1', '--iterations', '100000'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    cli.stdout.on('data', (d) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
    const end = Date.now() + 60_000;
    while (!out.includes('volunteer(s) in') && Date.now() < end && cli.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).toContain('1 volunteer(s) in: v0 direct');
    const pid = cli.pid as number;
    expect(remnants(pid).length).toBeGreaterThan(0);
    cli.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(remnants(pid)).toEqual([]);
  });

  it("the next run removes a crashed run's namespaces and cgroups (by name and dead pid), never a live run's", async () => {
    const netMjs = join(SCRIPTS, 'net.mjs');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `import(${JSON.stringify(netMjs)}).then((n) => { n.buildTestbed(2, ${quota ? '{ cpu: 0.5 }' : '{}'}); console.log('built'); setInterval(() => {}, 1000); })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => d.toString().includes('built') && resolve()));
    const pid = child.pid as number;
    const made = remnants(pid);
    expect(made.length).toBe(4 + (quota ? 2 : 0));
    // while it lives, its testbed is not a leftover
    removeLeftovers();
    expect(remnants(pid)).toEqual(made);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const removed = removeLeftovers();
    expect(removed.sort()).toEqual([...made].sort());
    expect(remnants(pid)).toEqual([]);
  });

  it('refuses a volunteer count it cannot build before touching anything', () => {
    expect(() => buildTestbed(0)).toThrow(/from 1 to 64/);
    expect(() => buildTestbed(65)).toThrow(/from 1 to 64/);
    expect(remnants()).toEqual([]);
  });
});
