import * as os from 'node:os';
import { blockingPause } from './blockingPause';
import { EnvProfilesError } from './errors';
import { systemErrorCode } from './systemErrorCode';
import { createExclusively, readLockFile, releaseLockFile, takeOverStaleLockFile, thisProcessAsOwner, type LockOwner, type LockState } from './fileLock';
import type { WorkspaceLayout } from './workspaceLayout';
import { makeFolders } from './makeFolders';

function readLock(layout: WorkspaceLayout): LockState {
  return readLockFile(layout.lockFile);
}

/** Reads who holds the workspace lock; undefined when nobody does or the holder is dead. */
export function liveLockOwner(layout: WorkspaceLayout): LockOwner | undefined {
  const state = readLock(layout);
  return state.kind === 'live' ? state.owner : undefined;
}

/** Removes the workspace lock only if it is still exactly the stale one (see takeOverStaleLockFile). */
export function takeOverStaleLock(layout: WorkspaceLayout, staleText: string): boolean {
  return takeOverStaleLockFile(layout.lockFile, staleText);
}

/**
 * Takes the workspace lock so that two operations (two CLI runs, the CLI and the extension) never
 * interleave. A lock left by a dead process is taken over. Returns the release function.
 */
export function acquireWorkspaceLock(layout: WorkspaceLayout, operation: string): () => void {
  makeFolders(layout.storeDir);
  const owner = thisProcessAsOwner(operation);
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createLockFile(layout, operation, JSON.stringify(owner))) return () => releaseLock(layout);
    const state = readLock(layout);
    if (state.kind === 'live') {
      const current = state.owner;
      throw new EnvProfilesError('WORKSPACE_BUSY', `Another operation is running in this workspace: ${current.operation} (process ${current.pid} on ${current.host}, since ${current.since}).`, {
        kind: 'refused',
        file: layout.relative(layout.lockFile),
        hint: `Wait for it to finish and try again (the CLI waits for it with --wait MINUTES). ${current.host === os.hostname() ? 'If no such process exists' : `${current.host} is another machine (or a container that was rebuilt since, which gets a new name), and this one cannot ask it whether that process still runs: if it does not`}, delete ${layout.relative(layout.lockFile)}.`,
      });
    }
    // The holder is dead: take its lock over and try again (another process may win; then we see it
    // live). While another process is taking it over, wait a moment.
    if (state.kind === 'stale' && !takeOverStaleLock(layout, state.text)) blockingPause(2);
  }
  throw new EnvProfilesError('WORKSPACE_BUSY', 'Could not take the workspace lock: a lock left by a stopped process is being taken over.', { kind: 'refused', file: layout.relative(layout.lockFile), hint: 'Try again in a few seconds.' });
}

/**
 * createExclusively for the workspace lock; on a read-only workspace (a read-only mount, a snapshot)
 * says that no command that takes the lock can run there, and which can (before: "use a folder on a
 * writable disk", naming the lock's temporary file).
 */
function createLockFile(layout: WorkspaceLayout, operation: string, text: string): boolean {
  try {
    return createExclusively(layout.lockFile, text);
  } catch (error) {
    if (systemErrorCode(error) !== 'EROFS') throw error;
    throw new EnvProfilesError('PERMISSION_DENIED', `The workspace ${layout.root} is on a read-only file system, so "${operation}" cannot take its lock (${layout.relative(layout.lockFile)}); nothing was changed.`, {
      file: layout.relative(layout.lockFile),
      cause: error,
      hint: 'Commands that only read (list, show, status, validate, backups) work here; for this one, mount the workspace read-write, or copy it to a writable disk and run it there.',
    });
  }
}

function releaseLock(layout: WorkspaceLayout): void {
  releaseLockFile(layout.lockFile);
}

/** Removes a lock file whose owner process is gone (killed), so it does not linger. */
export function removeStaleLock(layout: WorkspaceLayout): void {
  const state = readLock(layout);
  if (state.kind === 'stale') takeOverStaleLock(layout, state.text);
}
