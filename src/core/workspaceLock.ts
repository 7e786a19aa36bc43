import * as fs from 'node:fs';
import * as os from 'node:os';
import { temporaryPathFor } from './atomicFile';
import { EnvProfilesError } from './errors';
import type { WorkspaceLayout } from './workspaceLayout';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  operation: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file this young that cannot be read is taken to be in the middle of being written, so held. */
const UNREADABLE_LOCK_GRACE_MS = 60_000;

type LockState = { kind: 'none' } | { kind: 'live'; owner: LockOwner } | { kind: 'stale'; text: string };

/**
 * What the lock file says: nobody holds the lock, a live process does, or a dead one did (with the
 * file's exact text, so that only that very file is taken over).
 */
function readLock(layout: WorkspaceLayout): LockState {
  let text: string;
  try {
    text = fs.readFileSync(layout.lockFile, 'utf8');
  } catch {
    return { kind: 'none' };
  }
  let owner: LockOwner | undefined;
  try {
    owner = JSON.parse(text) as LockOwner;
  } catch {
    owner = undefined;
  }
  if (!owner || typeof owner.pid !== 'number') {
    // Only a lock written without hard links can be seen half-written; an old unreadable one is abandoned.
    const age = Date.now() - (fs.statSync(layout.lockFile, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (age > UNREADABLE_LOCK_GRACE_MS) return { kind: 'stale', text };
    return { kind: 'live', owner: { pid: 0, host: 'unknown', since: 'just now', operation: 'an operation that is starting' } };
  }
  if (owner.host === os.hostname() && !isAlive(owner.pid)) return { kind: 'stale', text };
  return { kind: 'live', owner };
}

/** Reads who holds the workspace lock; undefined when nobody does or the holder is dead. */
export function liveLockOwner(layout: WorkspaceLayout): LockOwner | undefined {
  const state = readLock(layout);
  return state.kind === 'live' ? state.owner : undefined;
}

/**
 * Creates the lock file with its whole content in one step, or reports that it exists: the content goes
 * to a temporary file first, which is then hard-linked to the lock's name (linking never replaces a
 * file), so nobody ever reads a lock file that is still being written. Where hard links are not
 * supported, an exclusive create and write.
 */
function createLockFile(layout: WorkspaceLayout, text: string): boolean {
  const temp = temporaryPathFor(layout.lockFile);
  try {
    fs.writeFileSync(temp, text, { flag: 'wx' });
    fs.linkSync(temp, layout.lockFile);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: the lock is there. ENOENT: a recovery running at that instant removed our temporary file
    // (it is named as one); the caller looks at the lock and tries again.
    if (code === 'EEXIST' || code === 'ENOENT') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  try {
    fs.writeFileSync(layout.lockFile, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes the lock file only if it is still exactly the stale one (`staleText`): it is first moved aside
 * (a rename is atomic, so two processes cannot both take it), then checked. If another process had
 * already replaced it with its own live lock, that lock is put back where it was. Returns whether the
 * stale lock was removed by this call.
 */
export function takeOverStaleLock(layout: WorkspaceLayout, staleText: string): boolean {
  const aside = temporaryPathFor(layout.lockFile);
  try {
    fs.renameSync(layout.lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // someone else took it over
    throw error;
  }
  try {
    let moved: string;
    try {
      moved = fs.readFileSync(aside, 'utf8');
    } catch {
      return false; // a recovery holding the lock removed it as a temporary file; the caller looks again
    }
    if (moved === staleText) return true;
    // A live lock that replaced the stale one in the meantime: back in place (unless yet another
    // process created one in this instant, which then holds the lock).
    try {
      fs.linkSync(aside, layout.lockFile);
    } catch {
      // Nothing more to do: the lock is held either way.
    }
    return false;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/**
 * Takes the workspace lock so that two operations (two CLI runs, the CLI and the extension) never
 * interleave. A lock left by a dead process is taken over. Returns the release function.
 */
export function acquireWorkspaceLock(layout: WorkspaceLayout, operation: string): () => void {
  fs.mkdirSync(layout.storeDir, { recursive: true });
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), operation };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createLockFile(layout, JSON.stringify(owner))) return () => releaseLock(layout);
    const state = readLock(layout);
    if (state.kind === 'live') {
      const current = state.owner;
      throw new EnvProfilesError('WORKSPACE_BUSY', `Another operation is running in this workspace: ${current.operation} (process ${current.pid} on ${current.host}, since ${current.since}).`, {
        kind: 'refused',
        file: layout.relative(layout.lockFile),
        hint: 'Wait for it to finish and try again. If no such process exists, delete the lock file.',
      });
    }
    // The holder is dead: take its lock over and try again (another process may win; then we see it live).
    if (state.kind === 'stale') takeOverStaleLock(layout, state.text);
  }
  throw new EnvProfilesError('WORKSPACE_BUSY', 'Could not take the workspace lock.', { kind: 'refused', hint: 'Try again.' });
}

function releaseLock(layout: WorkspaceLayout): void {
  try {
    const owner = JSON.parse(fs.readFileSync(layout.lockFile, 'utf8')) as LockOwner;
    if (owner.pid === process.pid && owner.host === os.hostname()) fs.rmSync(layout.lockFile, { force: true });
  } catch {
    // Already gone.
  }
}

/** Removes a lock file whose owner process is gone (killed), so it does not linger. */
export function removeStaleLock(layout: WorkspaceLayout): void {
  const state = readLock(layout);
  if (state.kind === 'stale') takeOverStaleLock(layout, state.text);
}
