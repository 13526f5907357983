// How a testbed run reads on a terminal.

const mbit = (x) => (x === undefined ? 'unlimited' : `${x} Mbit/s`);

/** One line: the links and CPU quotas of a run. */
export function describeShape(s) {
  const coord = s.coordUp === s.coordDown ? mbit(s.coordUp) : `${mbit(s.coordUp)} out, ${mbit(s.coordDown)} in`;
  const vol = s.volUp === s.volDown ? mbit(s.volUp) : `${mbit(s.volUp)} up, ${mbit(s.volDown)} down`;
  const host = s.hostCpu === undefined ? 'no quota' : `${s.hostCpu}`;
  const slow = s.slow ? ` (v0${s.slow > 1 ? `-v${s.slow - 1}` : ''}: ${s.slowCpu})` : '';
  return `coordinator link ${coord}; each volunteer's link ${vol}; CPU ${s.cpu === undefined ? 'no quota' : `${s.cpu}`} per volunteer${slow}, host ${host}`;
}

const mb = (b) => `${(b / 1e6).toFixed(3)} MB`;
const fix = (x) => (x === null || x === undefined ? '-' : x.toFixed(1));
const reached = (r) =>
  r.reachedTargetAt === null ? `not reached in ${r.seconds.toFixed(1)} s` : `${r.reachedTargetAt.toFixed(1)} s`;
const ms = (x) => x.toFixed(1);

/** CPU the rest of the machine took during the run (the testbed's own processes subtracted), in cores. */
export function othersCores(r) {
  if (r.cpu.hostBusy === null || r.cpu.coordinator === null) return null;
  const own = r.cpu.coordinator + r.cpu.volunteers.reduce((a, v) => a + v.cpu, 0);
  return Math.max(0, r.cpu.hostBusy * r.cpu.cores - own);
}

function othersText(r) {
  const o = othersCores(r);
  return o === null ? '' : ` (other processes about ${o.toFixed(2)} cores)`;
}

