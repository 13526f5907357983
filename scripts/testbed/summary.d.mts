import type { Utilization, VolunteerRound } from './testbed.mjs';

export function utilization(
  volunteerRounds: Record<string, VolunteerRound[]>,
  evaluations: { wallAt?: number; evalMs: number }[],
): Utilization | null;
