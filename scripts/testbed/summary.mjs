// A testbed run's figures, from the coordinator's and volunteers' records.
import { cpus } from 'node:os';
import { datasetName } from '../../packages/worker/dist/data/sizes.js';

const median = (xs) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The run's figures, from the iterations after the warm-up (first shards compile and measure speeds). */
export function summarize(rec, { volunteers, shape, job, warmup, profile, cgroup, wholeFileBytes = null }) {
  const all = rec.iterations;
  const its = all.length > warmup ? all.slice(warmup) : all;
  const sum = (f) => its.reduce((a, e) => a + f(e), 0);
  const totalMs = sum((e) => e.timing.totalMs);
  const mean = (f) => (its.length ? sum(f) / its.length : 0);
  const parameters = rec.done?.parameters ?? 0;
  // the workers that computed a shard of the iteration: each cost one weights copy out, one result in
  const used = its.map((e) => e.workers.filter((w) => w.share > 0).length);
  const last = all.at(-1);
  return {
    profile,
    volunteers,
    shape,
    cgroup,
    job: {
      model: describeModel(job.model),
      dataset:
        job.dataset.kind === 'url'
          ? job.dataset.url.split('/').pop()
          : job.dataset.kind === 'chunked'
            ? `${datasetName(job.dataset)} (chunks of ${job.dataset.chunkExamples})`
            : job.dataset.kind,
      mode: job.mode?.kind ?? 'exact',
      ...(job.model.kind === 'mlp' ? { hidden: job.model.hidden } : {}),
      batchSize: job.batchSize,
      parameters,
      /** The job as the coordinator got it (a packed file by its URL on the room server). */
      config: job,
    },
    hostWorker: rec.done?.hostWorker ?? true,
    via: rec.peers?.via ?? {},
    iterations: all.length,
    measuredIterations: its.length,
    examplesPerSec: totalMs > 0 ? (sum((e) => e.examples) / totalMs) * 1000 : 0,
    fastestAloneExamplesPerSec: median(its.map((e) => e.fastestAloneExamplesPerSec)),
    timing: {
      totalMs: mean((e) => e.timing.totalMs),
      computeMs: mean((e) => e.timing.computeMs),
      transferMs: mean((e) => e.timing.transferMs),
      waitMs: mean((e) => e.timing.waitMs),
      stepMs: mean((e) => e.timing.stepMs),
    },
    /** Per iteration through the coordinator's eth0, as the kernel counted it (headers, acks included). */
    linkBytes: { out: mean((e) => e.link.tx), in: mean((e) => e.link.rx) },
    linkPackets: { out: mean((e) => e.link.txPackets), in: mean((e) => e.link.rxPackets) },
    /** Per iteration as the trainer counted its payloads. */
    eventBytes: { out: mean((e) => e.bytes.out), in: mean((e) => e.bytes.in) },
    workersUsed: used.length ? used.reduce((a, b) => a + b, 0) / used.length : 0,
    floorBytes: 2 * (used.length ? used.reduce((a, b) => a + b, 0) / used.length : 0) * parameters * 4,
    /**
     * Payload beyond 2 x (workers with a shard) x parameters x 4 in an iteration: weights or results
     * that were not one of its shards (probes of members standing by, shards planned again).
     */
    extraPayload: {
      bytes: mean((e) =>
        Math.max(0, e.bytes.out + e.bytes.in - 2 * e.workers.filter((w) => w.share > 0).length * parameters * 4),
      ),
      iterations: its.filter(
        (e) => e.bytes.out + e.bytes.in > 2 * e.workers.filter((w) => w.share > 0).length * parameters * 4 * 1.01,
      ).length,
    },
    shaper: rec.shaper ?? null,
    cpu: cpuFigures(rec, shape),
    /** Each volunteer's bytes over the whole run (setup, probes and evaluation included). */
    volunteerBytes: rec.volunteerBytes ?? [],
    /** Each volunteer's bytes per measured iteration (in: weights and probes to it; out: its results). */
    volunteerBytesPerIteration: (rec.volunteerBytes ?? []).map((v, i) => {
      const a = rec.volunteerAtWarmup?.[i];
      const n = its.length;
      return a && n > 0 && its !== all ? { name: v.name, in: (v.rx - a.rx) / n, out: (v.tx - a.tx) / n } : null;
    }),
    workers: last?.workers ?? [],
    epochs: rec.epochs,
    /** Every evaluatedEvery-N evaluation: iteration, examples, test accuracy and loss, at (s), evalMs. */
    evaluations: rec.evaluations ?? [],
    /** Seconds from the room's opening: all volunteers in, and the first iteration under way. */
    joinedAt: rec.done?.joinedAt ?? null,
    startedAt: rec.done?.startedAt ?? null,
    /** Time spent evaluating, left out of reachedTargetAt. */
    evalSeconds: rec.done?.evalSeconds ?? 0,
    data: dataFigures(rec.volunteerData ?? [], wholeFileBytes),
    utilization: utilization(rec.volunteerRounds ?? {}, rec.evaluations ?? []),
    ...pace(all),
    testAccuracy: rec.done?.testAccuracy ?? Number.NaN,
    /** Seconds from the room's opening (joining and data fetches included), evaluations left out. */
    reachedTargetAt: rec.done?.reachedTargetAt ?? null,
    seconds: rec.done?.seconds ?? 0,
    volunteerLines: rec.volunteerLines,
  };
}

