/**
 * A room's cost model: predicts examples/s and the bytes through the coordinator per iteration from
 * the members' compute speeds, their links, the model's size and the mini-batch size. It is how the
 * project reasons about 30, 100 or 1,000 members before building for them (DESIGN.md, Scale), and it
 * is checked against the testbed of shaped links and CPU quotas (scripts/testbed, bench/testbed).
 *
 * Exact mode, one iteration: the coordinator sends the weights to each member that gets a shard, each
 * computes its shard, sends its gradient sum back, and the coordinator takes one optimizer step. A
 * member's time for n examples is fixed + n * msPerExample, where fixed = latency both ways + weights
 * in + result out at the member's share of each link it crosses + its per-shard compute overhead.
 * Links in the path are shared fairly by the k members that use them at once (a classroom cell, the
 * coordinator's own link), so fixed costs grow with k; the model tries every k (the k fastest alone
 * first) and keeps the fastest plan, shards split by the planner's planShardsByCost
 * (the same split the trainer makes). k = 1 is always a candidate,
 * so the prediction is never below the fastest member alone.
 */
import { TOPK_BLOCK, TOPK_KEEP } from './compress.js';
import { GradroomError } from './errors.js';
import { medianSpeed, roundShape, stepsForSpeed } from './local-rounds.js';
import { planShardsByCost } from './planner.js';

/** One member of the room (a volunteer tab or process). Bandwidths in Mbit/s; undefined = unlimited. */
export interface MemberCost {
  /** Compute speed on large shards, examples per second (its backend, its CPU). */
  examplesPerSec: number;
  /** Compute time per shard whatever its size (dispatch, kernel launch, read-back), ms; default 0. */
  shardMs?: number;
  /** The member's own uplink (results to the coordinator) and downlink (weights in). */
  upMbit?: number;
  downMbit?: number;
  /** One-way latency between this member and the coordinator, ms; default 0. */
  latencyMs?: number;
  /** Name of the shared link (in RoomCostInput.sharedLinks) this member sits behind, e.g. a Wi-Fi cell. */
  via?: string;
  /** A worker beside the coordinator (the host tab's own Web Worker): no link, no bytes through it. */
  local?: boolean;
}

/** A link several members share, e.g. one classroom Wi-Fi cell: its capacity in each direction. */
export interface SharedLink {
  mbit: number;
}

/** Update encodings (issue 9): bytes per value sent. int8 carries one float32 scale per block. */
/**
 * How a pseudo-gradient (or gradient) travels: float32, fp16, int8 with a scale per block, or
 * 'topk': the largest TOPK_KEEP of each block of 256 values, int8 with a scale per block, the rest
 * left to error feedback (mode local only; its weights then travel as int8).
 */
export type Compression = 'none' | 'fp16' | 'int8' | 'topk';
export const COMPRESSIONS: readonly Compression[] = ['none', 'fp16', 'int8', 'topk'];

/**
 * The training mode. `exact` is the default and fully modelled. `local` (H inner steps per round, one
 * exchange per round) is the extension point for issue 9: modelled as each used member running H
 * mini-batches of `batchSize` per round.
 */
export type CostMode =
  | { kind: 'exact'; compress?: Compression }
  | {
      kind: 'local';
      steps: number;
      compress?: Compression;
      compressWeights?: boolean;
      /**
       * Steps by speed, as the runner (local-rounds.ts stepsForSpeed): a member clearly slower than
       * the median runs fewer than H. Default as the runner's: on where a member has a link (a room).
       */
      balance?: boolean;
    };

