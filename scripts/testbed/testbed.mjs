// The classroom network testbed: one room (room server, hostRoom + Trainer) in the coordinator's
// namespace and N Node volunteers over real WebRTC, each in its own namespace and cgroup, behind
// links shaped by tc. runTestbed() builds it, runs one training job, removes everything it made
// (also on failure, SIGINT and SIGTERM) and returns the run's figures.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { datasetName } from '../../packages/worker/dist/data/sizes.js';
import { buildTestbed, linkBytes, MAX_VOLUNTEERS, probe, qdiscStats, removeLeftovers, tabTempDir } from './net.mjs';
import { summarize } from './summary.mjs';

const here = import.meta.dirname;
const DEMO_DIST = join(here, '..', '..', 'apps', 'demo', 'dist');
// where the built-in packed data sets (mnist.bin, fashion-mnist.bin) are; the room server serves them
const WORKER_DIST = join(here, '..', '..', 'packages', 'worker', 'dist');

/** The issue's profiles, in Mbit/s and CPUs; undefined means no limit. Flags override each number. */
export const PROFILES = {
  lan: { describe: 'no limits' },
  classroom: {
    describe: 'every volunteer behind one shared 50 Mbit/s link to the coordinator, 0.2 of a CPU each',
    coordUp: 50,
    coordDown: 50,
    cpu: 0.2,
  },
  home: {
    describe: 'coordinator 100 Mbit/s; each volunteer 10 Mbit/s up, 50 down, 0.5 of a CPU',
    coordUp: 100,
    coordDown: 100,
    volUp: 10,
    volDown: 50,
    cpu: 0.5,
  },
};

/** The default job: MNIST with the product's default MLP (784-128-10) and Adam. */
export function defaultJob({ batchSize = 64, epochs = 5, iterations, hidden = [128], evaluate = true, seed = 1 } = {}) {
  return {
    model: { kind: 'mlp', inputShape: [28, 28, 1], hidden, classes: 10 },
    dataset: { kind: 'mnist', split: 'train' },
    optimizer: { kind: 'adam', lr: 0.005, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    schedule: { kind: 'inverse-time', lr0: 0.005, decayRate: 0.3 },
    batchSize,
    epochs,
    seed,
    ...(iterations ? { maxIterations: iterations } : {}),
    evaluate,
  };
}

export class TestbedUnavailable extends Error {}

/** The shape of one run: the profile's numbers, each replaced by an option where one is given. */
export function shapeOf(opts) {
  const p = PROFILES[opts.profile ?? 'lan'];
  if (!p) throw new Error(`unknown profile '${opts.profile}' (lan, classroom, home)`);
  const shape = {};
  for (const k of ['coordUp', 'coordDown', 'volUp', 'volDown', 'cpu', 'hostCpu']) {
    // the host's laptop is a laptop too: its quota is the volunteers' unless given (or it has no worker)
    const fallback = k === 'hostCpu' ? (opts.hostWorker === false ? undefined : shape.cpu) : p[k];
    const v = opts[k] !== undefined ? opts[k] : fallback;
    // 0 (or 'none' on the command line) lifts a profile's limit
    if (v !== undefined && v !== 0) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
        throw new Error(`${k} must be a positive number, got ${v}`);
      shape[k] = v;
    }
  }
  for (const k of ['cpu', 'hostCpu'])
    if (shape[k] !== undefined && shape[k] > 64) throw new Error(`${k} is a share of CPUs, got ${shape[k]}`);
  // older laptops: the first `slow` volunteers get slowCpu (default a third of cpu)
  if (opts.slow !== undefined && opts.slow !== 0) {
    if (!(Number.isInteger(opts.slow) && opts.slow > 0))
      throw new Error(`slow must be a whole number, got ${opts.slow}`);
    if (opts.slow > (opts.volunteers ?? 0))
      throw new Error(`slow is ${opts.slow}, more than the ${opts.volunteers ?? 0} volunteer(s)`);
    if (shape.cpu === undefined) throw new Error('slow volunteers need a CPU quota for the others (cpu)');
    const x = opts.slowCpu ?? shape.cpu / 3;
    if (!(typeof x === 'number' && x > 0 && x <= shape.cpu))
      throw new Error(`slowCpu must be a positive share of a CPU, at most cpu (${shape.cpu}), got ${x}`);
    shape.slow = opts.slow;
    shape.slowCpu = x;
  } else if (opts.slowCpu !== undefined) throw new Error('slowCpu needs slow: how many volunteers are slow');
  return shape;
}

