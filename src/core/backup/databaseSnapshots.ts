import * as fs from 'node:fs';
import { lockedDatabaseError } from '../databaseInUse';
import { isOutOfSpace } from '../diskSpace';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { typedSystemError } from '../systemErrors';
import { damagedDatabaseDetail, DatabaseLockedError } from '../sqlite/sqliteEngine';
import type { WorkspaceContext } from '../workspaceContext';
import { settledInTurns } from '../settledInTurns';

// The snapshots of a profile's databases (SQLite's backup API, in one step each, several at once), and
// their failures put in words the user can act on.

/** How to back up a profile whose database is damaged anyway (BackupOptions.keepDamaged). */
export function keepDamagedHint(profileId: string): string {
  return `To back up the rest now and keep that file as it is: envprofiles backup ${profileId} --keep-damaged.`;
}

/**
 * A snapshot's failure as the user can act on it: typed errors and a full disk stay as they are; what
 * SQLite or the system says otherwise is put in words that name the database (not "a bug").
 */
function snapshotError(profileId: string, { logical, written }: { logical: string; written: string }, error: unknown): unknown {
  if (error instanceof DatabaseLockedError) return lockedDatabaseError(`${written} (database "${logical}" of ${profileId})`, error.file, `the backup of ${profileId}`);
  if (isEnvProfilesError(error) || isOutOfSpace(error)) return error;
  const damage = damagedDatabaseDetail(error);
  if (damage) {
    return new EnvProfilesError('DATABASE_INVALID', `${written} (database "${logical}" of ${profileId}) is damaged (${damage}), so it cannot be backed up.`, {
      file: written,
      cause: error,
      hint: `Restore it from a backup ("envprofiles backups ${profileId}" lists them; "envprofiles restore <backup-id> --db ${logical}" restores only it): the restore keeps the damaged file beside it. "envprofiles validate ${profileId} --full" says what SQLite finds wrong. ${keepDamagedHint(profileId)}`,
      nextStep: { action: 'backup-keeping-damaged', profileId },
    });
  }
  const system = typedSystemError(error);
  if (system) return system;
  return new EnvProfilesError('IO_ERROR', `The snapshot of ${written} (database "${logical}") failed: ${(error as Error)?.message ?? String(error)}.`, {
    file: written,
    cause: error,
    hint: `Check that the file is a readable SQLite database on a working disk ("envprofiles validate ${profileId} --full"), then back up again.`,
    nextStep: { action: 'validate-full', profileId },
  });
}

/**
 * Snapshots every database of the profile together (SNAPSHOTS_AT_ONCE at a time), each with the backup
 * API in one step: the copies are then of (nearly) the same moment, which matters for databases that refer to one another (each is
 * one committed state; SQLite gives no atomicity across files), and several files are copied on both
 * cores. All snapshots end before their failures are returned (in the databases' order, for the
 * caller to throw or to leave those databases out), so that none still writes into the staging folder
 * when it is removed.
 */
export async function takeSnapshots(context: WorkspaceContext, profileId: string, databases: { logical: string; written: string; source: string; snapshot: string }[], step: (name: string) => void): Promise<{ notes: string[]; failures: { index: number; error: unknown }[] }> {
  const started = performance.now();
  const notes: string[] = [];
  const outcomes = await settledInTurns(databases, SNAPSHOTS_AT_ONCE, async ({ logical, written, source, snapshot }) => {
    // An empty file is a database with no tables to SQLite, and is backed up as one; a database that was
    // emptied (a program truncated it) would otherwise look like any other backup.
    if (fs.statSync(source, { throwIfNoEntry: false })?.size === 0) notes.push(`${written} (${logical}) is empty (0 bytes): it was backed up as a database with no tables; if it held data, the earlier backups still do ("envprofiles backups ${profileId}")`);
    const { rolledBackJournal } = await context.engine.snapshot(source, snapshot);
    if (rolledBackJournal) {
      notes.push(`${written} had the journal of an unfinished transaction (a program stopped in the middle of writing); it was rolled back to the last committed state before the snapshot, as SQLite does on the next open`);
      context.logger.warn(`${logical}: ${written} had a hot journal; rolled back before the snapshot`);
    }
    context.logger.debug(`${logical}: snapshot in ${(performance.now() - started).toFixed(0)} ms`);
    step(`snapshot:${logical}`);
  });
  const failures = outcomes.flatMap((outcome, index) => (outcome.status === 'rejected' ? [{ index, error: snapshotError(profileId, databases[index], outcome.reason) }] : []));
  return { notes, failures };
}

/**
 * Snapshots in flight at once: Node copies on its thread pool, four threads, so more gain nothing, and each
 * holds its database open (a profile of 300 small databases opened all of them, 1,000 file descriptors,
 * and its backup peaked at 180 MB).
 */
const SNAPSHOTS_AT_ONCE = 4;

/** A failure that is one database's own (the backup can go on without it), not the disk's, the backups folder's, or a cancel. */
export function isDatabaseProblem(error: unknown): error is EnvProfilesError {
  return isEnvProfilesError(error) && !isOutOfSpace(error) && !['DISK_FULL', 'CANCELLED', 'BACKUPS_FOLDER_MISSING'].includes(error.code);
}
