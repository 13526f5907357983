// Issue 18's headline figure on the classroom testbed (scripts/testbed): time to 92 % MNIST test
// accuracy, the room ÷ the host's laptop alone, both measured in the same run (runWithAlone: the host
// alone first, then the room). The host computes in both, as the host tab does: one worker thread in
// the coordinator's process, under the same 0.2-CPU quota as every volunteer (`classroom`: one shared
// 50 Mbit/s link, 0.2 CPU per laptop, the host's included). Volunteers fetch MNIST (7.85 MB) from the
// room server over the shaped link, and the clock (from the room's opening) includes that.
// Evaluation every EVAL_EVERY iterations; evaluation time is left out of the times to target.
// Default job (MLP 784-128-10, Adam 0.005 with 1/(1+0.3 epoch) decay, mini-batch 64), at most 5 epochs.
// Points: 4 and 8 volunteers, exact mode, mode local (H = 4, outer sgd lr 1), mode local with the
// measured defaults (outer sgd lr 1.5, a 160-iteration warm start), and mode auto.
// TESTBED_TTA_POINTS picks some, e.g. "exact-4,local-8". Needs root; where the testbed cannot run
// it records "not run".

import { othersCores } from '../scripts/testbed/format.mjs';
import { probe } from '../scripts/testbed/net.mjs';
import { defaultJob, runWithAlone } from '../scripts/testbed/testbed.mjs';
import { report } from './lib.mjs';

const TARGET = 0.92;
const EVAL_EVERY = Number(process.env.TESTBED_EVAL_EVERY ?? 20);
const can = probe();
if (!can.ok) {
  console.log(`testbed-tta bench not run: ${can.reason}`);
  report('testbed-tta', [{ name: `not run: ${can.reason}` }], { notRun: can.reason });
  process.exit(0);
}

const local = { kind: 'local', steps: 4, outer: { kind: 'sgd', lr: 1 } };
// the measured defaults of issue 19: the outer step by H (sgd 1.5 at H = 4) and a 160-iteration
// warm start, as the command line and the host page set them; and mode auto
const warm = { kind: 'local', steps: 4, outer: { kind: 'sgd', lr: 1.5 }, warmup: 160 };
const auto = { kind: 'auto' };
const POINTS = [
  ['exact-4', 4, undefined],
  ['exact-8', 8, undefined],
  ['local-4', 4, local],
  ['local-8', 8, local],
  ['warm-4', 4, warm],
  ['warm-8', 8, warm],
  ['auto-4', 4, auto],
  ['auto-8', 8, auto],
].filter(([k]) => !process.env.TESTBED_TTA_POINTS || process.env.TESTBED_TTA_POINTS.split(',').includes(k));

/** The first evaluation at or past the target: examples it took, and the seconds of training before it. */
function atTarget(r) {
  const e = [...r.evaluations, ...r.epochs.map((x) => ({ ...x, examples: undefined }))]
    .filter((x) => x.testAccuracy >= TARGET)
    .sort((a, b) => a.iteration - b.iteration)[0];
  return e ? { iteration: e.iteration, examples: e.examples ?? null } : null;
}

const secs = (x) => (x === null ? 'not reached' : `${x.toFixed(1)} s`);
const entries = [];
const runs = {};
for (const [key, volunteers, mode] of POINTS) {
  const label = `classroom, ${volunteers} volunteers + host, ${
    !mode
      ? 'exact mode'
      : mode.kind === 'auto'
        ? 'mode auto'
        : mode.warmup
          ? 'mode local H=4 outer sgd lr 1.5, warm start 160'
          : 'mode local H=4 outer sgd lr 1'
  }`;
  const started = performance.now();
  try {
    const r = await runWithAlone({
      profile: 'classroom',
      volunteers,
      job: { ...defaultJob({ epochs: 5, evaluate: true }), ...(mode ? { mode } : {}) },
      evalEvery: EVAL_EVERY,
      targetAccuracy: TARGET,
      stopAtTarget: true,
      warmup: 5,
      timeoutMs: 600_000,
      log: (l) => console.log(`${key}: ${l}`),
    });
    const a = r.aloneRun;
    const why = (x) =>
      `opening->all in ${x.joinedAt?.toFixed(1)} s, training from ${x.startedAt?.toFixed(1)} s; ${x.examplesPerSec.toFixed(0)} ex/s; target at iteration ${atTarget(x)?.iteration ?? '-'} (${atTarget(x)?.examples ?? '-'} examples); ${x.timing.totalMs.toFixed(0)} ms/iteration = compute ${x.timing.computeMs.toFixed(0)} + transfer ${x.timing.transferMs.toFixed(0)} + wait ${x.timing.waitMs.toFixed(0)}; evaluations ${x.evalSeconds.toFixed(1)} s (left out); machine ${((x.cpu.hostBusy ?? 0) * 100).toFixed(0)} % busy of ${x.cpu.cores} cores, other processes ${othersCores(x)?.toFixed(2)} cores; CPU got: host ${x.cpu.coordinator?.toFixed(2)}${x.cpu.volunteers.length ? `, volunteers ${x.cpu.volunteers.map((v) => v.cpu.toFixed(2)).join('/')}` : ''}`;
    const note = `room: ${why(r)}; data ${(r.data.bytes / 1e6).toFixed(1)} MB, slowest fetch ${r.data.slowestSeconds.toFixed(1)} s | alone: ${why(a)}`;
    console.log(
      `${key}: room ${secs(r.reachedTargetAt)}, alone ${secs(a.reachedTargetAt)} (${((performance.now() - started) / 1000).toFixed(0)} s)\n  ${note}`,
    );
    runs[key] = { ...r, volunteerLines: undefined, aloneRun: { ...a, volunteerLines: undefined } };
    entries.push({
      name: `${label}: time to 92 % MNIST test accuracy, room vs the host alone (same run)`,
      value: r.reachedTargetAt ?? undefined,
      baseline: a.reachedTargetAt ?? undefined,
      unit: 's',
      ...(r.reachedTargetAt !== null && a.reachedTargetAt !== null
        ? { ratio: r.reachedTargetAt / a.reachedTargetAt, target: '<= 1' }
        : { pass: false }),
      note,
    });
  } catch (e) {
    console.log(`${key}: FAILED ${e.message}`);
    entries.push({ name: `${label}: not run (${e.message})` });
  }
}

// a figure from a machine whose other jobs left the testbed less than its quotas add up to is not final
// (a volunteer's own CPU figure does not tell: one standing by uses little of its quota by design)
const starved = Object.entries(runs).flatMap(([k, r]) =>
  [r, r.aloneRun].flatMap((x) => {
    const quotas = (x.cpu.quota ?? 0) * x.volunteers + (x.cpu.hostQuota ?? 0);
    const others = othersCores(x);
    return others !== null && others > x.cpu.cores - quotas
      ? [
          `${k}${x.alone ? ' alone' : ''}: others ${others.toFixed(2)} of ${x.cpu.cores} cores, quotas ${quotas.toFixed(1)}`,
        ]
      : [];
  }),
);
const caution = starved.length
  ? `loaded machine, not final: other processes took more CPU than the quotas left them (${starved.join('; ')})`
  : null;
if (caution) console.log(caution);
report('testbed-tta', entries, {
  caution,
  job: { model: '784-128-10', dataset: 'mnist', batchSize: 64, epochs: 5, target: TARGET, evalEvery: EVAL_EVERY },
  profile: 'classroom',
  cgroup: can.cgroup,
  runs,
});
