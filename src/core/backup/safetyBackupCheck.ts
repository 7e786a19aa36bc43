import * as fs from 'node:fs';
import { requireFreeSpace } from '../diskSpace';
import { EnvProfilesError, isEnvProfilesError, reworded } from '../errors';
import { walSize } from '../sqlite/sqliteHeader';
import type { WorkspaceContext } from '../workspaceContext';
import { verifyUnlocked } from './backupVerification';

/**
 * A restore replaces the current data, so the safety backup that holds it is verified before anything
 * is replaced, as `verify` does (every entry's SHA-256, each database rebuilt and checked). An archive
 * that does not give the current data back stops the restore; data that was already damaged does not
 * (it may be why the user restores), and is said.
 */

export interface SafetyBackupCheck {
  /** Whether the safety backup passed verification; false when it holds the data exactly, damage included. */
  verified: boolean;
  notes: string[];
}

/**
 * The room verifying the safety backup takes on the disk of the backups folder: its largest database,
 * rebuilt there and removed before the next (the -wal's committed pages may make it larger than the file).
 * Checked before the safety backup is taken, as the restore's own room is.
 */
export function requireRoomToVerify(operation: string, backupsFolder: string, databaseFiles: string[]): void {
  const largest = Math.max(0, ...databaseFiles.map((file) => (fs.existsSync(file) ? fs.statSync(file).size + walSize(file) : 0)));
  if (largest > 0) requireFreeSpace(operation, [{ folder: backupsFolder, bytes: largest, what: 'verifying the safety backup (its largest database, rebuilt)' }]);
}

/** A safety backup that does not give the current data back: verify's first problem. */
export interface SafetyBackupFailure {
  failed: string;
  archive: string;
  profileId?: string;
}

/** The error for a safety backup that failed verification: nothing was restored. */
export function safetyBackupFailed(backupId: string, failure: SafetyBackupFailure): EnvProfilesError {
  return new EnvProfilesError('VERIFY_FAILED', `${nothingRestored(backupId)} failed verification, so it could not give the current data back: ${failure.failed}`, {
    file: failure.archive,
    hint: `The current data is as it was. Check the disk of the backups folder, then take a new full backup ("envprofiles backup ${failure.profileId ?? '<profile>'} --full --verify") and restore again.`,
    nextStep: failure.profileId ? { action: 'backup', profileId: failure.profileId } : undefined,
  });
}

function nothingRestored(backupId: string): string {
  return `Nothing was restored: the safety backup ${backupId} of the current state`;
}

/**
 * Verifies the safety backup `backupId` (its archive `archive`), as `verify` does. A failure to give the
 * current data back is returned (the caller may take a full one instead, then throws safetyBackupFailed).
 */
export async function checkSafetyBackup(context: WorkspaceContext, backupId: string, archive: string): Promise<SafetyBackupCheck | SafetyBackupFailure> {
  context.progress?.(`Verifying the safety backup ${backupId}`);
  let result;
  try {
    // By its archive: a backup into a catalog that cannot be read is not listed there, and is verified all the same.
    result = await verifyUnlocked(context, archive);
  } catch (error) {
    // A full disk, a cancel: the backup is kept, unverified, and the data is untouched.
    if (!isEnvProfilesError(error) || error.code === 'CANCELLED') throw error;
    throw reworded(error, `${nothingRestored(backupId)} was made but could not be verified. ${error.message}`);
  }
  if (result.ok) return { verified: true, notes: [] };
  if (result.archiveSound) {
    const names = result.damagedWhenBackedUp.join(', ');
    return {
      verified: false,
      notes: [`the safety backup ${backupId} holds the data that was replaced exactly, but ${names} already failed integrity_check or foreign_key_check before the restore ("envprofiles verify ${backupId}" says what)`],
    };
  }
  return { failed: result.problems[0], archive: result.archive, ...(result.profileId ? { profileId: result.profileId } : {}) };
}
