import type { Profile } from '../profileModel';
import { holdsDataExactly, newestFirst, type CatalogEntry } from './backupCatalog';
import { backupsOfEarlierProfile } from './earlierProfile';

/**
 * The newest backup of a profile that verify showed to hold its data exactly (see holdsDataExactly),
 * as the status bar and `envprofiles status` report it. A backup of an earlier profile with this id
 * (see earlierProfile) does not hold this profile's data, so it never counts.
 */
export function lastVerifiedBackup(entries: CatalogEntry[], profile: Pick<Profile, 'createdAt'>, now: Date): CatalogEntry | undefined {
  const earlier = new Set(backupsOfEarlierProfile(entries, profile, now));
  return [...entries].sort(newestFirst).find((entry) => holdsDataExactly(entry) && !earlier.has(entry));
}
