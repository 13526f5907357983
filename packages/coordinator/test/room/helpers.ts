/** Shared by the room tests: the MNIST job and its serial reference, peer processes, a room server. */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawChannel } from '@gradroom/core';
import { parseMnist } from '@gradroom/worker';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import type { JobConfig } from '../../src/job.js';
import { RoomServer } from '../../src/room/server.js';
import type { WorkerHandle } from '../../src/worker-handle.js';
import { serialTrain } from '../reference/serial.js';

export const MNIST_BIN = join(import.meta.dirname, '..', '..', '..', 'worker', 'dist', 'mnist.bin');

export const mnistAdam = { lr: 0.002, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Real MNIST, a small MLP, Adam: `iterations` mini-batches of 64. */
export function mnistJob(iterations: number, seed = 3): JobConfig {
  return {
    model: { kind: 'mlp', inputShape: [28, 28, 1], hidden: [32], classes: 10 },
    dataset: { kind: 'mnist', split: 'train' },
    optimizer: { kind: 'adam', ...mnistAdam },
    batchSize: 64,
    epochs: 1,
    seed,
    maxIterations: iterations,
  };
}

/** The plain serial loop's weights after `iterations` of mnistJob. */
export async function mnistReference(iterations: number, seed = 3): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const train = parseMnist(new Uint8Array(await readFile(MNIST_BIN)), 'train');
  return serialTrain(
    { hidden: [32], inputFeatures: 784, classes: 10, batchSize: 64, seed, iterations, adam: mnistAdam },
    train,
  );
}

export interface PeerProcess {
  proc: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
  kill(): void;
}

/** A volunteer in its own Node process (peer.mjs): real WebRTC through @roamhq/wrtc, or the relay. */
export function spawnPeer(opts: {
  url: string;
  token: string;
  name: string;
  relay?: 'auto' | 'always';
  crashAtAssign?: number;
  freezeAtAssign?: number;
  connectTimeoutMs?: number;
}): PeerProcess {
  const proc = spawn(process.execPath, [join(import.meta.dirname, 'peer.mjs'), JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const keep = (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) out.push(line);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    out,
    exited,
    kill: () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}

export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What holdingEarlyForCatchUp saw of one member: its early requests, its results, and those caught up. */
export interface CatchUpCounts {
  early: number;
  back: number;
  caughtUp: number;
}

/**
 * Overlap over a link: whether a catch-up comes before an early group's last step is a race (loaded
 * CI machines saw every one end first), so `h` holds each early request until its catch-up has been
 * sent to it: the catch-up crosses the link first, is kept, and is taken at the group's first step
 * (the worker's own tests cover one that comes between two steps). `counts` tallies what it saw;
 * `done` ends a hold once the run is over. Bounded: 30 s a hold.
 */
export function holdingEarlyForCatchUp(h: WorkerHandle, counts: CatchUpCounts, done = () => false): WorkerHandle {
  const train = h.trainLocal as NonNullable<WorkerHandle['trainLocal']>;
  const catchUp = h.catchUp?.bind(h);
  /** Rounds whose catch-up has been sent to this member. */
  const told = new Set<number>();
  return {
    ...h,
    closed: h.closed,
    catchUp: (req) => {
      catchUp?.(req);
      told.add(req.round);
    },
    trainLocal: async (req) => {
      if (req.early) {
        counts.early++;
        await until(() => told.has(req.round) || done(), 30_000, `the catch-up of round ${req.round}`);
      }
      const r = await train(req);
      counts.back++;
      if (r.caughtUp) counts.caughtUp++;
      return r;
    },
  };
}

/**
 * The fixture both Node room suites share: a room server whose log the test can read, the serial
 * reference for `iterations` of mnistJob, and the peer processes to kill afterwards.
 */
export function roomFixture(iterations: number) {
  const f = {
    server: undefined as unknown as RoomServer,
    reference: new Float32Array(0) as Float32Array,
    serverLog: [] as string[],
    peers: [] as PeerProcess[],
  };
  beforeAll(async () => {
    f.server = await RoomServer.start({ port: 0, log: (l) => f.serverLog.push(l) });
    f.reference = await mnistReference(iterations);
  });
  afterAll(async () => {
    for (const p of f.peers) p.kill();
    await f.server?.close();
  });
  return f;
}

/** Two RawChannels joined in memory: what one sends, the other receives (asynchronously, in order). */
export function channelPair(): [RawChannel, RawChannel] {
  const make = () => {
    let deliver: (c: Uint8Array) => void = () => {};
    let closeIt: (r: string) => void = () => {};
    const closed = new Promise<string>((r) => {
      closeIt = r;
    });
    let other: { deliver: (c: Uint8Array) => void; closeIt: (r: string) => void } | undefined;
    const ch: RawChannel = {
      maxMessageSize: 64 * 1024,
      bufferedAmount: 0,
      send: (c) => {
        const copy = c.slice();
        queueMicrotask(() => other?.deliver(copy));
      },
      waitLow: async () => {},
      onMessage: (fn) => {
        deliver = fn;
      },
      closed,
      close: (r) => {
        closeIt(r);
        other?.closeIt(r);
      },
    };
    return {
      ch,
      ends: {
        deliver: (c: Uint8Array) => deliver(c),
        closeIt: (r: string) => closeIt(r),
      },
      link: (o: { deliver: (c: Uint8Array) => void; closeIt: (r: string) => void }) => {
        other = o;
      },
    };
  };
  const a = make();
  const b = make();
  a.link(b.ends);
  b.link(a.ends);
  return [a.ch, b.ch];
}
