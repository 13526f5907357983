// Issue 19's targets under the defaults that the sweep chose (defaultOuter in @gradroom/core), on
// Node worker threads: `node bench/local-sweep.bench.mjs targets mnist|fashion`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_JOB, spawnThreadWorker, Trainer } from '../packages/coordinator/dist/index.js';
import { defaultOuter } from '../packages/core/dist/index.js';
import { report } from './lib.mjs';

/** Test accuracy after each epoch (the trainer's own evaluation), stopping once `target` is reached. */
async function epochs(mode, workers, maxEpochs, target) {
  const t = new Trainer({ ...DEFAULT_JOB, epochs: maxEpochs, ...(mode ? { mode } : {}) }, { backends: ['wasm'] });
  for (let i = 0; i < workers; i++) t.addWorker(spawnThreadWorker({ stdout: process.stderr }));
  const acc = [];
  t.on('epoch', (e) => {
    acc.push(e.testAccuracy);
    if (target !== undefined && e.testAccuracy >= target) t.stop();
  });
  await t.run();
  await t.close();
  return acc;
}

export async function runTargets({ point, data, dataName }) {
  const entries = [];
  if (dataName === 'mnist') {
    const outer2 = defaultOuter({ steps: 4, workers: 2 });
    const [exact1] = await epochs(undefined, 2, 1);
    // each without and with the inner rate times sqrt(workers) (the command line's default since)
    for (const innerScale of ['none', 'sqrt-workers']) {
      const [local1] = await epochs({ kind: 'local', steps: 4, outer: outer2, innerScale }, 2, 1);
      console.log({ exact1, local1, outer2, innerScale });
      entries.push({
        name: `MNIST 2 threads H=4 default outer (${JSON.stringify(outer2)}), inner scale ${innerScale}: accuracy after 1 epoch / exact`,
        value: local1 * 100,
        baseline: exact1 * 100,
        unit: '%',
        ratio: local1 / exact1,
        target: '>= 0.98',
      });
    }
    const outer6 = defaultOuter({ steps: 8, workers: 6 });
    for (const innerScale of ['none', 'sqrt-workers']) {
      const curve = await epochs({ kind: 'local', steps: 8, compress: 'int8', outer: outer6, innerScale }, 6, 8, 0.92);
      const reached = curve.findIndex((a) => a >= 0.92);
      console.log({ curve, outer6, innerScale });
      entries.push({
        name: `MNIST 6 threads H=8 int8 default outer (${JSON.stringify(outer6)}), inner scale ${innerScale}, no warm start: epochs to 92 % (per-epoch accuracy ${curve.map((a) => (a * 100).toFixed(1)).join(', ')})`,
        value: reached < 0 ? Number.POSITIVE_INFINITY : reached + 1,
        unit: 'epochs',
        pass: reached >= 0 && reached + 1 <= 4,
        target: '<= 4',
      });
    }
  } else {
    const outer = defaultOuter({ steps: 16, workers: 8 });
    // the sweep's own points when it measured this cell (the same job and seed), else run them
    const swept = join(import.meta.dirname, 'out', 'local-sweep-fashion.json');
    const points = existsSync(swept) ? JSON.parse(readFileSync(swept, 'utf8')).points : [];
    const same = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
    const exact =
      points.find((p) => p.mode.kind === 'exact' && p.innerScale === undefined) ?? (await point({ workers: 2 }));
    // unscaled, and with the inner rate times 2.83 = sqrt(8) (the sweep's point for the sqrt rule)
    for (const innerScale of [undefined, 2.83]) {
      const local =
        points.find(
          (p) => p.workers === 8 && p.mode.steps === 16 && same(p.mode.outer, outer) && p.innerScale === innerScale,
        ) ??
        (await point({ workers: 8, mode: { kind: 'local', steps: 16, outer }, ...(innerScale ? { innerScale } : {}) }));
      console.log({ exact: exact.examplesToTarget, local: local.examplesToTarget, outer, innerScale });
      entries.push({
        name: `Fashion-MNIST 60k, 8 threads H=16 default outer (${JSON.stringify(outer)}), inner rate x${innerScale ?? 1}: examples to 85 % / exact's`,
        value: local.examplesToTarget ?? Number.POSITIVE_INFINITY,
        baseline: exact.examplesToTarget ?? Number.POSITIVE_INFINITY,
        unit: 'examples',
        ratio: (local.examplesToTarget ?? Number.POSITIVE_INFINITY) / (exact.examplesToTarget ?? Number.NaN),
        target: '<= 2.0',
      });
    }
  }
  const bench = `local-sweep-targets-${dataName}`;
  report(bench, entries, { dataset: data.dataset });
  // results.json keeps this bench's entry beside the others (bench/run.mjs merges the same way)
  const file = join(import.meta.dirname, 'results.json');
  const results = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  results[bench] = JSON.parse(readFileSync(join(import.meta.dirname, 'out', `${bench}.json`), 'utf8'));
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
