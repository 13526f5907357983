import type { Message } from '../packages/core/dist/index.js';

export interface FuzzCrash {
  target: string;
  case: number;
  error: string;
}

export interface FuzzResult {
  /** Inputs fed: a message's bytes, a decoded value, one frame or a control message's text each. */
  total: number;
  cases: number;
  seed: number;
  frames: number;
  /** Per target (decode, validate, frames, reassembled, signal): 'accepted' or the rejection code. */
  counts: Record<string, Record<string, number>>;
  crashes: FuzzCrash[];
  crashCount: number;
  broken: string[];
}

export declare function validMessages(): Message[];
export declare function validSignals(): { t: string; [k: string]: unknown }[];
export declare function packValue(value: unknown): Uint8Array;
export declare function fuzz(total: number, seed?: number): FuzzResult;
