// Issue 8's benchmark table, on the classroom network testbed (scripts/testbed): real WebRTC between
// Node volunteers in their own network namespaces and cgroups, links shaped by tc. Exact mode, MNIST,
// MLP 784-128-10 (101,770 parameters), mini-batch 64, no evaluation; figures over iterations 9-30, the
// fastest of TESTBED_REPS (2) runs of each point. Each run is the host alone (its worker thread at the
// profile's CPU quota), then the room of volunteers (no host worker), and reports both.
//   classroom (one shared 50 Mbit/s link to the coordinator, 0.2 CPU each), 1/2/4/8 volunteers:
//     room examples/s vs the fastest member alone (the 1-volunteer room, run first and last; the mean)
//   lan (no link limits) at 0.2 CPU each, 1/2/4 volunteers: examples/s vs 1 volunteer
//   every run: coordinator bytes per iteration vs 2 x workers with a shard x parameters x 4, as the
//     trainer counts its payload and as the kernel counts the coordinator's veth (headers, acks)
//   the cost model (core predictRoom) vs every measured point, within 25 %. Its inputs come from two
//     calibration runs, never from the point it predicts: lan 1 volunteer without a quota gives the
//     coordinator's own WebRTC throughput (a rate all members share); lan 1 volunteer at 0.2 CPU gives
//     a member's compute speed, the rate at which it moves bytes at that quota (its WebRTC stack is
//     CPU-bound: a link of its own), its per-shard wait, the step and the wire overhead. Links: the
//     profile's rates; probes of members standing by (budgeted by the shard runner to 5 % of the
//     link) are left out.
//     (The lan 1 at 0.2 CPU point is the calibration, so it is not checked.)
// Needs root (namespaces, tc, cgroups) and npm run build. Where the testbed cannot run it records "not run".
import { predictRoom } from '../packages/core/dist/index.js';
import { othersCores } from '../scripts/testbed/format.mjs';
import { probe } from '../scripts/testbed/net.mjs';
import { defaultJob, PROFILES, runWithAlone } from '../scripts/testbed/testbed.mjs';
import { report } from './lib.mjs';

const ITERATIONS = Number(process.env.TESTBED_ITERATIONS ?? 30);
const WARMUP = 8;
const BATCH = 64;
const CPU = 0.2;
// each point is run this many times and the fastest run kept: on a shared machine the slower runs
// measure the neighbours (every run records the CPU the rest of the machine took)
const REPS = Number(process.env.TESTBED_REPS ?? 2);

const can = probe();
if (!can.ok) {
  console.log(`testbed bench not run: ${can.reason}`);
  report('testbed', [{ name: `not run: ${can.reason}` }], { notRun: can.reason });
  process.exit(0);
}

const runs = {};
const failures = {};
// each run measures the host alone first (its own worker, the profile's CPU quota, the same job), then
// the room of volunteers only: the cost model's points are rooms of volunteers, so the host's worker
// stays out of them here (bench/testbed-tta.bench.mjs times rooms with the host computing)
async function once(profile, volunteers, extra) {
  return runWithAlone({
    profile,
    volunteers,
    hostWorker: false,
    job: defaultJob({ iterations: ITERATIONS, evaluate: false, batchSize: BATCH }),
    warmup: WARMUP,
    timeoutMs: 240_000,
    ...extra,
  });
}