function lines(stream, onLine) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      try {
        onLine(line);
      } catch (e) {
        // a garbled line from a child is reported, never thrown out of the stream's listener
        console.error(`testbed: could not read a child's line (${e.message}): ${line.slice(0, 200)}`);
      }
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
}

/** Busy and total CPU time of the whole machine so far (/proc/stat), to tell what the neighbours took. */
function hostCpu() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Mode local or exact on a built-in data set takes its chunked form (dist/chunks/NAME, made by the
 * build) (issue 18 §2): in mode local each member fetches only its partition; in exact mode the
 * coordinator sends each volunteer the examples of its shards (shardExamples) and it fetches no
 * file. `chunks: false` keeps the whole file, as does the host alone in exact mode (`alone`). Mode auto keeps it too (its local phases draw from the
 * epoch plan, not partitions, so a member would fetch a chunk for nearly every example).
 */
export function withChunks(job, chunks = true, alone = false) {
  const k = job.dataset.kind;
  const mode = job.mode?.kind ?? 'exact';
  // the host alone in exact mode reads the whole file from its disk, as a laptop alone does
  const exact = mode === 'exact' && !alone;
  if (!chunks || (mode !== 'local' && !exact) || (k !== 'mnist' && k !== 'fashion-mnist')) return job;
  const file = join(WORKER_DIST, 'chunks', k, 'spec.json');
  if (!existsSync(file)) throw new Error(`no chunked ${k}: run npm run build (no ${file})`);
  return { ...job, dataset: JSON.parse(readFileSync(file, 'utf8')) };
}

/** The size of the whole packed file the data set comes from: what a member fetches without chunks. */
function wholeFileBytes(job, dataFile) {
  const d = job.dataset;
  const name = datasetName(d);
  const file = dataFile ?? join(WORKER_DIST, `${name}.bin`);
  return existsSync(file) ? statSync(file).size : null;
}

/** Where the room server finds the job's data set: the built-in files, or a packed file's folder. */
function dataFolder(job, dataFile) {
  const k = job.dataset.kind;
  if (k === 'mnist' || k === 'fashion-mnist' || k === 'chunked') return WORKER_DIST;
  if (k === 'synthetic') return undefined; // each member makes it from the seed: nothing travels
  if (k === 'url') {
    if (!dataFile || job.dataset.url !== `/datasets/${basename(dataFile)}`)
      throw new Error(`a data set by URL must be the packed file given as dataFile, served at /datasets/NAME`);
    return dirname(dataFile);
  }
  throw new Error(`the testbed serves mnist, fashion-mnist, synthetic or a packed file, not '${k}'`);
}

/**
 * `node` in namespace `ns`; with a cgroup, the shell puts itself into it first and then becomes the
 * process, so the quota holds for it and every thread it starts (workers, wrtc's).
 */
function inCgroup(cgroup, ns, node, env) {
  const o = { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) };
  return cgroup
    ? spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$@"', cgroup, ns, ...node], o)
    : spawn('ip', ['netns', 'exec', ns, ...node], o);
}

/**
 * The job as the host's laptop alone trains it: plain mini-batch training (exact mode), whatever mode
 * the room runs. Mode local and auto are ways a room divides its work; alone, mode local with one
 * worker is a handicap, not a baseline: on Fashion-MNIST it needed 89,696 examples to 85 % where
 * exact mode needed 38,400, and took 108-124 s where exact mode took 59 s (round 7).
 */
export function aloneJob(job) {
  const { mode: _room, ...alone } = job;
  return alone;
}