/**
 * How fast the run went through its iterations, to set the room's warm start beside the host alone's
 * same iterations: `pace` is [iteration, seconds from the opening] of the first event at or past
 * each multiple of PACE_EVERY, and `warmStart` the iterations done before mode local's first round
 * and when the last of them ended (null without rounds). An event's iteration is the count done
 * after it.
 */
export const PACE_EVERY = 40;
export function pace(iterations) {
  const out = [];
  let next = PACE_EVERY;
  // the first event at or past each multiple (a round of mode local steps over several)
  for (const e of iterations)
    if (e.iteration >= next) {
      out.push([e.iteration, e.at]);
      next = (Math.floor(e.iteration / PACE_EVERY) + 1) * PACE_EVERY;
    }
  const k = iterations.findIndex((e) => e.round);
  const warmStart = k > 0 ? { iterations: iterations[k - 1].iteration, endedAt: iterations[k - 1].at } : null;
  return { pace: out, warmStart };
}

/**
 * Mode local's compute utilization (issue 19): each volunteer's time in inner steps (its own
 * computeMs) ÷ the span from its first round's start to its last round's end; and the same with
 * the time the coordinator spent evaluating within that span left out (the testbed's
 * --eval-every evaluations are its measuring instrument, and the room waits for each). Null
 * without rounds (exact mode), or without the machine's clock on both sides (older records).
 */
export function utilization(volunteerRounds, evaluations) {
  const per = Object.entries(volunteerRounds)
    .filter(([, rs]) => rs.length > 0 && rs.every((r) => r.wallAt !== undefined))
    .map(([name, rs]) => {
      const start = Math.min(...rs.map((r) => r.wallAt));
      const end = Math.max(...rs.map((r) => r.wallAt + r.ms));
      const compute = rs.reduce((a, r) => a + r.computeMs, 0);
      // the evaluations' windows (their ends less evalMs) inside [start, end]
      const evaluating = evaluations
        .filter((e) => e.wallAt !== undefined)
        .reduce((a, e) => a + Math.max(0, Math.min(end, e.wallAt) - Math.max(start, e.wallAt - e.evalMs)), 0);
      return {
        name,
        rounds: rs.length,
        utilization: compute / (end - start),
        outsideEvaluations: compute / Math.max(end - start - evaluating, 1),
      };
    });
  if (per.length === 0) return null;
  const stat = (k) => {
    const xs = per.map((v) => v[k]);
    return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) };
  };
  return { ...stat('utilization'), outsideEvaluations: stat('outsideEvaluations'), perVolunteer: per };
}

/**
 * Where the CPU went during the run: the machine's busy share of all its cores (neighbours included),
 * the coordinator's CPU per second of training, and each volunteer's against its quota.
 */
function cpuFigures(rec, shape) {
  const a = rec.hostAtStart;
  const b = rec.hostAtEnd;
  const seconds = rec.done?.seconds ?? 0;
  return {
    cores: cpus().length,
    hostBusy: a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null,
    coordinator: seconds > 0 && rec.done?.cpuMs !== undefined ? rec.done.cpuMs / (seconds * 1000) : null,
    /** The coordinator process's cgroup (its worker thread shares it) and the quota there. */
    coordinatorCgroup: rec.done?.cgroup ?? null,
    hostQuota: shape.hostCpu ?? null,
    quota: shape.cpu ?? null,
    volunteers: (rec.volunteerCpu ?? []).map((v) => ({ name: v.name, cpu: v.wallMs > 0 ? v.cpuMs / v.wallMs : 0 })),
  };
}

/** 'mlp 784-128-10', or the model's kind (a zoo name's spec). */
function describeModel(m) {
  if (m.kind === 'mlp') return `mlp ${[m.inputShape.reduce((a, b) => a * b, 1), ...m.hidden, m.classes].join('-')}`;
  return m.name ?? m.kind;
}

/**
 * What the volunteers fetched over their links: every fetch (bytes and seconds), and per volunteer
 * its files, bytes and those bytes ÷ the whole packed file (a chunked data set's members fetch
 * only their partitions; without chunks each fetches the whole file).
 */
function dataFigures(fetches, wholeFileBytes) {
  // wire: the bytes that crossed the link (a gzip body's), bytes: the data set's own
  const each = fetches.map((f) => ({
    name: f.name,
    url: f.url,
    bytes: f.bytes,
    wire: f.wire ?? f.bytes,
    seconds: f.ms / 1000,
    // when it started, on the volunteer's own clock (its rounds' `at` in a trace use the same one)
    ...(f.at !== undefined ? { at: f.at } : {}),
  }));
  const byName = new Map();
  for (const f of each) {
    const v = byName.get(f.name) ?? { name: f.name, files: 0, bytes: 0, wire: 0, seconds: 0 };
    v.files++;
    v.bytes += f.bytes;
    v.wire += f.wire;
    v.seconds += f.seconds;
    byName.set(f.name, v);
  }
  const perVolunteer = [...byName.values()].map((v) => ({
    ...v,
    ofWholeFile: wholeFileBytes ? v.bytes / wholeFileBytes : null,
  }));
  return {
    each,
    bytes: each.reduce((a, f) => a + f.bytes, 0),
    wireBytes: each.reduce((a, f) => a + f.wire, 0),
    slowestSeconds: each.reduce((a, f) => Math.max(a, f.seconds), 0),
    wholeFileBytes,
    perVolunteer,
    maxOfWholeFile: wholeFileBytes ? Math.max(0, ...perVolunteer.map((v) => v.ofWholeFile)) : null,
  };
}
