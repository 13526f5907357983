export declare const PREFIX: string;
export declare const SUBNET: string;
export declare const COORD_ADDR: string;
export declare const MAX_VOLUNTEERS: number;
export interface LinkShape {
  coordUp?: number;
  coordDown?: number;
  volUp?: number;
  volDown?: number;
  cpu?: number;
  /** The coordinator's (the host's laptop) share of one CPU, its worker thread included. */
  hostCpu?: number;
  /** Older laptops: the first `slow` volunteers get `slowCpu` of a CPU (default a third of cpu). */
  slow?: number;
  slowCpu?: number;
}
export declare function cgroupKind(): 'v1' | 'v2' | 'none';
export declare function probe(): { ok: true; cgroup: 'v1' | 'v2' | 'none' } | { ok: false; reason: string };
export declare function removeLeftovers(): string[];
export declare function remnants(pid?: number): string[];
export interface Testbed {
  hub: string;
  coord: string;
  coordAddr: string;
  coordCgroup: string | null;
  volunteers: { ns: string; addr: string; cgroup: string | null }[];
  cgroup: 'v1' | 'v2' | 'none';
  remove(): void;
}
export declare function buildTestbed(volunteers: number, shape?: LinkShape): Testbed;
export declare function linkBytes(ns: string, dev: string): { rx: number; tx: number };
export declare function qdiscStats(
  ns: string,
  dev: string,
): { bytes: number; packets: number; drops: number; overlimits: number } | null;
