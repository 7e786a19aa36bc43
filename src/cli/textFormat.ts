import { REORDERING_CHARACTERS } from '../core/reorderingCharacters';
import type { FileRecord } from '../core/backup/backupManifest';
import { namedFew } from '../core/namedFew';
import type { ProfileSummary } from '../core/workspaceStatus';
import { displayWidth, padToWidth } from './displayWidth';

/**
 * Text bound for the terminal with its control characters shown as escapes (line breaks and tabs
 * kept): names and reasons can come from files anyone may have written (a hostile archive's manifest,
 * a profile file), and an escape sequence in them must not reach the terminal.
 */
export function terminalSafe(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(BIDI_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const BIDI_CONTROLS = new RegExp(REORDERING_CHARACTERS.source, 'g');

/** Pads columns so a table reads well in a terminal (its cells as terminalSafe shows them, which the padding must count). */
export function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const shown = rows.map((row) => row.map(terminalSafe));
  const widths = shown[0].map((_, i) => Math.max(...shown.map((r) => displayWidth(r[i] ?? ''))));
  return shown.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : padToWidth(cell, widths[i]))).join('  ').trimEnd());
}

export function profileMarker(summary: Pick<ProfileSummary, 'active' | 'protected'>): string {
  return `${summary.active ? '*' : ' '}${summary.protected ? '!' : ' '}`;
}

/** A profile's other files in a backup, named for people: the profile file as such, the others by path (10 at most). */
export function environmentFilesText(files: readonly { path: string; role: FileRecord['role'] }[]): string {
  return namedFew(files.map((f) => (f.role === 'profile' ? 'the profile file' : f.path)), 10);
}