/**
 * The host alone (its worker, no volunteers, the same quota and job, in exact mode unless
 * `aloneSameMode`: see runTestbed), then the room, one after the other: the room's figures with
 * `aloneReachedTargetAt` and the alone run's own under `aloneRun`.
 */
export async function runWithAlone(opts = {}) {
  const log = opts.log ?? (() => {});
  log('the host alone first');
  // the alone half always has the host's worker (it is the only one); the room keeps opts.hostWorker
  const alone = await runTestbed({ ...opts, alone: true, tabs: 0, hostWorker: true });
  log(
    `alone: ${alone.reachedTargetAt === null ? 'target not reached' : `target at ${alone.reachedTargetAt.toFixed(1)} s`}; now the room`,
  );
  const room = await runTestbed(opts);
  return { ...room, aloneReachedTargetAt: alone.reachedTargetAt, aloneRun: alone };
}

/**
 * Runs one job on a fresh testbed. Options: profile, volunteers, coordUp, coordDown, volUp, volDown,
 * cpu (override the profile), job (default defaultJob()), warmup (iterations left out of the figures,
 * default 5), targetAccuracy (default 0.92), stopAtTarget, timeoutMs (the whole run), log(line),
 * planning ('cost' or 'all', the trainer's), tabs (Chromium tabs that volunteer too, each in its own
 * namespace and cgroup like a Node volunteer; they need apps/demo/dist and Chromium), hostCpu (the
 * coordinator's quota, default cpu), hostWorker (default true: the coordinator computes too), alone
 * (the host's worker with no volunteers, in exact mode unless aloneSameMode), evalEvery (evaluate every N iterations), dataFile (a
 * packed file the job names as { kind: 'url', url: '/datasets/NAME' }), dataSizes (its sizes), chunks
 * (default true: mode local or exact on mnist or fashion-mnist uses their chunked form, see withChunks),
 * shardExamples (default true: over chunks, volunteers' exact-mode shards carry their examples),
 * packed (default true: exact mode's weights and gradient sums travel packed, RoomHostOptions.packed).
 */