export interface RoomCostInput {
  members: readonly MemberCost[];
  /** The model's parameter count. */
  parameters: number;
  batchSize: number;
  coordinator?: {
    upMbit?: number;
    downMbit?: number;
    /** The central aggregation and optimizer step, ms; default 0. */
    stepMs?: number;
  };
  sharedLinks?: Readonly<Record<string, SharedLink>>;
  mode?: CostMode;
  /** Wire bytes per payload byte (packet headers, acks, framing); default 1 (payload only). */
  overhead?: number;
  /** int8's block size (one float32 scale per block); default 256. */
  int8Block?: number;
  /**
   * Exact mode: a member standing by (no shard) gets a probe shard every `probeEvery` + 1 iterations
   * to keep its figures fresh; probes run beside the iteration on the same links. Default: no probes
   * (the shard runner budgets them to at most 5 % of the link, within the model's error).
   */
  probeEvery?: number;
  /**
   * Local mode: mini-batches in an epoch. A round never crosses an epoch's end, so a small data set
   * caps a round's members and steps (roundShape); default: no cap.
   */
  epochBatches?: number;
}

export interface RoomCostPrediction {
  examplesPerSec: number;
  /** One iteration (exact) or one round divided by its mini-batches (local), ms. */
  iterationMs: number;
  /** Along the critical member: its transfer (latency, weights in, result out) and its compute. */
  transferMs: number;
  computeMs: number;
  stepMs: number;
  /** Through the coordinator's link per iteration, both directions (payload x overhead; local members cost none). */
  bytesPerIteration: number;
  bytesOut: number;
  bytesIn: number;
  /** Examples each member computes per iteration (local mode: per round, or per epoch with epochBatches), in the order given. */
  shards: number[];
  /** Members that get a shard. */
  used: number;
  /** Inner steps a member runs per round (local mode, after the epoch's cap); 1 in exact mode. */
  steps: number;
  /** Examples/s of the fastest member alone in this room (its own link and the coordinator's). */
  fastestAloneExamplesPerSec: number;
  /** What limits the room: compute, or which link. */
  bottleneck: 'compute' | 'coordinator link' | 'shared link' | 'member link' | 'latency';
  /** The assumptions behind the numbers, in words. */
  assumptions: string[];
}

const BITS = 8;
/** Mbit/s to bytes per ms. */
const bytesPerMs = (mbit: number) => (mbit * 1e6) / BITS / 1000;

/** Bytes per value of an encoding (int8: one byte plus a float32 scale per block; topk: index and value bytes of the kept values, and the block's scale). */
export function bytesPerValue(c: Compression = 'none', int8Block = 256): number {
  if (c === 'none') return 4;
  if (c === 'fp16') return 2;
  if (c === 'topk') return (2 * TOPK_KEEP + 4) / TOPK_BLOCK;
  return 1 + 4 / int8Block;
}

/** How weights go out under a compression: topk is for what comes back, the weights go as int8 (weights-view.ts). */
export function weightsCompression<C extends Compression>(c: C): Exclude<C, 'topk'> | 'int8' {
  return (c === 'topk' ? 'int8' : c) as Exclude<C, 'topk'> | 'int8';
}

function bad(m: string): never {
  throw new GradroomError('BAD_CONFIG', `predictRoom: ${m}`);
}

const positiveOrUnset = (x: number | undefined) => x === undefined || (Number.isFinite(x) && x > 0);

