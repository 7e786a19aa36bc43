import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvProfilesError } from '../errors';
import { requireWritableFolders } from '../folderAccess';
import { createExclusively, readLockFile, releaseLockFile, takeOverStaleLockFile, thisProcessAsOwner, type LockOwner } from '../fileLock';
import type { BackupLayout } from './backupLayout';

/**
 * The workspace lock keeps one workspace's operations apart, but a backups folder may be shared by two
 * workspaces (backups.directory outside both), whose nightly jobs can run at the same minute. Each
 * change of a profile's catalog (a backup listed, a verification recorded, a prune, a rebuild) is a
 * read, a change and a write: two at once would lose one of them (a backup no longer listed). So each
 * takes this lock beside the catalog for those few milliseconds.
 */
export function catalogLockFile(backups: BackupLayout, profileId: string): string {
  return path.join(backups.profileDir(profileId), CATALOG_LOCK_NAME);
}

const CATALOG_LOCK_NAME = 'catalog.json.lock';

/** Held for milliseconds; a wait this long means the holder is stuck, and the caller is refused. */
const LONGEST_WAIT_MS = 120_000;
/** A holder on another machine cannot be asked whether it lives: after this long, its lock is abandoned. */
const OTHER_HOST_ABANDONED_MS = 10 * 60_000;
const POLL_MS = 10;

/** The catalog locks this process holds now. */
const heldHere = new Set<string>();

/**
 * Whether the lock names this process, which does not hold it: it was left by a release of ours that
 * could not remove it (the disk failed to read it back at that instant), and is ours to take over.
 * Before, this process waited for itself for two minutes, then refused.
 */
function leftByThisProcess(file: string, owner: LockOwner): boolean {
  return owner.pid === process.pid && owner.host === os.hostname() && !heldHere.has(file);
}

/** A wait this long for the lock (held for milliseconds otherwise) is said once, so that nobody stares at a silent command. */
const SAY_WAITING_AFTER_MS = 1_000;

/**
 * Runs `change` (a read, change and write of the catalog) while holding the profile's catalog lock.
 * `onWait` hears once, after a second, what it waits for (before: nothing, until the 2-minute limit).
 */
export async function withCatalogLock<T>(backups: BackupLayout, profileId: string, operation: string, change: () => T, onWait?: (message: string) => void): Promise<T> {
  const file = catalogLockFile(backups, profileId);
  const owner = thisProcessAsOwner(operation);
  const started = Date.now();
  const giveUpAt = started + LONGEST_WAIT_MS;
  let said = false;
  while (!takeLock(backups, profileId, operation, file, owner)) {
    const state = readLockFile(file, OTHER_HOST_ABANDONED_MS);
    // A killed holder's lock is taken over at once (another process may win the takeover: then it holds it).
    if (state.kind === 'stale' && takeOverStaleLockFile(file, state.text)) continue;
    if (state.kind === 'live' && leftByThisProcess(file, state.owner) && takeOverStaleLockFile(file, state.text)) continue;
    if (state.kind === 'live' && !said && Date.now() - started >= SAY_WAITING_AFTER_MS) {
      said = true;
      const holder = state.owner;
      onWait?.(`The backup catalog of ${profileId} is held by another operation: ${holder.operation} (process ${holder.pid} on ${holder.host}, since ${holder.since}), likely a workspace that shares this backups folder; waiting for it (at most ${LONGEST_WAIT_MS / 60_000} minutes).`);
    }
    if (state.kind === 'live' && Date.now() > giveUpAt) {
      const holder = state.owner;
      throw new EnvProfilesError('WORKSPACE_BUSY', `The backup catalog of ${profileId} (${backups.catalogFile(profileId)}) has been held for over ${LONGEST_WAIT_MS / 60_000} minutes by another operation: ${holder.operation} (process ${holder.pid} on ${holder.host}, since ${holder.since}). Nothing was changed in it.`, {
        kind: 'refused',
        file,
        hint: `A workspace that shares this backups folder runs it. Wait for it to finish and try again. If no such process exists, delete ${file}.`,
      });
    }
    await sleep(POLL_MS);
  }
  heldHere.add(file);
  try {
    return change();
  } finally {
    heldHere.delete(file);
    releaseLockFile(file);
  }
}

/**
 * Creates the lock file; false when another holds it. A backups folder that cannot be written (a disk
 * mounted read-only) is refused in words that name it and the setting, before anything is changed
 * (before: "read-only" of the lock's temporary file, which the user never sees).
 */
function takeLock(backups: BackupLayout, profileId: string, operation: string, file: string, owner: LockOwner): boolean {
  try {
    return createExclusively(file, JSON.stringify(owner));
  } catch (error) {
    const folder = backups.profileDir(profileId);
    requireWritableFolders(`"${operation}"`, [folder], `The backups folder (backups.directory in .envprofiles/config.yaml) must be writable: remount its disk read-write or make the folder writable, or set backups.directory to another folder, then run it again.`);
    throw error;
  }
}

/** How long a reader waits for a change of the catalog to end before it reads what is there. */
const READER_WAIT_MS = 10_000;

/**
 * Waits until no live operation holds the catalog lock of `profileId` (at most ten seconds), for a
 * reader, which never takes it (a listing works on a read-only disk). Resolves whether it is free.
 */
export async function catalogLockReleased(backups: BackupLayout, profileId: string): Promise<boolean> {
  const file = catalogLockFile(backups, profileId);
  const giveUpAt = Date.now() + READER_WAIT_MS;
  while (readLockFile(file, OTHER_HOST_ABANDONED_MS).kind === 'live') {
    if (Date.now() > giveUpAt) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/** Removes the catalog lock in `folder` (a profile's backups folder) if its holder was killed (recovery), so that it does not linger. */
export function removeStaleCatalogLock(folder: string): void {
  const file = path.join(folder, CATALOG_LOCK_NAME);
  const state = readLockFile(file, OTHER_HOST_ABANDONED_MS);
  if (state.kind === 'stale') takeOverStaleLockFile(file, state.text);
}

/** Whether `folder` holds a catalog lock whose holder was killed, for recovery to remove. */
export function hasStaleCatalogLock(folder: string): boolean {
  return readLockFile(path.join(folder, CATALOG_LOCK_NAME), OTHER_HOST_ABANDONED_MS).kind === 'stale';
}
