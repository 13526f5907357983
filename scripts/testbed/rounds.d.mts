export interface RoundRow {
  totalMs: number;
  firstStartMs: number;
  lastStartMs: number;
  computeMs: number;
  lastEndMs: number;
  tailMs: number;
  volunteers: number;
}
export function roundAnatomy(trace: {
  iterations: { at: number; round?: unknown }[];
  evaluations?: { at: number; wallAt?: number }[];
  volunteerRounds?: Record<string, { wallAt: number; ms: number; computeMs: number }[]>;
}): { rounds: number; median: Omit<RoundRow, 'volunteers'>; rows: RoundRow[] } | null;