function validate(input: RoomCostInput): void {
  if (input.probeEvery !== undefined && !(Number.isInteger(input.probeEvery) && input.probeEvery >= 0)) {
    bad(`probeEvery must be an integer >= 0, got ${input.probeEvery}`);
  }
  if (!Number.isInteger(input.parameters) || input.parameters <= 0)
    bad(`parameters must be a positive integer, got ${input.parameters}`);
  if (!Number.isInteger(input.batchSize) || input.batchSize <= 0)
    bad(`batchSize must be a positive integer, got ${input.batchSize}`);
  if (input.members.length === 0) bad('a room needs at least one member');
  for (const [i, m] of input.members.entries()) {
    if (!(Number.isFinite(m.examplesPerSec) && m.examplesPerSec > 0))
      bad(`member ${i}: examplesPerSec must be > 0, got ${m.examplesPerSec}`);
    if (!positiveOrUnset(m.upMbit) || !positiveOrUnset(m.downMbit))
      bad(`member ${i}: link rates must be > 0 Mbit/s or unset`);
    for (const [k, v] of [
      ['shardMs', m.shardMs],
      ['latencyMs', m.latencyMs],
    ] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(`member ${i}: ${k} must be >= 0, got ${v}`);
    }
    if (m.via !== undefined && !input.sharedLinks?.[m.via]) bad(`member ${i}: no shared link named '${m.via}'`);
  }
  for (const [name, l] of Object.entries(input.sharedLinks ?? {})) {
    if (!(Number.isFinite(l.mbit) && l.mbit > 0)) bad(`shared link '${name}': mbit must be > 0, got ${l.mbit}`);
  }
  const c = input.coordinator ?? {};
  if (!positiveOrUnset(c.upMbit) || !positiveOrUnset(c.downMbit))
    bad('coordinator link rates must be > 0 Mbit/s or unset');
  if (c.stepMs !== undefined && !(Number.isFinite(c.stepMs) && c.stepMs >= 0))
    bad(`stepMs must be >= 0, got ${c.stepMs}`);
  if (input.overhead !== undefined && !(Number.isFinite(input.overhead) && input.overhead >= 1))
    bad(`overhead must be >= 1, got ${input.overhead}`);
  const mode = input.mode ?? { kind: 'exact' };
  if (mode.kind === 'local' && !(Number.isInteger(mode.steps) && mode.steps >= 1))
    bad(`local mode needs steps >= 1, got ${mode.steps}`);
  if (input.epochBatches !== undefined && !(Number.isInteger(input.epochBatches) && input.epochBatches >= 1))
    bad(`epochBatches must be a positive integer or unset, got ${input.epochBatches}`);
}

interface Timing {
  fixedMs: number;
  transferMs: number;
  bottleneck: RoomCostPrediction['bottleneck'];
}

/**
 * The fixed cost of member `m` when `k` members (of which `onLink` sit behind its shared link; both
 * may be fractional, counting probes of members standing by)
 * exchange `outBytes` (weights to it) and `inBytes` (its result) at once, each link shared fairly.
 */
function fixedCost(
  input: RoomCostInput,
  m: MemberCost,
  k: number,
  onLink: number,
  outBytes: number,
  inBytes: number,
): Timing {
  if (m.local) return { fixedMs: m.shardMs ?? 0, transferMs: 0, bottleneck: 'compute' };
  const c = input.coordinator ?? {};
  const shared = m.via ? input.sharedLinks?.[m.via] : undefined;
  // each direction: the slowest of the member's own link, its share of the cell, its share of the coordinator's
  const leg = (own: number | undefined, coord: number | undefined) => {
    const rates: [number, RoomCostPrediction['bottleneck']][] = [];
    if (own !== undefined) rates.push([own, 'member link']);
    if (shared) rates.push([shared.mbit / onLink, 'shared link']);
    if (coord !== undefined) rates.push([coord / k, 'coordinator link']);
    rates.sort((a, b) => a[0] - b[0]);
    return rates[0];
  };
  const down = leg(m.downMbit, c.upMbit);
  const up = leg(m.upMbit, c.downMbit);
  const downMs = down ? outBytes / bytesPerMs(down[0]) : 0;
  const upMs = up ? inBytes / bytesPerMs(up[0]) : 0;
  const latencyMs = 2 * (m.latencyMs ?? 0);
  const transferMs = downMs + upMs + latencyMs;
  let bottleneck: RoomCostPrediction['bottleneck'] = 'latency';
  if (downMs + upMs >= latencyMs) bottleneck = (downMs >= upMs ? down?.[1] : up?.[1]) ?? 'latency';
  return { fixedMs: transferMs + (m.shardMs ?? 0), transferMs, bottleneck };
}

