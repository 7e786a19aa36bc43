import type { Profile } from '../profileModel';
import { NewerCatalogError, newestFirst, readCatalog, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { lastVerifiedBackup, type LastVerified } from './lastVerifiedBackup';

/**
 * Where a profile stands with its backups, as `status` and `list` say it: how many, the newest, the
 * last verified one that can be restored (or the stranded one, see lastVerifiedBackup), and why none
 * can be seen when the catalog cannot be read or the backups folder is not there.
 */
export interface BackupStanding {
  count: number;
  newest?: CatalogEntry;
  lastVerified?: CatalogEntry;
  stranded?: LastVerified['stranded'];
  /** The catalog cannot be read: its error. */
  unreadable?: string;
  /** It cannot be read because a newer version wrote it (this version never rewrites it). */
  newerCatalog?: true;
  /** No backup is listed and the backups folder is missing or not the one backed up into (see BackupLayout.absence). */
  absence?: string;
}

export function backupStanding(backups: BackupLayout, profile: Pick<Profile, 'id' | 'createdAt'>, now: Date): BackupStanding {
  let entries: CatalogEntry[];
  try {
    entries = readCatalog(backups, profile.id);
  } catch (error) {
    return { count: 0, unreadable: (error as Error).message, ...(error instanceof NewerCatalogError ? { newerCatalog: true as const } : {}) };
  }
  const newest = [...entries].sort(newestFirst)[0];
  const { backup: lastVerified, stranded } = lastVerifiedBackup(entries, profile, now);
  const absence = newest ? undefined : backups.absence();
  return { count: entries.length, ...(newest ? { newest } : {}), ...(lastVerified ? { lastVerified } : {}), ...(stranded ? { stranded } : {}), ...(absence ? { absence } : {}) };
}