/** The figures of one run, as the issue asks for them. */
export function formatRun(r) {
  const t = r.timing;
  const alone = r.fastestAloneExamplesPerSec;
  const linkTotal = r.linkBytes.out + r.linkBytes.in;
  const eventTotal = r.eventBytes.out + r.eventBytes.in;
  const lines = [
    `profile ${r.profile}, ${r.alone ? 'the host alone' : `${r.volunteers} volunteer(s)`}${r.tabs ? ` and ${r.tabs} Chromium tab(s)` : ''}${r.hostWorker ? ' + the host worker' : ''}, planning ${r.planning} (${Object.entries(
      r.via,
    )
      .map(([n, v]) => `${n} ${v}`)
      .join(', ')}); ${describeShape(r.shape)}`,
    `job: ${r.job.model} (${r.job.parameters} parameters) on ${r.job.dataset}, mode ${r.job.mode}, mini-batch ${r.job.batchSize}; figures over ${r.measuredIterations} of ${r.iterations} iterations`,
    `timeline (s from opening): all in at ${fix(r.joinedAt)}, training from ${fix(r.startedAt)}, ended at ${fix(r.seconds)}; evaluations took ${r.evalSeconds.toFixed(1)} s`,
    ...(r.data.each.length
      ? [
          `data over the links:      ${mb(r.data.bytes)} in all (${mb(r.data.wireBytes ?? r.data.bytes)} on the wire); ${(r.data.perVolunteer ?? []).map((d) => `${d.name} ${mb(d.bytes)} in ${d.files} file(s), ${d.seconds.toFixed(1)} s`).join(', ')}`,
          ...(r.data.wholeFileBytes
            ? [
                `data per volunteer ÷ the whole file (${mb(r.data.wholeFileBytes)}): ${r.data.perVolunteer.map((d) => `${d.name} ${d.ofWholeFile.toFixed(3)}`).join(', ')}; most ${r.data.maxOfWholeFile.toFixed(3)}`,
              ]
            : []),
        ]
      : []),
    `examples/s:               ${r.examplesPerSec.toFixed(1)}${alone > 0 ? ` (fastest member alone, the trainer's estimate: ${alone.toFixed(1)}; ratio ${(r.examplesPerSec / alone).toFixed(2)})` : ''}`,
    ...(r.utilization
      ? [
          `compute utilization:      ${r.utilization.mean.toFixed(2)} (volunteers ${r.utilization.min.toFixed(2)}-${r.utilization.max.toFixed(2)}); outside evaluations ${r.utilization.outsideEvaluations.mean.toFixed(2)} (${r.utilization.outsideEvaluations.min.toFixed(2)}-${r.utilization.outsideEvaluations.max.toFixed(2)})`,
        ]
      : []),
    `per iteration (ms):       total ${ms(t.totalMs)} = compute ${ms(t.computeMs)} + transfer ${ms(t.transferMs)} + waiting ${ms(t.waitMs)} + step ${ms(t.stepMs)}`,
    // the host alone has no link: its payload moves between threads
    ...(r.alone
      ? []
      : [
          `coordinator link / iter:  ${mb(linkTotal)} by the kernel (out ${mb(r.linkBytes.out)} in ${r.linkPackets.out.toFixed(0)} packets, in ${mb(r.linkBytes.in)} in ${r.linkPackets.in.toFixed(0)} packets)`,
          `                          ${mb(eventTotal)} of payload by the trainer (out ${mb(r.eventBytes.out)}, in ${mb(r.eventBytes.in)})${r.hostWorker ? `, the host worker's included (it crosses no link)` : ''}`,
          `exact-mode floor / iter:  2 x ${r.workersUsed.toFixed(1)} workers with a shard x ${r.job.parameters} x 4 B = ${mb(r.floorBytes)}; kernel ${(linkTotal / r.floorBytes).toFixed(3)}x${eventTotal > 0 ? `, payload ${(eventTotal / r.floorBytes).toFixed(3)}x` : ''}`,
          `beyond the floor:         ${mb(r.extraPayload.bytes)} of payload per iteration (in ${r.extraPayload.iterations} of ${r.measuredIterations} iterations: probes of members standing by, shards planned again)`,
          ...(r.shaper?.out || r.shaper?.in
            ? [
                `shaper on that link:      out ${r.shaper.out ? `${r.shaper.out.drops} drops of ${r.shaper.out.packets} packets` : 'unshaped'}, in ${r.shaper.in ? `${r.shaper.in.drops} drops of ${r.shaper.in.packets} packets` : 'unshaped'} over the run`,
              ]
            : []),
          `each volunteer / iter:    ${r.volunteerBytesPerIteration.map((v, i) => (v ? `${v.name} in ${mb(v.in)} out ${mb(v.out)}` : `v${i} ?`)).join('; ')} (its own link, by the kernel)`,
        ]),
    `CPU:                      machine ${r.cpu.hostBusy === null ? '?' : `${(r.cpu.hostBusy * 100).toFixed(0)} %`} busy of ${r.cpu.cores} cores${othersText(r)}; coordinator ${r.cpu.coordinator === null ? '?' : r.cpu.coordinator.toFixed(2)} CPU; volunteers ${r.cpu.volunteers.map((v) => `${v.name} ${v.cpu.toFixed(2)}`).join(', ')}${r.cpu.quota ? ` (quota ${r.cpu.quota})` : ''}`,
    `workers:                  ${r.workers.map((w) => `${w.name ?? '?'} ${w.status} share ${(w.share * 100).toFixed(0)} %${w.fixedMs !== undefined ? ` fixed ${w.fixedMs.toFixed(0)} ms` : ''}${w.standby ? ` (${w.standby})` : ''}`).join('; ')}`,
  ];
  if (r.epochs.length > 0 || r.evaluations.length > 0) {
    const pct = (a) => `${(a * 100).toFixed(2)} %`;
    const when = r.evaluations.length ? 'evaluated every few iterations' : 'evaluated after each epoch';
    lines.push(
      `test accuracy by epoch:   ${r.epochs.map((e) => `${pct(e.testAccuracy)} at ${e.at.toFixed(1)} s`).join(', ') || '-'}`,
      ...(r.evaluations.length
        ? [
            `evaluations:              ${r.evaluations.length}, last ${pct(r.evaluations.at(-1).testAccuracy)} at iteration ${r.evaluations.at(-1).iteration}`,
          ]
        : []),
      `time to ${(r.targetAccuracy * 100).toFixed(0)} % test accuracy: ${reached(r)} (${when}; from the opening, evaluations left out)`,
    );
  }
  if (r.aloneRun) {
    const a = r.aloneReachedTargetAt;
    lines.push(
      `the host alone:           ${reached(r.aloneRun)}; room ÷ alone ${a !== null && r.reachedTargetAt !== null ? (r.reachedTargetAt / a).toFixed(2) : '-'}`,
    );
  }
  return lines.join('\n');
}
