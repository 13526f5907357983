/**
 * The run's own worker is checked by measurement (issue 18 §4; core's OwnWorkerCheck), in a
 * simulated room: the host's CPU runs both its own worker's compute and the coordinator's work for
 * each volunteer's shard (its sends), one piece at a time, as a laptop held to a fraction of a core
 * does. The own worker's compute then delays every volunteer, and the room is faster without it;
 * on a host whose own worker has a CPU of its own, it keeps computing. (A unit test of planning
 * logic: the workers are simulated, their results zero gradients of the right length; the
 * classroom testbed measures the real thing, README "Round fourteen".)
 */
import { datasetSizes } from '@gradroom/worker/catalog';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobConfig } from '../src/job.js';
import { Trainer } from '../src/trainer.js';
import type { WorkerHandle } from '../src/worker-handle.js';

const job: JobConfig = {
  model: { kind: 'mlp', inputShape: [20], hidden: [16], classes: 4 },
  dataset: { kind: 'synthetic', seed: 5, examples: 6400, features: 20, classes: 4, split: 'train' },
  optimizer: { kind: 'sgd', lr: 0.1 },
  batchSize: 64,
  epochs: 1,
  seed: 1,
  maxIterations: 80,
  evaluate: false,
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A CPU: work queued on it runs one piece at a time. */
class Cpu {
  private chain: Promise<void> = Promise.resolve();
  run(ms: number): Promise<void> {
    const done = this.chain.then(() => sleep(ms));
    this.chain = done;
    return done;
  }
}

/**
 * A simulated worker. A volunteer ('peer'): `hostMs` of the host's CPU per shard (the coordinator
 * sending it the weights), then `msPerExample` on its own CPU. The own worker ('thread'):
 * `msPerExample` per example on `cpu`.
 */
function simulated(
  id: string,
  kind: 'thread' | 'peer',
  cpu: Cpu,
  host: Cpu,
  hostMs: number,
  msPerExample: number,
): WorkerHandle {
  let paramCount = 0;
  let end: (r: string) => void = () => {};
  const closed = new Promise<string>((r) => {
    end = r;
  });
  return {
    id,
    kind,
    inlineWeights: true,
    closed,
    async init(init) {
      paramCount = init.task.paramCount;
      const sizes = datasetSizes(job.dataset) ?? { train: 0, test: 0 };
      return {
        backend: 'cpu',
        skipped: [],
        layout: init.task.layout,
        paramCount,
        trainSize: sizes.train,
        testSize: sizes.test,
      };
    },
    async setWeights() {},
    async compute(req) {
      const n = req.indices.length;
      if (hostMs > 0) await host.run(hostMs);
      await cpu.run(n * msPerExample);
      return {
        iteration: req.iteration,
        version: req.version,
        shardId: req.shardId,
        gradSum: new Float32Array(paramCount),
        lossSum: n,
        correct: 0,
        count: n,
        computeMs: n * msPerExample,
        backend: 'cpu',
      };
    },
    async evaluate(req) {
      return { lossSum: req.indices.length, correct: 0, count: req.indices.length };
    },
    async memory() {
      return { numTensors: 0, numBytes: 0 };
    },
    async close(reason) {
      end(reason);
    },
  };
}

const open: Trainer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/**
 * A room of the own worker and 3 volunteers; `shared`: the own worker computes on the host's CPU.
 * Returns the own worker's share and the median ms of the last 20 iterations, and the log.
 */
async function room(shared: boolean): Promise<{ ownShare: number; ms: number; logs: string[] }> {
  const host = new Cpu();
  const t = new Trainer(job);
  open.push(t);
  t.addWorker(simulated('own', 'thread', shared ? host : new Cpu(), host, 0, 2));
  for (let i = 0; i < 3; i++) t.addWorker(simulated(`v${i}`, 'peer', new Cpu(), host, 6, 1));
  const own: number[] = [];
  const times: number[] = [];
  const logs: string[] = [];
  t.on('log', (e) => logs.push(e.message));
  t.on('iteration', (e) => {
    own.push(e.workers.find((w) => w.kind === 'thread')?.share ?? 0);
    times.push(e.timing.totalMs);
  });
  await t.run();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return { ownShare: own.slice(-20).reduce((a, b) => a + b, 0) / 20, ms: median(times.slice(-20)), logs };
}

describe("the run's own worker, checked by measurement", () => {
  it('sharing the host CPU with the sends: the room leaves it out, is faster for it, and says why', async () => {
    const r = await room(true);
    expect(r.logs.some((m) => /the room was faster without this machine's own worker/.test(m))).toBe(true);
    expect(r.ownShare).toBeLessThan(0.1);
  });

  it('on a CPU of its own: it keeps computing', async () => {
    const r = await room(false);
    expect(r.logs.some((m) => /the room was faster without this machine's own worker/.test(m))).toBe(false);
    expect(r.ownShare).toBeGreaterThan(0.1);
  });
});