export async function runTestbed(opts = {}) {
  const alone = !!opts.alone;
  if (alone && opts.hostWorker === false) throw new Error('alone needs the host worker: it is the only one');
  const volunteers = alone ? 0 : (opts.volunteers ?? 1);
  if (!alone && (!Number.isInteger(volunteers) || volunteers < 1 || volunteers > MAX_VOLUNTEERS)) {
    throw new Error(`volunteers must be an integer from 1 to ${MAX_VOLUNTEERS}, got ${volunteers}`);
  }
  const tabs = alone ? 0 : (opts.tabs ?? 0);
  if (!Number.isInteger(tabs) || tabs < 0 || volunteers + tabs > MAX_VOLUNTEERS) {
    throw new Error(`tabs must be an integer from 0 to ${MAX_VOLUNTEERS - volunteers}, got ${tabs}`);
  }
  if (tabs > 0 && !existsSync(join(DEMO_DIST, 'volunteer.html'))) {
    throw new Error(`Chromium tabs need the demo's pages: run npm run build (no ${DEMO_DIST}/volunteer.html)`);
  }
  if (opts.planning !== undefined && opts.planning !== 'cost' && opts.planning !== 'all') {
    throw new Error(`planning must be 'cost' or 'all', got '${opts.planning}'`);
  }
  const shape = shapeOf(opts);
  // the host alone trains as a laptop alone does, unless asked to keep the room's mode (aloneJob)
  const given = opts.job ?? defaultJob();
  const job = withChunks(alone && !opts.aloneSameMode ? aloneJob(given) : given, opts.chunks !== false, alone);
  const data = dataFolder(job, opts.dataFile);
  if (opts.evalEvery !== undefined && !(Number.isInteger(opts.evalEvery) && opts.evalEvery >= 1))
    throw new Error(`evalEvery must be a positive integer, got ${opts.evalEvery}`);
  const log = opts.log ?? (() => {});
  const ok = probe();
  if (!ok.ok) throw new TestbedUnavailable(ok.reason);
  const leftovers = removeLeftovers();
  if (leftovers.length) log(`removed ${leftovers.length} leftovers of an earlier run: ${leftovers.join(', ')}`);

  const children = [];
  /**
   * Children whose output has been read to its end ('close', not 'exit': a process can exit before
   * its last lines, a volunteer's rounds and CPU, are read; the trace then lacked them).
   */
  const drained = new WeakSet();
  const running = () => children.some((c) => !drained.has(c));
  const spawned = (c) => {
    c.once('close', () => drained.add(c));
    children.push(c);
    return c;
  };
  let tb;
  let tabTmp;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    tb?.remove();
    if (tabTmp) rmSync(tabTmp, { recursive: true, force: true });
  };
  const onSignal = (sig) => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  // handlers first: a signal that arrives while the (synchronous) build runs is handled right after it
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', cleanup);
  try {
    tb = buildTestbed(volunteers + tabs, shape);
  } catch (e) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', cleanup);
    throw e;
  }
  const names = tb.volunteers.map((_, i) => (i < volunteers ? `v${i}` : `tab${i - volunteers}`));

  const records = {
    iterations: [],
    epochs: [],
    evaluations: [],
    volunteerData: [],
    peers: null,
    done: null,
    shaper: null,
    volunteerAtWarmup: null,
    volunteerBytes: [],
    volunteerCpu: [],
    volunteerLines: [],
    errors: [],
    logs: [],
  };
  try {
    const result = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the run took longer than ${opts.timeoutMs ?? 600_000} ms`)),
        opts.timeoutMs ?? 600_000,
      );
      const fail = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      const coordArgs = {
        host: tb.coordAddr,
        volunteers: volunteers + tabs,
        job,
        planning: opts.planning ?? 'cost',
        ...(tabs > 0 ? { dist: DEMO_DIST, joinTimeoutMs: 180_000 } : {}),
        targetAccuracy: opts.targetAccuracy ?? 0.92,
        stopAtTarget: !!opts.stopAtTarget,
        hostWorker: opts.hostWorker !== false,
        data,
        shardExamples: opts.shardExamples !== false,
        packed: opts.packed !== false,
        ...(opts.evalEvery ? { evalEvery: opts.evalEvery } : {}),
        ...(opts.dataSizes ? { dataSizes: opts.dataSizes } : {}),
      };
      const coord = inCgroup(tb.coordCgroup, tb.coord, [
        process.execPath,
        // e.g. TESTBED_COORD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": where the host's CPU goes
        ...(process.env.TESTBED_COORD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        join(here, 'coordinator.mjs'),
        JSON.stringify(coordArgs),
      ]);
      spawned(coord);
      const coordErr = [];
      lines(coord.stderr, (l) => {
        coordErr.push(l);
        if (coordErr.length > 50) coordErr.shift(); // only the last lines explain a failure
      });
      coord.on('error', fail);
      coord.on('exit', (code) => {
        if (records.done) {
          clearTimeout(timer);
          resolve(records);
        } else {
          const why = records.errors.map((e) => e.message).join('; ') || coordErr.slice(-14).join(' | ');
          fail(new Error(`the coordinator exited with ${code} before the run ended: ${why}`));
        }
      });
      lines(coord.stdout, (l) => {
        const m = /^TBC (\w+) (.*)$/.exec(l);
        if (!m) return; // tfjs banners and the like
        const data = JSON.parse(m[2]);
        if (m[1] === 'peers') records.hostAtStart = hostCpu();
        if (m[1] === 'ready') {
          log(
            `room open at ${data.wsUrl}; starting ${volunteers} volunteer(s)${tabs ? ` and ${tabs} Chromium tab(s)` : ''}`,
          );
          for (const [i, v] of tb.volunteers.entries()) {
            const tab = i >= volunteers;
            const args = JSON.stringify({
              url: tab ? data.url : data.wsUrl,
              data: new URL('/datasets/', data.url).href,
              token: data.token,
              name: names[i],
            });
            const node = [process.execPath, join(here, tab ? 'tab.mjs' : 'volunteer.mjs'), args];
            if (tab) tabTmp ??= tabTempDir();
            const child = inCgroup(v.cgroup, v.ns, node, tab ? { TMPDIR: tabTmp } : undefined);
            spawned(child);
            const keep = (l) => {
              const cpu = /^TBV (\S+) cpu (.*)$/.exec(l);
              const fetched = /^TBV (\S+) data (.*)$/.exec(l);
              const rounds = /^TBV (\S+) rounds (.*)$/.exec(l);
              if (cpu) records.volunteerCpu.push({ name: cpu[1], ...JSON.parse(cpu[2]) });
              else if (fetched) records.volunteerData.push({ name: fetched[1], ...JSON.parse(fetched[2]) });
              else if (rounds) {
                records.volunteerRounds ??= {};
                records.volunteerRounds[rounds[1]] = JSON.parse(rounds[2]);
              } else if ((l.startsWith('TBV') || /error/i.test(l)) && records.volunteerLines.length < 200) {
                records.volunteerLines.push(l);
              }
            };
            lines(child.stdout, keep);
            lines(child.stderr, keep);
          }
        } else if (m[1] === 'peers') {
          records.peers = data;
          log(
            `${data.accepted} volunteer(s) in: ${Object.entries(data.via)
              .map(([n, v]) => `${n} ${v}`)
              .join(', ')}`,
          );
        } else if (m[1] === 'iteration') {
          records.iterations.push(data);
          // each volunteer's counters where the figures start, to tell what each cost per measured iteration
          if (data.iteration === (opts.warmup ?? 5))
            records.volunteerAtWarmup = tb.volunteers.map((v) => linkBytes(v.ns, 'eth0'));
          if (opts.onIteration) opts.onIteration(data);
        } else if (m[1] === 'evaluation') {
          records.evaluations.push(data);
        } else if (m[1] === 'epoch') {
          records.epochs.push(data);
          log(
            `epoch ${data.epoch}: test accuracy ${(data.testAccuracy * 100).toFixed(2)} % at ${data.at.toFixed(1)} s`,
          );
        } else if (m[1] === 'done') {
          records.done = data;
          records.hostAtEnd = hostCpu();
          // what the shaper on the coordinator's link did over the run (drops cost retransmissions)
          records.shaper = { out: qdiscStats(tb.coord, 'eth0'), in: qdiscStats(tb.hub, 'c') };
          // each volunteer's whole-run bytes (from its namespace's eth0): what standing by costs
          records.volunteerBytes = tb.volunteers.map((v, i) => ({ name: names[i], ...linkBytes(v.ns, 'eth0') }));
        } else if (m[1] === 'log') {
          if (records.logs.length < 2000) records.logs.push(data);
          if (data.message.startsWith('stalled')) process.stderr.write(`testbed: ${data.message}\n`);
        } else if (m[1] === 'error') {
          records.errors.push(data);
        }
      });
    });
    const end = Date.now() + 3000;
    while (running() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    // --trace FILE: every iteration's and evaluation's record, and each volunteer's rounds as it saw them
    if (opts.trace)
      writeFileSync(
        opts.trace,
        JSON.stringify({
          iterations: records.iterations,
          evaluations: records.evaluations,
          logs: records.logs,
          volunteerRounds: records.volunteerRounds ?? {},
        }),
      );
    return {
      alone,
      tabs,
      planning: opts.planning ?? 'cost',
      ...summarize(result, {
        volunteers,
        shape,
        job,
        warmup: opts.warmup ?? 5,
        profile: opts.profile ?? 'lan',
        cgroup: tb.cgroup,
        wholeFileBytes: wholeFileBytes(job, opts.dataFile),
      }),
      targetAccuracy: opts.targetAccuracy ?? 0.92,
      // the epoch's mini-batches: a short epoch caps mode local's rounds (bench/testbed-tta-model)
      batchesPerEpoch: records.iterations[0]?.batchesPerEpoch ?? null,
    };
  } finally {
    // volunteers leave on their own once the room closes (and report their CPU); whatever has not
    // within 3 s is ended here
    const end = Date.now() + 3000;
    while (running() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', cleanup);
  }
}