/** Predicts a room's examples/s and bytes per iteration (see the module comment for the model). */
export function predictRoom(input: RoomCostInput): RoomCostPrediction {
  validate(input);
  const mode: CostMode = input.mode ?? { kind: 'exact' };
  const overhead = input.overhead ?? 1;
  const P = input.parameters;
  const B = input.batchSize;
  const stepMs = input.coordinator?.stepMs ?? 0;
  // exact: float32 weights out, gradient sums back (compressed if asked); local: the weights broadcast
  // may be compressed too, and one exchange serves H mini-batches
  const outBytes =
    P *
    (mode.kind === 'local' && mode.compressWeights
      ? bytesPerValue(weightsCompression(mode.compress ?? 'none'), input.int8Block)
      : 4) *
    overhead;
  const inBytes = P * bytesPerValue(mode.compress, input.int8Block) * overhead;
  const H = mode.kind === 'local' ? mode.steps : 1;
  const msPer = input.members.map((m) => 1000 / m.examplesPerSec);

  // candidates in order of their time alone (each alone has the links to itself)
  const aloneMs = input.members.map((m, i) => fixedCost(input, m, 1, 1, outBytes, inBytes).fixedMs + H * B * msPer[i]);
  const order = input.members.map((_, i) => i).sort((a, b) => aloneMs[a] - aloneMs[b] || a - b);
  const fastestAloneExamplesPerSec = ((H * B) / (aloneMs[order[0]] + stepMs)) * 1000;

  let best: RoomCostPrediction | undefined;
  for (let k = 1; k <= order.length; k++) {
    const chosen = order.slice(0, k);
    // a link's load in members moving a full exchange at once: those with a shard, plus each member
    // standing by as the fraction of iterations it is probed (exact mode)
    const probeShare = mode.kind === 'exact' && input.probeEvery !== undefined ? 1 / (input.probeEvery + 1) : 0;
    const standby = order.slice(k).filter((i) => !input.members[i].local);
    const perLink = new Map<string, number>();
    const load = (i: number, w: number) => {
      const via = input.members[i].via;
      if (via) perLink.set(via, (perLink.get(via) ?? 0) + w);
    };
    for (const i of chosen) load(i, 1);
    for (const i of standby) load(i, probeShare);
    // the coordinator's link is shared by the remote members only
    const remote = Math.max(1, chosen.filter((i) => !input.members[i].local).length + standby.length * probeShare);
    const costs = chosen.map((i) => {
      const m = input.members[i];
      return fixedCost(input, m, remote, m.via ? (perLink.get(m.via) ?? 1) : 1, outBytes, inBytes);
    });
    let sizes: number[];
    let makespanMs: number;
    let steps = 1;
    let rounds = 1;
    if (mode.kind === 'exact') {
      const plan = planShardsByCost(
        B,
        chosen.map((i, j) => ({ fixedMs: costs[j].fixedMs, msPerExample: msPer[i] })),
      );
      sizes = plan.sizes;
      makespanMs = plan.makespanMs;
    } else {
      // local: every chosen member runs H mini-batches of B a round, and each round ends with the
      // slowest; with the epoch's size, its rounds as the runner shapes them (the last one shorter and
      // spread over every member): sizes and makespan then cover a whole epoch
      // a full round's steps per member: H, or fewer for one clearly slower than the rest (steps by
      // speed, on by default in a room as in the runner)
      const balance = mode.balance ?? chosen.some((i) => !input.members[i].local);
      const median = balance ? medianSpeed(chosen.map((i) => input.members[i].examplesPerSec)) : 0;
      const own = chosen.map((i) => stepsForSpeed(H, input.members[i].examplesPerSec, median));
      const perRound = own.reduce((a, b) => a + b, 0);
      // the epoch's rounds: full ones of perRound, then what is left spread evenly (roundShape)
      const full = input.epochBatches ? Math.floor(input.epochBatches / perRound) : 1;
      const left = input.epochBatches ? input.epochBatches - full * perRound : 0;
      const last = left > 0 ? roundShape(left, k, H) : { batches: 0, steps: 0 };
      const lastGroups = chosen.map((_, j) => Math.max(0, Math.min(last.steps, last.batches - j * last.steps)));
      sizes = lastGroups.map((g, j) => (full * own[j] + g) * B);
      const slowest = (gs: number[]) =>
        Math.max(0, ...chosen.map((i, j) => (gs[j] > 0 ? costs[j].fixedMs + gs[j] * B * msPer[i] : 0)));
      makespanMs = full * slowest(own) + slowest(lastGroups);
      rounds = full + (last.batches > 0 ? 1 : 0);
      const total = full * perRound + last.batches;
      const squares = own.reduce((a, n) => a + n * n, 0);
      steps = Math.max(1, Math.round((full * squares + last.batches * last.steps) / total));
    }
    const usedIdx = chosen.filter((_, j) => sizes[j] > 0);
    const used = usedIdx.length;
    if (used < k) continue; // the same plan as a smaller k, whose fixed costs are lower
    const usedRemote = usedIdx.filter((i) => !input.members[i].local).length + standby.length * probeShare;
    const examples = sizes.reduce((a, b) => a + b, 0);
    const batches = mode.kind === 'exact' ? 1 : examples / B;
    const iterationMs = (makespanMs + rounds * stepMs) / batches;
    const crit = chosen.reduce(
      (c, i, j) => {
        const t = costs[j].fixedMs + sizes[j] * msPer[i];
        return sizes[j] > 0 && t >= c.t ? { t, j, i } : c;
      },
      { t: -1, j: 0, i: chosen[0] },
    );
    const shards = input.members.map(() => 0);
    for (const [j, i] of chosen.entries()) shards[i] = sizes[j];
    const computeMs = rounds * (input.members[crit.i].shardMs ?? 0) + sizes[crit.j] * msPer[crit.i];
    const transferMs = costs[crit.j].transferMs;
    const p: RoomCostPrediction = {
      examplesPerSec: (examples / (makespanMs + rounds * stepMs)) * 1000,
      iterationMs,
      transferMs: (rounds * transferMs) / batches,
      computeMs: computeMs / batches,
      stepMs: (rounds * stepMs) / batches,
      bytesOut: (rounds * usedRemote * outBytes) / batches,
      bytesIn: (rounds * usedRemote * inBytes) / batches,
      bytesPerIteration: (rounds * usedRemote * (outBytes + inBytes)) / batches,
      shards,
      used,
      steps,
      fastestAloneExamplesPerSec,
      bottleneck: transferMs > computeMs ? costs[crit.j].bottleneck : 'compute',
      assumptions: [],
    };
    if (!best || p.examplesPerSec > best.examplesPerSec) best = p;
  }
  const result = best as RoomCostPrediction;
  result.assumptions = assumptionsOf(input, mode, overhead);
  return result;
}

