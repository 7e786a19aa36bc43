import * as fs from 'node:fs';
import { setTimeout as pause } from 'node:timers/promises';
import { fileWriteStamp, writeStampOf } from '../sqlite/fileStamp';

/**
 * A file saved in place (most editors, most programs: truncate, then write) is empty or cut short for a
 * moment, and a copy taken then would be restored as the file. So a file of the environment is read
 * whole, and taken for one version of it only when nothing wrote to it while it was read, its last
 * write is at least QUIET_MS old, and that still holds CONFIRM_MS later; otherwise it is read again,
 * until a time the caller gives (see quietReadDeadline).
 */
export const QUIET_MS = 250;
/**
 * A truncation shows the file's new size a moment before its new modification time (measured: a read
 * between the two found an empty file with the old time in 2 of 11 runs of a test whose writer saved
 * about 7 times a second, 20 backups each), so one look at the stamp is not enough.
 */
const CONFIRM_MS = 20;
/** How long one backup waits, for all its files together, for their writes to pause (a profile may list many small files that a program keeps writing, a log). */
const GIVE_UP_MS = 3_000;

/** When the reads of one backup's files stop waiting for writes to pause, for reads that begin at `startedAt`. */
export function quietReadDeadline(startedAt: number = Date.now()): number {
  return startedAt + GIVE_UP_MS;
}
const RETRY_MS = 20;
/** A modification time this far ahead of the clock comes from another machine's clock (a share): its age says nothing. */
const CLOCK_SKEW_MS = 1_000;

/** A file's write stamp (see fileWriteStamp) and when it was taken. */
export interface FileSighting {
  stamp: string | undefined;
  at: number;
}

/** A sighting of `file` now; one that cannot be taken (no permission to look) confirms nothing. */
export function sightingOf(file: string, now: () => number = Date.now): FileSighting {
  try {
    return { stamp: fileWriteStamp(file), at: now() };
  } catch {
    return { stamp: undefined, at: now() };
  }
}

export interface QuietRead {
  content: Buffer;
  /** False when writes kept coming until the deadline: `content` is the last read, which may mix two versions. */
  quiet: boolean;
}

/**
 * `file` (a small one: it is read into memory) as one version of it; see QUIET_MS. A sighting of it
 * taken earlier (at the start of the backup) that the read agrees with confirms the read at no wait.
 * Undefined when the file was removed meanwhile (or something that is no file put in its place).
 * `onWait` hears once that it waits for writes to pause.
 */
export async function readWhenQuiet(file: string, sighted: FileSighting | undefined, deadline: number, onWait?: () => void, now: () => number = Date.now): Promise<QuietRead | undefined> {
  let confirmBy = sighted;
  let waited = false;
  for (;;) {
    const read = readBetweenStats(file);
    if (!read) return undefined;
    const { content, unchanged, mtimeMs, stamp } = read;
    const age = now() - mtimeMs;
    if (unchanged && (age >= QUIET_MS || age < -CLOCK_SKEW_MS)) {
      if (confirmBy?.stamp === stamp && now() - confirmBy.at >= CONFIRM_MS) return { content, quiet: true };
      confirmBy = { stamp, at: now() };
      await pause(CONFIRM_MS);
      continue;
    }
    if (now() >= deadline) return { content, quiet: false };
    if (!waited) onWait?.();
    waited = true;
    await pause(unchanged ? Math.max(QUIET_MS - age, RETRY_MS) : RETRY_MS);
  }
}

/** The file's content, its write stamp, and whether its modification time and size were the same before and after the read; undefined when there is no file there. */
function readBetweenStats(file: string): { content: Buffer; unchanged: boolean; mtimeMs: number; stamp: string } | undefined {
  let fd: number;
  try {
    // Without waiting: a named pipe put in the file's place meanwhile would keep the open waiting for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const before = fs.fstatSync(fd, { bigint: true });
    if (!before.isFile()) return undefined;
    const content = fs.readFileSync(fd);
    const after = fs.fstatSync(fd, { bigint: true });
    const unchanged = before.mtimeNs === after.mtimeNs && before.size === after.size && BigInt(content.length) === after.size;
    return { content, unchanged, mtimeMs: Number(after.mtimeNs / 1_000_000n), stamp: writeStampOf(after) };
  } finally {
    fs.closeSync(fd);
  }
}
