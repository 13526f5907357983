import type { Utilization, VolunteerRound } from './testbed.mjs';

export function utilization(
  volunteerRounds: Record<string, VolunteerRound[]>,
  evaluations: { wallAt?: number; evalMs: number }[],
): Utilization | null;
export const PACE_EVERY: number;
export function pace(iterations: { iteration: number; at: number; round?: unknown }[]): {
  pace: [number, number][];
  warmStart: { iterations: number; endedAt: number } | null;
};
