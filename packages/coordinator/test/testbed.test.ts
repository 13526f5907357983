// The classroom network testbed (scripts/testbed): a smoke run on the `lan` profile with one Node
// volunteer over real WebRTC in its own network namespace (and one with a Chromium tab beside it),
// and the cleanup rules: nothing it made is left after a run, a failed run, SIGTERM, or a crashed run
// (removed by the next one).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTestbed, probe, remnants, removeLeftovers } from '../../../scripts/testbed/net.mjs';
import { roundAnatomy } from '../../../scripts/testbed/rounds.mjs';
import { PACE_EVERY, pace, utilization } from '../../../scripts/testbed/summary.mjs';
import {
  aloneJob,
  defaultJob,
  type IterationRecord,
  runTestbed,
  runWithAlone,
  shapeOf,
  type WithAloneRun,
} from '../../../scripts/testbed/testbed.mjs';
import { hasChromium, hasDemoBuild } from './browser/chromium.js';

/** An iteration as --trace writes it: the fields these tests read. */
type TracedIteration = {
  iteration: number;
  workers: { name?: string; share: number; status?: string; standby?: string }[];
};
/** What --trace writes, as these tests read it. */
type Trace = { iterations: TracedIteration[]; volunteerRounds: Record<string, { at: number }[]> };