function assumptionsOf(input: RoomCostInput, mode: CostMode, overhead: number): string[] {
  const a = [
    mode.kind === 'exact'
      ? `exact mode: each member with a shard gets the float32 weights (${input.parameters} x 4 B) and returns a gradient sum (${bytesPerValue(mode.compress, input.int8Block)} B per value) every iteration`
      : `local mode: each member runs ${mode.steps} mini-batches of ${input.batchSize} per round and exchanges weights and a pseudo-gradient once per round (${bytesPerValue(mode.compress, input.int8Block)} B per value back)`,
    'links are shared fairly by the members that transfer at once; weights go out and results come back in separate phases, so a half-duplex cell gives each phase its whole capacity',
    input.probeEvery === undefined
      ? 'a member that does not shorten the iteration gets no shard and costs no bytes (planShardsByCost); members are tried fastest alone first'
      : `a member that does not shorten the iteration gets no shard (planShardsByCost), but a probe (weights and a result) every ${input.probeEvery + 1} iterations, beside the iteration on the same links; members are tried fastest alone first`,
    'compute time is linear in shard size (examples/s plus a fixed per-shard cost); no stragglers, no failures',
  ];
  a.push(
    overhead > 1
      ? `${overhead} wire bytes per payload byte (headers, acks)`
      : 'bytes are payload only (no packet headers)',
  );
  return a;
}
