import type { Profile } from '../profileModel';
import { holdsDataExactly, newestFirst, type CatalogEntry } from './backupCatalog';
import { backupsOfEarlierProfile } from './earlierProfile';
import { chainListed } from './verifiedArchives';

/**
 * The newest backup of a profile that verify showed to hold its data exactly (see holdsDataExactly),
 * as the status bar and `envprofiles status` report it. A backup of an earlier profile with this id
 * (see earlierProfile) does not hold this profile's data, so it never counts; nor does one whose chain
 * lost an archive (its catalog rebuilt without it), which cannot be restored.
 */
export function lastVerifiedBackup(entries: CatalogEntry[], profile: Pick<Profile, 'createdAt'>, now: Date): CatalogEntry | undefined {
  const earlier = new Set(backupsOfEarlierProfile(entries, profile, now));
  const listed = new Set(entries.map((e) => e.id));
  return [...entries].sort(newestFirst).find((entry) => holdsDataExactly(entry) && !earlier.has(entry) && chainListed(entry, listed));
}

/**
 * The newest verified backup of the profile whose chain lost an archive, when no verified one can be
 * restored: "no verified backup yet" would be untrue, and verifying it again would not help.
 */
export function strandedVerifiedBackup(entries: CatalogEntry[], profile: Pick<Profile, 'createdAt'>, now: Date): CatalogEntry | undefined {
  if (lastVerifiedBackup(entries, profile, now)) return undefined;
  const earlier = new Set(backupsOfEarlierProfile(entries, profile, now));
  return [...entries].sort(newestFirst).find((entry) => holdsDataExactly(entry) && !earlier.has(entry));
}

/** The first backup of `entry`'s chain that the catalog no longer lists. */
export function lostFromChain(entry: CatalogEntry, entries: CatalogEntry[]): string | undefined {
  const listed = new Set(entries.map((e) => e.id));
  return entry.chain.find((id) => !listed.has(id));
}