/** A testbed run with a trace: its summary and its trace (the trace's folder is removed after). */
async function tracedRun(opts: Omit<Parameters<typeof runTestbed>[0], 'trace'>) {
  const dir = mkdtempSync(join(tmpdir(), 'gradroom-testbed-trace-'));
  try {
    const trace = join(dir, 'trace.json');
    const r = await runTestbed({ ...opts, trace });
    return { r, trace: JSON.parse(readFileSync(trace, 'utf8')) as Trace };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SCRIPTS = join(import.meta.dirname, '..', '..', '..', 'scripts', 'testbed');
const can = probe();
if (!can.ok) console.log(`testbed tests skipped: ${can.reason}`);
// a CPU quota where the machine has a cgroup cpu controller (so the cleanup of cgroups is tested too)
const quota = can.ok && can.cgroup !== 'none';

describe('testbed command line', () => {
  it('the host alone trains in exact mode whatever the room runs (its job otherwise the same)', () => {
    const room = { ...defaultJob({ iterations: 6 }), mode: { kind: 'local', steps: 8, warmup: 160 } } as const;
    const alone = aloneJob(room);
    expect('mode' in alone).toBe(false);
    const { mode: _, ...rest } = room;
    expect(alone).toEqual(rest);
    expect(room.mode.kind).toBe('local'); // the room's job is left as it was
  });

  it("utilization: a volunteer's compute ÷ the span of its rounds, and with the evaluations inside that span left out", () => {
    // 10 rounds, one a second from t = 1,000 s, each 800 ms long with 600 ms of compute; a 2 s
    // evaluation after the fifth (its rounds move on by 2 s), and one outside the span
    const rounds = Array.from({ length: 10 }, (_, i) => ({
      at: i,
      wallAt: 1_000_000 + i * 1000 + (i >= 5 ? 2000 : 0),
      ms: 800,
      computeMs: 600,
      cpuMs: 100,
    }));
    const evaluations = [
      { wallAt: 1_000_000 + 5000 + 2000, evalMs: 2000 },
      { wallAt: 1_000_000 + 60_000, evalMs: 5000 },
    ];
    const u = utilization({ v0: rounds, v1: rounds.slice(0, 5) }, evaluations);
    // v0: 6,000 ms of compute over 11,800 ms (2,000 of them evaluating); v1: 3,000 over 4,800
    expect(u?.perVolunteer.map((v) => v.name)).toEqual(['v0', 'v1']);
    expect(u?.perVolunteer[0].utilization).toBeCloseTo(6000 / 11_800, 6);
    expect(u?.perVolunteer[0].outsideEvaluations).toBeCloseTo(6000 / 9800, 6);
    expect(u?.perVolunteer[1].outsideEvaluations).toBeCloseTo(3000 / 4800, 6);
    expect(u?.min).toBeCloseTo(6000 / 11_800, 6);
    expect(u?.mean).toBeCloseTo((6000 / 11_800 + 3000 / 4800) / 2, 6);
    // exact mode (no rounds) and records without the machine's clock: none
    expect(utilization({}, evaluations)).toBeNull();
    expect(utilization({ v0: rounds.map(({ wallAt: _, ...r }) => r) }, evaluations)).toBeNull();
  });

  it('pace: when the run passed every PACE_EVERY-th iteration, and where the warm start ended (the first round)', () => {
    // exact iterations 1..90, 0.1 s each, then rounds of 8 iterations
    const its: { iteration: number; at: number; round?: { steps: number } }[] = [];
    for (let i = 1; i <= 90; i++) its.push({ iteration: i, at: i / 10 });
    for (let i = 98; i <= 130; i += 8) its.push({ iteration: i, at: 9 + (i - 90) / 80, round: { steps: 8 } });
    const p = pace(its);
    expect(PACE_EVERY).toBe(40);
    // a round that steps over 120 stands for it
    expect(p.pace).toEqual([
      [40, 4],
      [80, 8],
      [122, 9 + 32 / 80],
    ]);
    expect(p.warmStart).toEqual({ iterations: 90, endedAt: 9 });
    // exact mode all through (or rounds from the first iteration): no warm start to report
    expect(pace(its.slice(0, 90)).warmStart).toBeNull();
    expect(pace(its.slice(90)).warmStart).toBeNull();
  });

  it("round anatomy: each volunteer's start, compute and end within a round, clocks lined up by an evaluation, rounds with one left out", () => {
    // the coordinator's clock is 9 s behind the machine's (its evaluation at 1 s ended at 10,000 ms)
    const trace = {
      iterations: [{ at: 0.5 }, { at: 2, round: {} }, { at: 3, round: {} }, { at: 4, round: {} }, { at: 5, round: {} }],
      evaluations: [
        { at: 1, wallAt: 10_000 },
        { at: 4.5, wallAt: 13_500 }, // inside the third round: left out
      ],
      volunteerRounds: {
        v0: [
          { wallAt: 11_100, ms: 700, computeMs: 650 },
          { wallAt: 12_050, ms: 800, computeMs: 700 },
          { wallAt: 13_100, ms: 300, computeMs: 250 },
        ],
        v1: [
          { wallAt: 11_300, ms: 600, computeMs: 550 },
          { wallAt: 12_200, ms: 700, computeMs: 690 },
        ],
      },
    };
    const a = roundAnatomy(trace);
    expect(a?.rows).toEqual([
      {
        totalMs: 1000,
        firstStartMs: 100,
        lastStartMs: 300,
        computeMs: 650,
        lastEndMs: 900,
        tailMs: 100,
        volunteers: 2,
      },
      { totalMs: 1000, firstStartMs: 50, lastStartMs: 200, computeMs: 700, lastEndMs: 900, tailMs: 100, volunteers: 2 },
    ]);
    expect(a?.median).toEqual({
      totalMs: 1000,
      firstStartMs: 100,
      lastStartMs: 300,
      computeMs: 700,
      lastEndMs: 900,
      tailMs: 100,
    });
    // no evaluation, no common clock: nothing to say
    expect(roundAnatomy({ ...trace, evaluations: [] })).toBeNull();
  });

  it('older laptops: --slow N gives the first N volunteers a third of the CPU (or --slow-cpu), and bad values are refused', () => {
    expect(shapeOf({ profile: 'classroom', volunteers: 8, slow: 2 })).toMatchObject({ cpu: 0.2, slow: 2 });
    expect(shapeOf({ profile: 'classroom', volunteers: 8, slow: 2 }).slowCpu).toBeCloseTo(0.2 / 3, 9);
    expect(shapeOf({ profile: 'classroom', volunteers: 8, slow: 1, slowCpu: 0.05 })).toMatchObject({ slowCpu: 0.05 });
    expect(shapeOf({ profile: 'classroom', volunteers: 8 }).slow).toBeUndefined();
    expect(() => shapeOf({ profile: 'classroom', volunteers: 2, slow: 3 })).toThrow(/more than the 2 volunteer/);
    expect(() => shapeOf({ profile: 'classroom', volunteers: 2, slow: 1, slowCpu: 0.5 })).toThrow(/at most cpu/);
    expect(() => shapeOf({ profile: 'classroom', volunteers: 2, slowCpu: 0.05 })).toThrow(/needs slow/);
    expect(() => shapeOf({ profile: 'classroom', volunteers: 2, cpu: 0, slow: 1 })).toThrow(/CPU quota/);
  });

  it('rejects bad numbers and unknown profiles with one clear line and a non-zero exit', () => {
    for (const [args, re] of [
      [['--volunteers', '0'], /--volunteers must be a positive integer/],
      [['--cpu', 'lots'], /--cpu must be a positive number or none/],
      [['--profile', 'mars'], /unknown profile 'mars'/],
      [['--alone', '--with-alone'], /--alone and --with-alone: give one of them/],
      [['--alone', '--no-host-worker'], /--alone needs the host worker/],
      [['--dataset', 'nope'], /--dataset "nope" is unknown/],
      [['--mode', 'exact', '--outer-lr', '1'], /--outer-lr applies only to --mode local/],
      [['--eval-every', '0'], /--eval-every must be a positive integer/],
      [['--host-cpu', 'x'], /--host-cpu must be a positive number or none/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
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
      // the volunteer alone computes: the room's own path, link and all
      hostWorker: false,
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
    // iteration (weights out, gradient back), and not wildly more than float32 would take
    expect(r.job.parameters).toBe(101_770);
    expect(r.floorBytes).toBe(2 * 1 * 101_770 * 4);
    expect(r.linkBytes.out).toBeGreaterThan(r.eventBytes.out);
    expect(r.linkBytes.in).toBeGreaterThan(r.eventBytes.in);
    expect(r.linkBytes.out + r.linkBytes.in).toBeLessThan(1.5 * r.floorBytes);
    // packed (RoomHostOptions.packed): after the first weights, changes and sums under float32's bytes
    expect(r.eventBytes.out).toBeLessThan(0.9 * 101_770 * 4);
    expect(r.eventBytes.in).toBeLessThan(0.9 * 101_770 * 4);
    expect(remnants()).toEqual([]);
  });

  it('lan, mode local: the job takes the chunked MNIST, each volunteer fetches only its partition, the share of the file is reported', async () => {
    const r = await runTestbed({
      profile: 'lan',
      volunteers: 2,
      job: { ...defaultJob({ iterations: 24, evaluate: false }), mode: { kind: 'local', steps: 4 } },
      warmup: 1,
      timeoutMs: 120_000,
    });
    expect(r.job.dataset).toBe('mnist (chunks of 1000)');
    expect(r.iterations).toBeGreaterThanOrEqual(1);
    const size = statSync(join(SCRIPTS, '..', '..', 'packages', 'worker', 'dist', 'mnist.bin')).size;
    expect(r.data.wholeFileBytes).toBe(size);
    // 3 members (the host's thread and 2 volunteers) share 8 chunks: 2-3 each, and nothing else
    // (no test file: only the host evaluates), against the whole 7.85 MB file each without chunks
    for (const v of r.data.perVolunteer) {
      expect(v.files).toBeGreaterThanOrEqual(2); // the manifest and at least one chunk
      expect(v.files).toBeLessThanOrEqual(1 + 4);
      expect(v.ofWholeFile).toBeCloseTo(v.bytes / size, 10);
      expect(v.ofWholeFile).toBeLessThan(0.5);
      // the chunks crossed the link gzipped (MNIST's pixels: about a fifth), the manifest as it is
      expect(v.wire).toBeLessThan(0.5 * v.bytes);
    }
    expect(r.data.wireBytes).toBe(r.data.perVolunteer.reduce((a, v) => a + v.wire, 0));
    expect(r.data.each.every((d) => /\/datasets\/chunks\/mnist\/(manifest\.json|train-\d\.bin)$/.test(d.url))).toBe(
      true,
    );
    expect(remnants()).toEqual([]);
  });

  it('lan, mode local with a warm start: the volunteers wait for it, fetch their first chunks meanwhile (the prefetch message), then train', async () => {
    const { r, trace } = await tracedRun({
      profile: 'lan',
      volunteers: 2,
      // 90 iterations of rounds after the warm start's 30: with only 30 a volunteer still measuring
      // could sit out all of them (once, in a fresh CI run, both did)
      job: { ...defaultJob({ iterations: 120, evaluate: false }), mode: { kind: 'local', steps: 4, warmup: 30 } },
      warmup: 1,
      timeoutMs: 120_000,
    });
    expect(r.iterations).toBeGreaterThanOrEqual(1);
    const rounds = trace.volunteerRounds;
    expect(Object.keys(rounds).sort()).toEqual(['v0', 'v1']);
    // each volunteer's compute utilization is reported, a share of its rounds' span (no evaluations
    // in this run, so the same outside them)
    const u = r.utilization;
    expect(u?.perVolunteer.length).toBeGreaterThanOrEqual(1);
    for (const v of u?.perVolunteer ?? []) {
      expect(v.utilization).toBeGreaterThan(0);
      expect(v.utilization).toBeLessThanOrEqual(1);
      expect(v.outsideEvaluations).toBeCloseTo(v.utilization, 9);
    }
    // the room trained in rounds with volunteers (one may sit out a round that starts while its
    // measuring shard is still in flight)
    expect(Object.values(rounds).some((theirs) => theirs.length > 0)).toBe(true);
    for (const [name, theirs] of Object.entries(rounds)) {
      // before its first round (or in the whole run, if it had none): the probe's one chunk and the
      // hinted ones (its partition's first two at least); without the hint only the probe's
      const first = theirs[0]?.at ?? Number.POSITIVE_INFINITY;
      const ahead = r.data.each.filter(
        (d) => d.name === name && /train-\d\.bin$/.test(d.url) && (d.at ?? Number.POSITIVE_INFINITY) < first,
      );
      expect(
        new Set(ahead.map((d) => d.url)).size,
        `${name}: chunks fetched before its first round`,
      ).toBeGreaterThanOrEqual(2);
    }
    expect(remnants()).toEqual([]);
  });

  it.skipIf(!hasChromium() || !hasDemoBuild())(
    'a Chromium tab volunteers from its own namespace over direct WebRTC, beside a Node volunteer',
    async () => {
      const { r, trace } = await tracedRun({
        profile: 'lan',
        volunteers: 1,
        tabs: 1,
        planning: 'all',
        hostWorker: false, // the two volunteers only, as the assertions count them
        job: defaultJob({ iterations: 60, evaluate: false }),
        warmup: 0,
        timeoutMs: 120_000,
      });
      expect(r.via).toEqual({ v0: 'direct', tab0: 'direct' });
      expect(r.iterations).toBe(60);
      // The room starts at most a second after its first member is set up, so on a loaded machine
      // the tab (Chromium, its backend, its data) may join some iterations late (60 of them last a
      // few seconds on lan). From its first shard on, with planning 'all', both take part in every
      // iteration.
      const its = trace.iterations.map((e) => ({
        iteration: e.iteration,
        shares: Object.fromEntries(e.workers.map((w) => [w.name, w.share])),
        // why a worker had no share, when one had none (busy past a deadline, standing by, ...)
        idle: e.workers.filter((w) => w.share === 0).map((w) => `${w.name}: ${w.status} ${w.standby ?? ''}`),
      }));
      const shown = JSON.stringify(its);
      const joined = its.findIndex((e) => (e.shares.tab0 ?? 0) > 0);
      expect(joined, `the tab never took part: ${shown}`).toBeGreaterThanOrEqual(0);
      expect(joined, `the tab joined too late to tell: ${shown}`).toBeLessThanOrEqual(45);
      for (const e of its.slice(joined)) {
        expect(e.shares.v0 > 0 && e.shares.tab0 > 0, `iteration ${e.iteration}: ${shown}`).toBe(true);
      }
      expect(its.every((e) => e.shares.v0 > 0)).toBe(true);
      expect(r.volunteerBytes.map((v) => v.name)).toEqual(['v0', 'tab0']);
      // a weights message for every iteration it took part in: packed as a change, at least its
      // four byte planes' bitmaps (an eighth of a byte per value each)
      expect(r.volunteerBytes[1].rx).toBeGreaterThan((its.length - joined) * (101_770 / 2));
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
    // 0 volunteers is the host alone
    expect(() => buildTestbed(-1)).toThrow(/from 0 to 64/);
    expect(() => buildTestbed(65)).toThrow(/from 0 to 64/);
    expect(() => buildTestbed(1.5)).toThrow(/from 0 to 64/);
    expect(remnants()).toEqual([]);
  });
});

/** One CLI run with --json: its figures (aloneRun and aloneReachedTargetAt with --with-alone only). */
function cliJson(args: string[], timeout = 150_000): WithAloneRun {
  const r = spawnSync(process.execPath, [join(SCRIPTS, 'cli.mjs'), '--json', ...args], { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`testbed exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout);
}

describe.skipIf(!can.ok)('testbed: the host computes, alone and beside the room (needs root)', () => {
  // MNIST reaches 60 % test accuracy within a few dozen mini-batches: a target a smoke run can time
  const job = ['--profile', 'lan', '--iterations', '40', '--eval-every', '4', '--target', '0.6', '--warmup', '2'];

  it('--alone: the host worker only, evaluated every 4 iterations, stops at the target it timed', () => {
    const r = cliJson(['--alone', ...job, '--lr', '0.004', '--schedule', 'constant', '--seed', '3', '--mode', 'local']);
    expect(r.alone).toBe(true);
    // --mode local shapes a room's work: the host alone trains in exact mode
    expect(r.job.mode).toBe('exact');
    expect(r.job.config.mode).toBeUndefined();
    // gradroom train's job flags reach the coordinator's job
    expect(r.job.config.optimizer).toMatchObject({ kind: 'adam', lr: 0.004 });
    expect(r.job.config.schedule).toEqual({ kind: 'constant', lr: 0.004 });
    expect(r.job.config.seed).toBe(3);
    expect(r.job.config.dataset).toEqual({ kind: 'mnist', split: 'train' });
    expect(r.hostWorker).toBe(true);
    expect(r.volunteers).toBe(0);
    expect(r.via).toEqual({});
    expect(r.workers.map((w) => w.kind)).toEqual(['thread']);
    expect(r.evaluations.map((e) => e.iteration)).toEqual(
      Array.from({ length: r.evaluations.length }, (_, i) => 4 * (i + 1)),
    );
    const hit = r.evaluations.findIndex((e) => e.testAccuracy >= 0.6);
    // it stopped at the first evaluation at or past the target, and timed it without evaluation time
    expect(hit).toBe(r.evaluations.length - 1);
    expect(r.iterations).toBe(r.evaluations[hit].iteration);
    expect(r.iterations).toBeLessThan(40);
    expect(r.reachedTargetAt).not.toBeNull();
    expect(r.reachedTargetAt as number).toBeLessThanOrEqual(r.evaluations[hit].at);
    expect(r.evaluations[hit].at - (r.reachedTargetAt as number)).toBeCloseTo(r.evalSeconds, 1);
    expect(r.evalSeconds).toBeGreaterThan(0);
    // nothing travelled: the host has the data on its disk
    expect(r.data.each).toEqual([]);
    expect(remnants()).toEqual([]);
  });

  it('--with-alone: the host alone, then the room, in one invocation; the volunteer fetches the manifest, its examples come with its shards', () => {
    const r = cliJson(['--with-alone', '--volunteers', '1', ...job]);
    expect(r.alone).toBe(false);
    expect(r.volunteers).toBe(1);
    expect(r.via).toEqual({ v0: 'direct' });
    expect(r.workers.map((w) => w.kind).sort()).toEqual(['peer', 'thread']);
    expect(typeof r.reachedTargetAt).toBe('number');
    expect(typeof r.aloneReachedTargetAt).toBe('number');
    expect(r.aloneRun.alone).toBe(true);
    expect(r.aloneRun.volunteers).toBe(0);
    expect(r.aloneReachedTargetAt).toBe(r.aloneRun.reachedTargetAt);
    // exact mode over the chunked MNIST: v0 fetched the manifest from the room server over its link,
    // and no chunk (nor the 7.85 MB file): the examples of its shards came with them (shardExamples)
    expect(r.job.dataset).toBe('mnist (chunks of 1000)');
    const manifest = statSync(
      join(SCRIPTS, '..', '..', 'packages', 'worker', 'dist', 'chunks', 'mnist', 'manifest.json'),
    );
    expect(r.data.each.map((d) => [d.name, d.bytes])).toEqual([['v0', manifest.size]]);
    expect(r.data.each[0].url).toMatch(/^http:\/\/10\.213\.0\.1:\d+\/datasets\/chunks\/mnist\/manifest\.json$/);
    expect(r.volunteerBytes[0].rx).toBeGreaterThan(r.data.each[0].wire);
    expect(r.joinedAt as number).toBeLessThanOrEqual(r.startedAt as number);
    expect(remnants()).toEqual([]);
  });

  it('runWithAlone, room without the host worker: the alone half still has it, the room has volunteers only (they fetch chunks with shardExamples false)', async () => {
    const r = await runWithAlone({
      profile: 'lan',
      volunteers: 1,
      hostWorker: false,
      job: defaultJob({ iterations: 6, evaluate: false }),
      warmup: 2,
      timeoutMs: 120_000,
      // the volunteer fetches the chunks its shards' examples are in (without it, they come with them)
      shardExamples: false,
    });
    const chunks = r.data.each.filter((d) => /\/datasets\/chunks\/mnist\/train-\d\.bin$/.test(d.url));
    expect(chunks.length).toBeGreaterThanOrEqual(2); // 6 mini-batches of 64 random examples: most of the 8 chunks
    expect(r.aloneRun.hostWorker).toBe(true);
    expect(r.aloneRun.workers.map((w) => w.kind)).toEqual(['thread']);
    expect(r.hostWorker).toBe(false);
    expect(r.workers.map((w) => w.kind)).toEqual(['peer']);
    expect(r.iterations).toBe(6);
    expect(r.aloneRun.iterations).toBe(6);
    expect(remnants()).toEqual([]);
  });

  it.skipIf(!quota)(
    "--host-cpu: the coordinator's whole process, worker thread included, runs under the quota",
    async () => {
      const r = await runTestbed({
        profile: 'lan',
        alone: true,
        hostCpu: 0.25,
        job: defaultJob({ iterations: 30, evaluate: false }),
        warmup: 2,
        timeoutMs: 120_000,
      });
      expect(r.cpu.hostQuota).toBe(0.25);
      expect(r.cpu.coordinatorCgroup).toMatch(new RegExp(`/grtb-${process.pid}-c$`));
      // the process's CPU (its threads' included) over the run stays within the quota
      expect(r.cpu.coordinator as number).toBeLessThanOrEqual(0.25 * 1.1);
      expect(remnants()).toEqual([]);
    },
  );
});
