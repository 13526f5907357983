/**
 * "Mini-batch size and this device's speed": the playground measures, on the student's own device,
 * how many examples a second one worker of the room computes gradients for at mini-batch 1, 8, 64
 * and 512 (the room's real worker, dist/worker.js: tfjs, MNIST, the default 784-128-10 network).
 * The lecture's point shows in the numbers: a batch of 512 costs far less than 512 batches of 1,
 * because the device computes a mini-batch's examples together (vectorization); batch 1 loses that.
 */
import type { TaskSpec } from '@gradroom/core';
import type { WorkerApi } from '@gradroom/worker';
import * as Comlink from 'comlink';
import { el } from '../ui/dom.js';

export const MEASURED_BATCHES = [1, 8, 64, 512] as const;
/** Each batch size is timed for about this long (after one untimed warm-up iteration). */
const TIME_PER_BATCH_MS = 400;
const MAX_REPEATS = 40;

export interface BatchSpeed {
  batch: number;
  /** Median time of one gradient of this mini-batch. */
  msPerIteration: number;
  examplesPerSec: number;
  repeats: number;
}

export interface BatchMeasurement {
  backend: string;
  paramCount: number;
  rows: BatchSpeed[];
}

const TASK: TaskSpec = {
  model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [128], classes: 10 },
  dataset: { kind: 'mnist', split: 'train' },
  layout: [],
  paramCount: 0,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the measurement in a fresh Web Worker, closed afterwards. */
export async function measureBatchSpeeds(onProgress: (text: string) => void): Promise<BatchMeasurement> {
  const worker = new Worker(new URL('worker.js', location.href), { type: 'module', name: 'batch-speed' });
  const api = Comlink.wrap<WorkerApi>(worker);
  try {
    onProgress('Loading the model and MNIST in a Web Worker…');
    const info = await api.init({ task: TASK, wasmPaths: new URL('wasm/', location.href).href });
    // the weights' values do not change the time of a gradient: small random ones
    const w = new Float32Array(info.paramCount);
    for (let i = 0; i < w.length; i++) w[i] = (Math.random() - 0.5) * 0.1;
    await api.setWeights(0, w);
    const rows: BatchSpeed[] = [];
    let shard = 0;
    for (const batch of MEASURED_BATCHES) {
      onProgress(`Timing mini-batches of ${batch} on ${info.backend}…`);
      const indices = Uint32Array.from({ length: batch }, (_, i) => i);
      const once = async () => {
        const t0 = performance.now();
        await api.compute({ iteration: shard, version: 0, shardId: shard++, indices });
        return performance.now() - t0;
      };
      await once(); // warm-up: the first call compiles kernels
      const times: number[] = [];
      const start = performance.now();
      while (times.length < 3 || (performance.now() - start < TIME_PER_BATCH_MS && times.length < MAX_REPEATS))
        times.push(await once());
      const ms = median(times);
      rows.push({ batch, msPerIteration: ms, examplesPerSec: (batch * 1000) / ms, repeats: times.length });
    }
    return { backend: info.backend, paramCount: info.paramCount, rows };
  } finally {
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}

/** What the numbers say, in the lecture's words. */
export function describeBatchSpeeds(m: BatchMeasurement): string {
  const one = m.rows[0];
  const big = m.rows[m.rows.length - 1];
  const faster = big.examplesPerSec / one.examplesPerSec;
  const cost = big.msPerIteration / one.msPerIteration;
  const best = m.rows.reduce((a, r) => (r.examplesPerSec > a.examplesPerSec ? r : a));
  return (
    `On this device (${m.backend}), one iteration on a mini-batch of ${big.batch} takes ${cost.toFixed(1)}× the time ` +
    `of one on a single example, not ${big.batch}×: it gets through ${faster.toFixed(0)}× as many examples a second. ` +
    `The examples of a mini-batch are computed together (vectorization); stochastic gradient descent, a mini-batch ` +
    `of 1, gives that up. Fastest here: mini-batches of ${best.batch}, ${Math.round(best.examplesPerSec).toLocaleString('en')} ` +
    `examples a second, ${(best.examplesPerSec / one.examplesPerSec).toFixed(0)}× batch 1.`
  );
}

export function batchSpeedPanel(root: HTMLElement): { last(): BatchMeasurement | null } {
  let last: BatchMeasurement | null = null;
  const button = el('button', { type: 'button', id: 'batch-measure' }, 'Measure on this device');
  const status = el('p', { id: 'batch-status', class: 'note', role: 'status' });
  const table = el('table', { id: 'batch-table', class: 'legend' });
  const words = el('p', { id: 'batch-words' });
  root.append(el('div', { class: 'buttons' }, button), status, el('div', { class: 'table-wrap' }, table), words);

  function show(m: BatchMeasurement): void {
    const top = Math.max(...m.rows.map((r) => r.examplesPerSec));
    table.replaceChildren(
      el(
        'caption',
        {},
        `Examples per second at each mini-batch size (${m.backend}, ${m.paramCount.toLocaleString('en')} weights)`,
      ),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Mini-batch', 'ms per iteration', 'Examples per second', ''].map((h) => el('th', { scope: 'col' }, h)),
        ),
      ),
      el(
        'tbody',
        {},
        ...m.rows.map((r) =>
          el(
            'tr',
            { 'data-batch': r.batch },
            el('th', { scope: 'row' }, String(r.batch)),
            el('td', { class: 'num', 'data-col': 'ms' }, r.msPerIteration.toFixed(r.msPerIteration < 10 ? 2 : 1)),
            el('td', { class: 'num', 'data-col': 'rate' }, Math.round(r.examplesPerSec).toLocaleString('en')),
            el(
              'td',
              { class: 'bar-cell', 'aria-hidden': 'true' },
              el('span', { class: 'bar', style: `width: ${Math.max(1, (100 * r.examplesPerSec) / top).toFixed(1)}%` }),
            ),
          ),
        ),
      ),
    );
    words.textContent = describeBatchSpeeds(m);
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      last = await measureBatchSpeeds((t) => {
        status.textContent = t;
      });
      show(last);
      status.textContent = 'Measured. Press again to measure again.';
    } catch (e) {
      status.textContent = `The measurement failed: ${(e as Error).message}`;
    } finally {
      button.disabled = false;
    }
  });
  return { last: () => last };
}