async function point(key, profile, volunteers, extra = {}) {
  let best = null;
  for (let rep = 0; rep < REPS; rep++) {
    const started = performance.now();
    try {
      const r = await once(profile, volunteers, extra);
      const t = r.timing;
      console.log(
        `${key} #${rep + 1}: ${r.examplesPerSec.toFixed(1)} ex/s; ms/iteration ${t.totalMs.toFixed(1)} = compute ${t.computeMs.toFixed(1)} + transfer ${t.transferMs.toFixed(1)} + wait ${t.waitMs.toFixed(1)} + step ${t.stepMs.toFixed(2)}; workers with a shard ${r.workersUsed.toFixed(2)}; kernel ${(r.linkBytes.out + r.linkBytes.in).toFixed(0)} B, payload ${(r.eventBytes.out + r.eventBytes.in).toFixed(0)} B per iteration; machine ${((r.cpu.hostBusy ?? 0) * 100).toFixed(0)} % busy, others ${othersCores(r)?.toFixed(2)} cores, volunteers' CPU ${r.cpu.volunteers.map((v) => v.cpu.toFixed(2)).join('/')} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
      );
      if (!best || r.examplesPerSec > best.examplesPerSec) best = r;
    } catch (e) {
      failures[key] = e.message;
      console.log(`${key} #${rep + 1}: FAILED ${e.message}`);
    }
  }
  if (best) {
    runs[key] = best;
    delete failures[key];
  }
  return best;
}

const calib = await point('lan, 1 volunteer, no CPU quota', 'lan', 1);
const lan = {};
for (const n of [1, 2, 4]) lan[n] = await point(`lan, ${n} volunteer(s) at ${CPU} CPU`, 'lan', n, { cpu: CPU });
const cls = {};
const clsFirst = await point('classroom, 1 volunteer (first)', 'classroom', 1);
for (const n of [2, 4, 8]) cls[n] = await point(`classroom, ${n} volunteers`, 'classroom', n);
// the same room planned as before issue 8: every member gets a shard of every mini-batch
const clsAll = await point('classroom, 4 volunteers, planning all', 'classroom', 4, { planning: 'all' });
const clsLast = await point('classroom, 1 volunteer (last)', 'classroom', 1);
// one home point checks the model where each member's own link limits (10 Mbit/s up, 50 down); its
// members have 0.5 CPU, the model keeps the 0.2-CPU member figures (the uplink's 374 ms per gradient
// dwarfs what the faster CPU saves)
const home2 = await point('home, 2 volunteers', 'home', 2);

const entries = [];
const eps = (r) => r?.examplesPerSec;
// every room beside the host alone, measured in the same run (the alone half of runWithAlone)
for (const [key, r] of Object.entries(runs)) {
  if (!r.aloneRun) continue;
  entries.push({
    name: `${key}: room examples/s vs the host alone (its worker, the same CPU quota, same run)`,
    value: eps(r),
    baseline: eps(r.aloneRun),
    unit: 'ex/s',
    ratio: eps(r) / eps(r.aloneRun),
  });
}
// what the run looked like, for the table's notes: the split, the members used, the neighbours' CPU
const context = (r) =>
  `${r.timing.totalMs.toFixed(0)} ms/iteration = compute ${r.timing.computeMs.toFixed(0)} + transfer ${r.timing.transferMs.toFixed(0)} + wait ${r.timing.waitMs.toFixed(0)} + step ${r.timing.stepMs.toFixed(1)}; ${r.workersUsed.toFixed(2)} workers with a shard; machine ${((r.cpu.hostBusy ?? 0) * 100).toFixed(0)} % busy, other processes ${othersCores(r)?.toFixed(2)} cores; volunteers' CPU ${r.cpu.volunteers.map((v) => v.cpu.toFixed(2)).join('/')}`;
// the fastest member alone: the 1-volunteer room (all volunteers are alike), run before and after
const alone = clsFirst && clsLast ? (eps(clsFirst) + eps(clsLast)) / 2 : (eps(clsFirst) ?? eps(clsLast));
if (alone) {
  entries.push({
    name: 'classroom, 1 volunteer: examples/s (the fastest member alone; mean of a run first and last)',
    value: alone,
    unit: 'ex/s',
    note: `first ${eps(clsFirst)?.toFixed(1)}, last ${eps(clsLast)?.toFixed(1)}: the noise between two equal runs`,
  });
  if (clsFirst && clsLast) {
    entries.push({
      name: 'classroom, 1 volunteer: last run vs first run (noise)',
      ratio: eps(clsLast) / eps(clsFirst),
    });
  }
}
for (const n of [2, 4, 8]) {
  if (!cls[n] || !alone) continue;
  entries.push({
    name: `classroom, ${n} volunteers: room examples/s vs fastest member alone`,
    value: eps(cls[n]),
    baseline: alone,
    unit: 'ex/s',
    ratio: eps(cls[n]) / alone,
    target: '>= 1',
    note: context(cls[n]),
  });
}
if (clsAll && cls[4]) {
  entries.push({
    name: 'classroom, 4 volunteers: cost-aware planning vs every member a shard (planning all)',
    value: eps(cls[4]),
    baseline: eps(clsAll),
    unit: 'ex/s',
    ratio: eps(cls[4]) / eps(clsAll),
    note: `planning all: ${context(clsAll)}`,
  });
}
if (lan[1]) entries.push({ name: `lan, 1 volunteer at ${CPU} CPU: examples/s`, value: eps(lan[1]), unit: 'ex/s' });
for (const [n, target] of [
  [2, '>= 1.6'],
  [4, '>= 2.4'],
]) {
  if (!lan[n] || !lan[1]) continue;
  entries.push({
    name: `lan, ${n} volunteers at ${CPU} CPU: examples/s vs 1 volunteer`,
    value: eps(lan[n]),
    baseline: eps(lan[1]),
    unit: 'ex/s',
    ratio: eps(lan[n]) / eps(lan[1]),
    target,
    note: context(lan[n]),
  });
}

// bytes through the coordinator per iteration against the exact-mode floor
const all = [
  ['lan 1 (no quota)', calib],
  ...[1, 2, 4].map((n) => [`lan ${n}`, lan[n]]),
  ['classroom 1', clsFirst],
  ...[2, 4, 8].map((n) => [`classroom ${n}`, cls[n]]),
  ['home 2', home2],
  ['classroom 4, planning all', clsAll],
];
for (const [label, r] of all) {
  if (!r) continue;
  const payload = r.eventBytes.out + r.eventBytes.in;
  const kernel = r.linkBytes.out + r.linkBytes.in;
  const packets = r.linkPackets.out + r.linkPackets.in;
  entries.push({
    name: `${label}: coordinator payload bytes per iteration (trainer) vs 2 x workers x parameters x 4`,
    value: payload,
    baseline: r.floorBytes,
    unit: 'B',
    ratio: payload / r.floorBytes,
    target: '<= 1.05',
    note: `${r.extraPayload.bytes.toFixed(0)} B per iteration beyond the shards' own, in ${r.extraPayload.iterations} of ${r.measuredIterations} iterations (probes of members standing by, shards planned again)`,
  });
  entries.push({
    name: `${label}: coordinator link bytes per iteration (kernel, veth) vs the same floor`,
    value: kernel,
    baseline: r.floorBytes,
    unit: 'B',
    ratio: kernel / r.floorBytes,
    target: '<= 1.05',
    note: `shaper drops over the run: out ${r.shaper?.out?.drops ?? 'unshaped'}, in ${r.shaper?.in?.drops ?? 'unshaped'}; ${packets.toFixed(0)} packets per iteration, ${((kernel - payload) / packets).toFixed(1)} B beyond payload per packet (Ethernet, IP, UDP, DTLS, SCTP headers; SCTP acks carry no payload)`,
  });
}

// the cost model, calibrated as the header says, against every point it did not calibrate on
const calibration = {};
if (calib && lan[1]) {
  const P = lan[1].job.parameters;
  const floor1 = 2 * P * 4;
  const overhead = (lan[1].linkBytes.out + lan[1].linkBytes.in) / floor1;
  // the coordinator's WebRTC stack moves this much when the volunteer is not throttled: a link all members share
  const coordMbit = ((calib.linkBytes.out + calib.linkBytes.in) * 8) / (calib.timing.transferMs * 1000);
  // a member at 0.2 CPU moves its bytes (DTLS, SCTP, decode, encode) at this rate whatever the link: it
  // acts as the member's own link, in series with the shaped links (the slowest rate wins, pipelined)
  const memberMbit = ((lan[1].linkBytes.out + lan[1].linkBytes.in) * 8) / (lan[1].timing.transferMs * 1000);
  const member = {
    examplesPerSec: (BATCH / lan[1].timing.computeMs) * 1000,
    // the rest of a shard's cost: replanning and waiting, per shard
    shardMs: lan[1].timing.waitMs,
  };
  Object.assign(calibration, { overhead, coordMbit, memberMbit, member, stepMs: lan[1].timing.stepMs, parameters: P });
  console.log('cost model inputs (measured):', JSON.stringify(calibration));
  const predict = (n, profile) => {
    const shape = PROFILES[profile];
    const cap = (x, c) => (x === undefined ? c : Math.min(x, c));
    return predictRoom({
      members: Array.from({ length: n }, () => ({
        ...member,
        upMbit: cap(shape.volUp, memberMbit),
        downMbit: cap(shape.volDown, memberMbit),
      })),
      parameters: P,
      batchSize: BATCH,
      coordinator: {
        upMbit: cap(shape.coordUp, coordMbit),
        downMbit: cap(shape.coordDown, coordMbit),
        stepMs: lan[1].timing.stepMs,
      },
      overhead,
      // members standing by are probed within a budget of 5 % of the link (shard-runner.ts
      // PROBE_SHARE): left out of the model, like any other cost of that size
    });
  };
  const points = [
    ...[2, 4].map((n) => [`lan, ${n} volunteers at ${CPU} CPU`, lan[n], predict(n, 'lan')]),
    ['classroom, 1 volunteer', alone ? { examplesPerSec: alone } : null, predict(1, 'classroom')],
    ...[2, 4, 8].map((n) => [`classroom, ${n} volunteers`, cls[n], predict(n, 'classroom')]),
    ['home, 2 volunteers at 0.5 CPU', home2, predict(2, 'home')],
  ];
  for (const [label, r, p] of points) {
    if (!r) continue;
    const ratio = p.examplesPerSec / r.examplesPerSec;
    entries.push({
      name: `cost model vs measured examples/s: ${label} (model uses ${p.used}, bottleneck ${p.bottleneck})`,
      value: p.examplesPerSec,
      baseline: r.examplesPerSec,
      unit: 'ex/s',
      ratio,
      target: 'within 25 %',
      pass: Math.abs(ratio - 1) <= 0.25,
    });
  }
}
for (const [k, why] of Object.entries(failures)) entries.push({ name: `${k}: not run (${why})` });

report('testbed', entries, {
  job: {
    model: '784-128-10',
    batchSize: BATCH,
    iterations: ITERATIONS,
    warmup: WARMUP,
    backend: 'wasm',
    mode: 'exact',
  },
  profiles: PROFILES,
  cgroup: can.cgroup,
  calibration,
  runs: Object.fromEntries(
    Object.entries(runs).map(([k, r]) => [
      k,
      { ...r, volunteerLines: undefined, aloneRun: { ...r.aloneRun, volunteerLines: undefined } },
    ]),
  ),
});
