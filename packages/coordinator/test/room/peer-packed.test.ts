/**
 * The peer handle's side of exact mode's packed floats, against a scripted peer over real
 * FramedLinks (an in-memory channel pair): which weights message goes when (whole, or a change from
 * what the peer was last sent), that a peer answering STALE or setting up a task gets the next
 * weights whole, that a packed sum comes back bit for bit, and that a malformed one disconnects.
 */
import {
  FramedLink,
  type Message,
  msg,
  PROTOCOL_VERSION,
  packFloats,
  type TaskSpec,
  unpackFloats,
} from '@gradroom/core';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { type PeerWorkerHandle, peerWorkerHandle } from '../../src/transports/peer.js';
import { WeightsSnapshot } from '../../src/worker-handle.js';
import { channelPair, until } from './helpers.js';

const task: TaskSpec = {
  model: { kind: 'mlp', inputShape: [4], hidden: [], classes: 2 },
  dataset: { kind: 'synthetic', seed: 1, examples: 8, features: 4, classes: 2, split: 'train' },
  layout: [
    { name: 'w', shape: [64, 2] },
    { name: 'b', shape: [2] },
  ],
  paramCount: 130,
};
const N = task.paramCount;
const open: PeerWorkerHandle[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close('test over');
});

// what a hostile peer would send: encoded without the sender's own validation
const unchecked = new Packr({ moreTypes: true, useRecords: false });

/** A scripted peer: records what it receives; `answer` replies to each assign (bytes: as they are). */
function scripted(answer: (m: Extract<Message, { type: 'assign' }>) => Message | Uint8Array) {
  const [hostSide, peerSide] = channelPair();
  const logs: string[] = [];
  const handle = peerWorkerHandle({
    id: 'p',
    link: new FramedLink(hostSide),
    log: (l) => logs.push(l),
    heartbeatMs: 60_000,
  });
  open.push(handle);
  const peer = new FramedLink(peerSide);
  const got: Message[] = [];
  peer.onMessage((m) => {
    got.push(m);
    if (m.type === 'welcome')
      void peer.send(
        msg({ type: 'ready', backend: 'cpu', layout: task.layout, paramCount: N, trainSize: 8, testSize: 0 }),
      );
    if (m.type === 'assign') {
      const a = answer(m);
      void (a instanceof Uint8Array ? peer.sendEncoded(a) : peer.send(a));
    }
  });
  return { handle, got, logs, peer };
}

const info = { backends: ['cpu' as const] };
/** A peer's answer to `m` holding `gradPacked` (checked by nobody on the way: a hostile peer's bytes too). */
const packedResult = (m: Extract<Message, { type: 'assign' }>, gradPacked: Uint8Array) => ({
  v: PROTOCOL_VERSION,
  type: 'result' as const,
  iteration: m.iteration,
  version: m.version,
  shardId: m.shardId,
  gradPacked,
  lossSum: 1,
  correct: 1,
  count: 2,
  computeMs: 1,
  backend: 'cpu',
});
/** Snapshots 0..n-1, each a small step from the one before, each the next one's base. */
function versions(n: number): WeightsSnapshot[] {
  const out: WeightsSnapshot[] = [];
  let w = Float32Array.from({ length: N }, (_, i) => 0.1 * (i + 1));
  for (let v = 0; v < n; v++) {
    out.push(new WeightsSnapshot(v, w, out.at(-1)?.asBase()));
    w = w.map((x) => x * 1.001);
  }
  return out;
}

describe('peer handle: packed floats', () => {
  it('sends a change where the peer holds the base, whole weights after STALE and after a new task', async () => {
    let stale = true;
    const grad = Float32Array.from({ length: N }, (_, i) => (i % 2 ? 0 : i / 3));
    const { handle, got } = scripted((m) =>
      stale
        ? msg({ type: 'error', code: 'STALE', message: `version ${m.version} not held` })
        : packedResult(m, packFloats(grad)),
    );
    await handle.init({ task, ...info });
    const s = versions(5);
    const full = await handle.setWeights(s[0]);
    const change = await handle.setWeights(s[1]);
    expect(change).toBeLessThan(Number(full));
    await until(() => got.filter((m) => m.type.startsWith('weights')).length === 2, 2000, 'two weights messages');
    const [w0, w1] = got.filter((m) => m.type.startsWith('weights'));
    expect(w0.type).toBe('weights');
    expect(w1.type).toBe('weights-change');
    if (w1.type !== 'weights-change' || w0.type !== 'weights') throw new Error('unreachable');
    expect(w1.base).toBe(0);
    expect(unpackFloats(w1.packed, w0.weights)).toEqual(s[1].weights);
    // the peer says it does not hold version 1: the next weights go whole
    const req = { iteration: 0, version: 1, shardId: 0, indices: Uint32Array.from([0, 1]) };
    await expect(handle.compute(req)).rejects.toThrow(/STALE: version 1 not held/);
    await handle.setWeights(s[2]);
    await handle.setWeights(s[3]);
    await until(() => got.filter((m) => m.type.startsWith('weights')).length === 4, 2000, 'four weights messages');
    expect(got.filter((m) => m.type.startsWith('weights')).map((m) => m.type)).toEqual([
      'weights',
      'weights-change',
      'weights',
      'weights-change',
    ]);
    // the assign asked for a packed sum, and one comes back bit for bit
    stale = false;
    const r = await handle.compute({ ...req, version: 3 });
    expect(got.find((m) => m.type === 'assign')).toMatchObject({ pack: true });
    expect(r.gradSum).toEqual(grad);
    expect(r.packedBytes).toBe(packFloats(grad).byteLength);
    // a new task: the peer drops what it held
    await handle.init({ task, ...info });
    await handle.setWeights(s[4]);
    await until(() => got.filter((m) => m.type.startsWith('weights')).length === 5, 2000, 'five weights messages');
    expect(got.filter((m) => m.type.startsWith('weights')).at(-1)?.type).toBe('weights');
  });

  it('a peer that sends a malformed packed sum is disconnected, naming it', async () => {
    const bad = packFloats(new Float32Array(N)).slice();
    bad[0] = 9; // not format 1
    const { handle, logs } = scripted((m) => unchecked.pack(packedResult(m, bad)));
    await handle.init({ task, ...info });
    await handle.setWeights(versions(1)[0]);
    await expect(
      handle.compute({ iteration: 0, version: 0, shardId: 0, indices: Uint32Array.from([0, 1]) }),
    ).rejects.toThrow(/gone/);
    expect(handle.violation).toMatch(/result\.gradPacked must be packed floats in their form .*format 9 is not 1/);
    expect(logs.some((l) => /disconnected: sent a bad message/.test(l))).toBe(true);
  });
});
