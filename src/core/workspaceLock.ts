import * as fs from 'node:fs';
import * as os from 'node:os';
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

/** Reads who holds the workspace lock; undefined when nobody does or the holder is dead. */
export function liveLockOwner(layout: WorkspaceLayout): LockOwner | undefined {
  let owner: LockOwner;
  try {
    owner = JSON.parse(fs.readFileSync(layout.lockFile, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
  if (owner.host === os.hostname() && !isAlive(owner.pid)) return undefined;
  return owner;
}

/**
 * Takes the workspace lock so that two operations (two CLI runs, the CLI and the extension) never
 * interleave. A lock left by a dead process is taken over. Returns the release function.
 */
export function acquireWorkspaceLock(layout: WorkspaceLayout, operation: string): () => void {
  fs.mkdirSync(layout.storeDir, { recursive: true });
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), operation };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(layout.lockFile, JSON.stringify(owner), { flag: 'wx' });
      return () => releaseLock(layout);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = liveLockOwner(layout);
    if (current) {
      throw new EnvProfilesError('WORKSPACE_BUSY', `Another operation is running in this workspace: ${current.operation} (process ${current.pid} on ${current.host}, since ${current.since}).`, {
        kind: 'refused',
        file: layout.relative(layout.lockFile),
        hint: 'Wait for it to finish and try again. If no such process exists, delete the lock file.',
      });
    }
    // The holder is dead: remove its lock and retry (another process may win the race; then we see it live).
    fs.rmSync(layout.lockFile, { force: true });
  }
  throw new EnvProfilesError('WORKSPACE_BUSY', 'Could not take the workspace lock.', { kind: 'refused', hint: 'Try again.' });
}

function releaseLock(layout: WorkspaceLayout): void {
  try {
    const owner = JSON.parse(fs.readFileSync(layout.lockFile, 'utf8')) as LockOwner;
    if (owner.pid === process.pid) fs.rmSync(layout.lockFile, { force: true });
  } catch {
    // Already gone.
  }
}

/** Removes a lock file whose owner process is gone (killed), so it does not linger. */
export function removeStaleLock(layout: WorkspaceLayout): void {
  if (fs.existsSync(layout.lockFile) && !liveLockOwner(layout)) fs.rmSync(layout.lockFile, { force: true });
}
