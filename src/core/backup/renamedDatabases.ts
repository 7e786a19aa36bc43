import * as path from 'node:path';
import type { Profile } from '../profileModel';
import type { WorkspaceLayout } from '../workspaceLayout';
import type { DatabaseRecord } from './backupManifest';

/**
 * The databases of a backup that the profile has renamed since (the key under `databases:`, not the
 * file): a name the profile no longer lists whose path is now the path of a name the backup does not
 * hold. That is the same file under a new name, so a restore over the profile puts it back there, under
 * the new name. (Before, the old name was left out as "no longer in the profile" and the new one as
 * "not in this backup", both notes naming the same file, and nothing of it was restored.)
 * Returns each renamed database's name in the backup → its name in the profile now.
 */
export function renamedDatabases(layout: WorkspaceLayout, records: readonly DatabaseRecord[], profile: Profile): Map<string, string> {
  const inBackup = new Set(records.map((r) => r.logicalName));
  const renamed = new Map<string, string>();
  const taken = new Set<string>();
  for (const record of records) {
    if (record.logicalName in profile.databases) continue;
    const at = path.normalize(layout.resolve(record.originalPath));
    const now = Object.entries(profile.databases).find(([name, written]) => !inBackup.has(name) && !taken.has(name) && path.normalize(layout.resolve(written)) === at);
    if (!now) continue;
    renamed.set(record.logicalName, now[0]);
    taken.add(now[0]);
  }
  return renamed;
}

/** A database of a backup as a restore over its profile would take it now. */
export interface BackupDatabaseNow {
  record: DatabaseRecord;
  /** Its name in the profile now: the backup's, or the new one where the profile renamed it (above). */
  nameNow: string;
  /** False when the profile no longer lists it under any name: a restore over the profile leaves it out. */
  listed: boolean;
}

/** Each database of a backup against the profile as it is now (all listed, under their names, when there is none). */
export function backupDatabasesNow(layout: WorkspaceLayout, records: readonly DatabaseRecord[], profile: Profile | undefined): BackupDatabaseNow[] {
  return databasesNow(records, profile, profile ? renamedDatabases(layout, records, profile) : new Map<string, string>());
}

/** The same, with the renames already worked out (`renamedTo`, from renamedDatabases). */
export function databasesNow(records: readonly DatabaseRecord[], profile: Profile | undefined, renamedTo: ReadonlyMap<string, string>): BackupDatabaseNow[] {
  return records.map((record) => {
    const nameNow = renamedTo.get(record.logicalName) ?? record.logicalName;
    return { record, nameNow, listed: !profile || nameNow in profile.databases };
  });
}
