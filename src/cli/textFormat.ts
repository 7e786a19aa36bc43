import type { ProfileSummary } from '../core/workspaceStatus';

/**
 * Text bound for the terminal with its control characters shown as escapes (line breaks and tabs
 * kept): names and reasons can come from files anyone may have written (a hostile archive's manifest,
 * a profile file), and an escape sequence in them must not reach the terminal.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Pads columns so a table reads well in a terminal. */
export function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

export function profileMarker(summary: Pick<ProfileSummary, 'active' | 'protected'>): string {
  return `${summary.active ? '*' : ' '}${summary.protected ? '!' : ' '}`;
}

/** An argument as a POSIX shell reads it back: as it is when it needs no quoting, else in single quotes. */
export function shellArgument(text: string): string {
  return /^[\w./@:+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
