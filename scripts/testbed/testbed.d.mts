import type { LinkShape } from './net.mjs';

export interface Profile extends LinkShape {
  describe: string;
}
export declare const PROFILES: Record<'lan' | 'classroom' | 'home', Profile>;
export interface TestbedJob {
  model: { kind: string; [k: string]: unknown };
  dataset: { kind: string; [k: string]: unknown };
  optimizer: Record<string, unknown>;
  schedule?: Record<string, unknown>;
  batchSize: number;
  epochs: number;
  seed: number;
  maxIterations?: number;
  evaluate: boolean;
  mode?: Record<string, unknown>;
}
export declare function defaultJob(opts?: {
  batchSize?: number;
  epochs?: number;
  iterations?: number;
  hidden?: number[];
  evaluate?: boolean;
  seed?: number;
}): TestbedJob;
export declare class TestbedUnavailable extends Error {}
export declare function shapeOf(opts: LinkShape & { profile?: string; volunteers?: number }): LinkShape;
export interface IterationRecord {
  iteration: number;
  epoch: number;
  examples: number;
  loss: number;
  examplesPerSec: number;
  timing: { totalMs: number; computeMs: number; transferMs: number; waitMs: number; stepMs: number };
  bytes: { out: number; in: number };
  fastestAloneExamplesPerSec: number;
  link: { rx: number; tx: number; rxPackets: number; txPackets: number };
  at: number;
  workers: {
    name?: string;
    kind?: string;
    speed: number;
    share: number;
    status: string;
    fixedMs?: number;
    computeSpeed?: number;
    computeFixedMs?: number;
    standby?: string;
  }[];
}
export interface ShaperStats {
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
}
export interface EvaluationRecord {
  iteration: number;
  epoch: number;
  examples: number;
  testLoss: number;
  testAccuracy: number;
  evalMs: number;
  at: number;
}
export interface TestbedRun {
  /** The host's worker with no volunteers. */
  alone: boolean;
  /** The coordinator computed too (its own worker thread). */
  hostWorker: boolean;
  profile: string;
  volunteers: number;
  tabs: number;
  planning: 'cost' | 'all';
  shape: LinkShape;
  cgroup: 'v1' | 'v2' | 'none';
  job: {
    model: string;
    dataset: string;
    mode: string;
    hidden?: number[];
    batchSize: number;
    parameters: number;
    config: TestbedJob;
  };
  via: Record<string, string>;
  iterations: number;
  measuredIterations: number;
  examplesPerSec: number;
  fastestAloneExamplesPerSec: number;
  timing: IterationRecord['timing'];
  linkBytes: { out: number; in: number };
  linkPackets: { out: number; in: number };
  eventBytes: { out: number; in: number };
  workersUsed: number;
  floorBytes: number;
  cpu: {
    cores: number;
    hostBusy: number | null;
    coordinator: number | null;
    coordinatorCgroup: string | null;
    hostQuota: number | null;
    quota: number | null;
    volunteers: { name: string; cpu: number }[];
  };
  volunteerBytesPerIteration: ({ name: string; in: number; out: number } | null)[];
  volunteerBytes: { name: string; rx: number; tx: number }[];
  extraPayload: { bytes: number; iterations: number };
  shaper: { out: ShaperStats | null; in: ShaperStats | null } | null;
  workers: IterationRecord['workers'];
  epochs: { epoch: number; iteration: number; testAccuracy: number; testLoss: number; at: number }[];
  evaluations: EvaluationRecord[];
  joinedAt: number | null;
  startedAt: number | null;
  evalSeconds: number;
  data: {
    /** bytes: the data set's own; wire: what crossed the link (a gzip body's size). */
    /** at: when the fetch started, on the volunteer's own clock (its rounds' `at` in a trace). */
    each: { name: string; url: string; bytes: number; wire: number; seconds: number; at?: number }[];
    bytes: number;
    /** What crossed the links, in all. */
    wireBytes: number;
    slowestSeconds: number;
    /** The packed file the data set comes from, in bytes (null where there is none). */
    wholeFileBytes: number | null;
    /** Each volunteer's fetches: files, bytes, seconds, and bytes ÷ wholeFileBytes. */
    perVolunteer: {
      name: string;
      files: number;
      bytes: number;
      wire: number;
      seconds: number;
      ofWholeFile: number | null;
    }[];
    maxOfWholeFile: number | null;
  };
  /**
   * Mode local's compute utilization (summary.mjs utilization): each volunteer's compute ÷ the span
   * of its rounds, and the same with the evaluations inside that span left out; null without rounds.
   */
  utilization: Utilization | null;
  testAccuracy: number;
  /** Seconds from the room's opening (joining, data fetches included), evaluations left out; null: not reached. */
  reachedTargetAt: number | null;
  seconds: number;
  volunteerLines: string[];
  targetAccuracy: number;
  /** Mini-batches in an epoch (the first iteration's figure); null without an iteration. */
  batchesPerEpoch: number | null;
}
export interface TestbedOptions extends LinkShape {
  profile?: 'lan' | 'classroom' | 'home';
  volunteers?: number;
  tabs?: number;
  planning?: 'cost' | 'all';
  job?: TestbedJob;
  warmup?: number;
  hostCpu?: number;
  hostWorker?: boolean;
  alone?: boolean;
  /** With alone (and runWithAlone's alone half): keep the job's mode; by default exact mode (aloneJob). */
  aloneSameMode?: boolean;
  evalEvery?: number;
  dataFile?: string;
  dataSizes?: { train: number; test: number };
  /** Mode local or exact on mnist or fashion-mnist takes their chunked form (default true). */
  chunks?: boolean;
  /** Over chunks: volunteers' exact-mode shards carry their examples, so they fetch no chunk for them (default true). */
  shardExamples?: boolean;
  /** Exact mode's weights (as changes) and gradient sums travel packed losslessly (default true). */
  packed?: boolean;
  targetAccuracy?: number;
  stopAtTarget?: boolean;
  timeoutMs?: number;
  /** A file to write every iteration's and evaluation's record to, and each volunteer's rounds as it saw them. */
  trace?: string;
  log?: (line: string) => void;
  onIteration?: (e: IterationRecord) => void;
}
export declare function runTestbed(opts?: TestbedOptions): Promise<TestbedRun>;
export interface WithAloneRun extends TestbedRun {
  aloneReachedTargetAt: number | null;
  aloneRun: TestbedRun;
}
export declare function runWithAlone(opts?: TestbedOptions): Promise<WithAloneRun>;
/** The job as the host's laptop alone trains it: exact mode, whatever the room's mode. */
export declare function aloneJob(job: TestbedJob): TestbedJob;

export interface Utilization {
  mean: number;
  min: number;
  max: number;
  outsideEvaluations: { mean: number; min: number; max: number };
  perVolunteer: { name: string; rounds: number; utilization: number; outsideEvaluations: number }[];
}
/** A volunteer's local round as it saw it: start (its own clock, and the machine's), length, compute. */
export interface VolunteerRound {
  at: number;
  wallAt?: number;
  ms: number;
  computeMs: number;
  cpuMs: number;
}
