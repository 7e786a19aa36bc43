import type { ProfileSummary } from '../core/workspaceStatus';

/** Pads columns so a table reads well in a terminal. */
export function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

export function profileMarker(summary: Pick<ProfileSummary, 'active' | 'protected'>): string {
  return `${summary.active ? '*' : ' '}${summary.protected ? '!' : ' '}`;
}
