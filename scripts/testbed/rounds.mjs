// Where a mode local round's time goes, from a testbed trace (--trace FILE): for each round with no
// evaluation inside it, when its first and its last volunteer started after the previous round
// ended, a volunteer's compute, when the last one ended, and the rest until the round's end.
// The coordinator's events are on its own clock (`at`, seconds); the volunteers' rounds on the
// machine's (`wallAt`, ms): the first evaluation, stamped on both, lines them up.
//   node scripts/testbed/rounds.mjs TRACE.json
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : Number.NaN;
};

/**
 * `trace`: { iterations: [{ at, round? }], evaluations: [{ at, wallAt }], volunteerRounds: { name:
 * [{ wallAt, ms, computeMs }] } }. Null without an evaluation (nothing to line the clocks up with).
 */
export function roundAnatomy(trace) {
  const ev = trace.evaluations ?? [];
  if (ev.length === 0 || ev[0].wallAt === undefined) return null;
  const offset = ev[0].wallAt - ev[0].at * 1000; // coordinator seconds -> machine ms
  const ends = trace.iterations.filter((e) => e.round).map((e) => e.at * 1000 + offset);
  const vols = Object.values(trace.volunteerRounds ?? {});
  const rows = [];
  for (let k = 1; k < ends.length; k++) {
    const start = ends[k - 1];
    const end = ends[k];
    // an evaluation ends inside it (or as it starts): the room waited for the testbed's instrument
    if (ev.some((x) => x.wallAt > start && x.wallAt <= end + 50)) continue;
    // each volunteer's round of this one (a few ms of clock skew allowed at its start)
    const inside = vols.map((rs) => rs.find((r) => r.wallAt >= start - 5 && r.wallAt < end)).filter(Boolean);
    if (inside.length === 0) continue;
    const lastEnd = Math.max(...inside.map((r) => r.wallAt + r.ms)) - start;
    rows.push({
      totalMs: end - start,
      firstStartMs: Math.min(...inside.map((r) => r.wallAt)) - start,
      lastStartMs: Math.max(...inside.map((r) => r.wallAt)) - start,
      computeMs: median(inside.map((r) => r.computeMs)),
      lastEndMs: lastEnd,
      tailMs: end - start - lastEnd,
      volunteers: inside.length,
    });
  }
  const keys = ['totalMs', 'firstStartMs', 'lastStartMs', 'computeMs', 'lastEndMs', 'tailMs'];
  return { rounds: rows.length, median: Object.fromEntries(keys.map((k) => [k, median(rows.map((r) => r[k]))])), rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/testbed/rounds.mjs TRACE.json');
    process.exit(2);
  }
  const a = roundAnatomy(JSON.parse(readFileSync(file, 'utf8')));
  if (!a) {
    console.error(`${file}: no evaluation to line the clocks up with (run with --eval-every)`);
    process.exit(1);
  }
  console.log(`${a.rounds} rounds with no evaluation inside; medians, ms from the previous round's end:`);
  for (const [k, v] of Object.entries(a.median)) console.log(`  ${k.padEnd(13)} ${Math.round(v)}`);
}
