import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EnvProfilesError } from './errors';
import { temporaryPathFor } from './atomicFile';
import { readSteadily } from './steadyRead';
import { pathKind } from './pathKind';
import { isProcessAlive, recordedIdentity, thisProcessIdentity, type ProcessIdentity } from './processAlive';

/** Who holds a lock file: written into it as JSON (boot and started where the system tells them: see ProcessIdentity). */
export interface LockOwner extends ProcessIdentity {
  pid: number;
  host: string;
  since: string;
  operation: string;
}

/** The owner a lock taken now by this process records. */
export function thisProcessAsOwner(operation: string): LockOwner {
  return { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), operation, ...thisProcessIdentity() };
}

/** A lock file this young that cannot be read is taken to be in the middle of being written, so held. */
const UNREADABLE_LOCK_GRACE_MS = 60_000;

export type LockState = { kind: 'none' } | { kind: 'live'; owner: LockOwner; text: string } | { kind: 'stale'; text: string };

/**
 * What a lock file says: nobody holds the lock, a live process does, or a dead one did (with the file's
 * exact text, so that only that very file is taken over). A holder on another machine cannot be asked
 * whether it lives: its lock is held, unless `otherHostAbandonedAfterMs` says after how long it is not.
 */
export function readLockFile(file: string, otherHostAbandonedAfterMs?: number): LockState {
  const read = readLock(file);
  if (!read) return { kind: 'none' };
  const { text, owner } = read;
  const age = (): number => Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
  if (!owner) {
    // Only a lock written without hard links can be seen half-written; an old unreadable one is abandoned.
    if (age() > UNREADABLE_LOCK_GRACE_MS) return { kind: 'stale', text };
    return { kind: 'live', owner: { pid: 0, host: 'unknown', since: 'just now', operation: 'an operation that is starting' }, text };
  }
  if (owner.host === os.hostname()) return isProcessAlive(owner.pid, recordedIdentity(owner)) ? { kind: 'live', owner, text } : { kind: 'stale', text };
  if (otherHostAbandonedAfterMs !== undefined && age() > otherHostAbandonedAfterMs) return { kind: 'stale', text };
  return { kind: 'live', owner, text };
}

/**
 * A takeover holds this guard (created exclusively) for the few system calls between checking that the
 * lock is still the stale one and removing it. Without it, a takeover that had read the stale lock could
 * remove a live lock that another takeover had already put in its place, and two operations would run.
 */
function takeoverGuardFile(file: string): string {
  return `${file}.takeover`;
}

/** A guard this old was left by a process killed in the middle of a takeover (which takes microseconds). */
const ABANDONED_GUARD_MS = 10_000;

/**
 * Removes the lock file only if it is still exactly the stale one (`staleText`), under the takeover
 * guard. Returns whether the stale lock was removed by this call; false also when another process is
 * taking it over at this instant (the caller then looks at the lock again).
 */
export function takeOverStaleLockFile(file: string, staleText: string): boolean {
  const guard = takeoverGuardFile(file);
  const guardText = JSON.stringify({ pid: process.pid, host: os.hostname(), nonce: Math.random() });
  if (!createExclusively(guard, guardText)) {
    removeAbandonedGuard(guard);
    return false;
  }
  try {
    // Gone already (the caller then creates its own) or replaced by a live lock: not ours to remove.
    if (readText(file) !== staleText) return false;
    fs.rmSync(file, { force: true });
    return true;
  } finally {
    // Ours unless it was taken for abandoned meanwhile (only if this process stalled for 10 s).
    if (readText(guard) === guardText) fs.rmSync(guard, { force: true });
  }
}

/**
 * The owner a lock file's text names. A lock of ours names its process and machine as a number and
 * text: anything else is no owner (a host that was not text passed for another machine's lock, held for ever).
 */
function parsedOwner(text: string): LockOwner | undefined {
  let owner: unknown;
  try {
    owner = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!owner || typeof owner !== 'object') return undefined;
  const { pid, host } = owner as Partial<LockOwner>;
  return typeof pid === 'number' && typeof host === 'string' ? (owner as LockOwner) : undefined;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Removes a takeover guard left by a killed process: moved aside (so two processes cannot both remove
 * it), checked to be the very guard that was found old, otherwise put back.
 */
function removeAbandonedGuard(guard: string): void {
  const found = readText(guard);
  const age = Date.now() - (fs.statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
  if (found === undefined || age < ABANDONED_GUARD_MS) return;
  const aside = temporaryPathFor(guard);
  try {
    fs.renameSync(guard, aside);
  } catch {
    return; // someone else removed it
  }
  try {
    if (readText(aside) !== found) fs.linkSync(aside, guard);
  } catch {
    // A new guard is in place: it holds the takeover either way.
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/**
 * Creates `file` (a lock, or a takeover guard) with its whole content in one step, or reports that it
 * exists: the content goes to a temporary file first, which is then hard-linked to the name (linking
 * never replaces a file), so nobody ever reads a lock file that is still being written. Where hard links
 * are not supported, an exclusive create and write.
 */
export function createExclusively(file: string, text: string): boolean {
  const temp = temporaryPathFor(file);
  try {
    fs.writeFileSync(temp, text, { flag: 'wx' });
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: it is there. ENOENT: a recovery running at that instant removed our temporary file (look
    // again), or the lock's folder is gone (removed, a disk unmounted): waiting would not bring it back,
    // and before, the caller polled for ever.
    if (code === 'EEXIST') return refuseFolder(file);
    if (code === 'ENOENT' && pathKind(path.dirname(file)) === 'folder') return false;
    if (code === 'ENOENT') throw error;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  try {
    fs.writeFileSync(file, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return refuseFolder(file);
    throw error;
  }
}

/**
 * What is there when `file` could not be created: false (a lock someone holds), or, for a folder in the
 * lock file's place, an error. A folder never goes away by itself: waiting for it (the workspace's lock
 * said "being taken over, try again in a few seconds" for ever) would not help.
 */
function refuseFolder(file: string): false {
  if (pathKind(file) !== 'folder') return false;
  throw new EnvProfilesError('IO_ERROR', `${file} is a folder, not a lock file of this tool, so no operation can take the lock; nothing was changed.`, { file, hint: `This tool never makes a folder there: remove ${file}, then run the command again.` });
}

/** Removes the lock file if this process holds it. */
export function releaseLockFile(file: string): void {
  const owner = readLock(file)?.owner;
  if (owner?.pid !== process.pid || owner.host !== os.hostname()) return;
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // Cannot be removed (a disk turned read-only): the lock of a process that has ended is taken over.
  }
}

/** A lock file's text and the owner it names (if any), or undefined when there is none. */
function readLock(file: string): { text: string; owner: LockOwner | undefined } | undefined {
  // Read again while it names no owner: a release that read zeros (fusefat) left the lock in place, and
  // every operation waited for this process, itself included (two minutes, then refused); and a
  // long-held lock read so would have been taken for abandoned.
  try {
    const read = readSteadily(file, parsedOwner);
    return read && { text: read.text, owner: read.value };
  } catch {
    return undefined;
  }
}
