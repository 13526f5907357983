// Shared by the bench/ scripts: timing, a printed table, and one JSON file per benchmark in bench/out/
// that bench/run.mjs merges into bench/results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;

/** Median wall time in ms of `fn` over `reps` runs after `warmup` runs. */
export async function timeMs(fn, { reps = 7, warmup = 2 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const t = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

/**
 * entries: [{ name, value, unit, baseline?, ratio?, target?, pass?, note? }]
 * `target` is a string such as '<= 5' or '>= 0.9'; pass is computed from ratio when absent.
 */
export function report(bench, entries, meta = {}) {
  for (const e of entries) {
    if (e.pass === undefined && e.target && typeof e.ratio === 'number') {
      const [op, v] = e.target.split(/\s+/);
      e.pass = op === '<=' ? e.ratio <= Number(v) : e.ratio >= Number(v);
    }
  }
  console.log(`\n## ${bench}`);
  console.table(
    entries.map((e) => ({
      name: e.name,
      value: e.value === undefined ? '' : `${round(e.value)} ${e.unit ?? ''}`,
      baseline: e.baseline === undefined ? '' : `${round(e.baseline)} ${e.unit ?? ''}`,
      ratio: e.ratio === undefined ? '' : round(e.ratio),
      target: e.target ?? '',
      pass: e.pass === undefined ? '' : e.pass ? 'yes' : 'NO',
    })),
  );
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(
    join(here, 'out', `${bench}.json`),
    JSON.stringify({ bench, at: new Date().toISOString(), node: process.version, ...meta, entries }, null, 2),
  );
}

export function round(x) {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000;
}

/**
 * The two entries of a memory bench: heap after GC and RSS at the last sample against the first
 * (samples of { heapMB, rssMB }), each named `${what} after ${label(last)} (baseline: after ${label(first)})`.
 */
/**
 * Memory every `every` iterations of `trainer` (node --expose-gc): heap after GC and RSS of this
 * process, with `extra()`'s figures; each sample is printed as it is taken and kept in the array.
 */
export function sampleMemory(trainer, extra = () => ({}), every = 500) {
  const samples = [];
  trainer.on('iteration', (e) => {
    if (e.iteration % every !== 0) return;
    global.gc();
    const m = process.memoryUsage();
    samples.push({
      iteration: e.iteration,
      heapMB: +(m.heapUsed / 1e6).toFixed(2),
      rssMB: +(m.rss / 1e6).toFixed(1),
      ...extra(),
    });
    console.log(JSON.stringify(samples.at(-1)));
  });
  return samples;
}

export function memoryEntries(first, last, label, heapNote = '') {
  return [
    {
      name: `heap after GC after ${label(last)}${heapNote} (baseline: after ${label(first)})`,
      value: last.heapMB,
      baseline: first.heapMB,
      unit: 'MB',
      ratio: last.heapMB / first.heapMB,
    },
    {
      name: `RSS after ${label(last)} (baseline: after ${label(first)})`,
      value: last.rssMB,
      baseline: first.rssMB,
      unit: 'MB',
      ratio: last.rssMB / first.rssMB,
    },
  ];
}
