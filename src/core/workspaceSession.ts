import { hasTemporaryFiles } from './atomicFile';
import { hasStaleCatalogLock } from './backup/catalogLock';
import { isEnvProfilesError } from './errors';
import { leftoverDirectories, recoverInterruptedOperations } from './journalRecovery';
import { whenLockIsFree } from './lockWait';
import { listJournals } from './operationJournal';
import { acquireWorkspaceLock, liveLockOwner, removeStaleLock } from './workspaceLock';
import type { WorkspaceContext } from './workspaceContext';

/**
 * Runs a mutating operation under the workspace lock, after finishing or rolling back whatever an
 * interrupted earlier operation left behind. While another operation holds the lock it is refused
 * (WORKSPACE_BUSY), or, with `context.lockWaitMs`, waits that long for it.
 */
export async function withWorkspaceLock<T>(context: WorkspaceContext, operation: string, run: () => T | Promise<T>): Promise<T> {
  const take = (): (() => void) => acquireWorkspaceLock(context.layout, operation);
  const release = context.lockWaitMs ? await whenLockIsFree(context, async () => take(), context.lockWaitMs) : take();
  try {
    recoverInterruptedOperations(context);
    return await run();
  } finally {
    release();
  }
}

/**
 * Called by every command, read-only ones included: if an earlier operation was interrupted and
 * nobody is working on the workspace now, finish or roll it back so that what we read is consistent.
 * Returns what was recovered.
 */
export function recoverIfIdle(context: WorkspaceContext): string[] {
  if (liveLockOwner(context.layout)) return [];
  const { layout } = context;
  const leftovers = leftoverDirectories(context).some((dir) => hasTemporaryFiles(dir) || hasStaleCatalogLock(dir));
  if (listJournals(layout).length === 0 && !leftovers) {
    removeStaleLock(layout);
    return [];
  }
  let release: () => void;
  try {
    release = acquireWorkspaceLock(context.layout, 'recovery');
  } catch (error) {
    // Another operation took the lock in the meantime: it recovers what needs recovering, not us.
    if (isEnvProfilesError(error) && error.code === 'WORKSPACE_BUSY') return [];
    throw error;
  }
  try {
    return recoverInterruptedOperations(context);
  } finally {
    release();
  }
}
