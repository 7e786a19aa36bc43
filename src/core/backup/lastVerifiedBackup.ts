import type { Profile } from '../profileModel';
import { holdsDataExactly, newestFirst, type CatalogEntry } from './backupCatalog';
import { backupsOfEarlierProfile } from './earlierProfile';

/** The last verified backup of a profile; or, when none can be restored, the newest verified one that cannot and the backup its chain lost. */
export interface LastVerified {
  backup?: CatalogEntry;
  stranded?: { backup: CatalogEntry; lost: string };
}

/**
 * The newest backup of a profile that verify showed to hold its data exactly (see holdsDataExactly),
 * as the status bar and `envprofiles status` report it. A backup of an earlier profile with this id
 * (see earlierProfile) does not hold this profile's data, so it never counts; nor does one whose chain
 * lost an archive (its catalog rebuilt without it), which cannot be restored: that one is `stranded`
 * when no other counts, since "no verified backup yet" would be untrue, and verifying it again would not help.
 */
export function lastVerifiedBackup(entries: CatalogEntry[], profile: Pick<Profile, 'createdAt'>, now: Date): LastVerified {
  const earlier = new Set(backupsOfEarlierProfile(entries, profile, now));
  const listed = new Set(entries.map((e) => e.id));
  let stranded: LastVerified['stranded'];
  for (const entry of [...entries].sort(newestFirst)) {
    if (!holdsDataExactly(entry) || earlier.has(entry)) continue;
    const lost = entry.chain.find((id) => !listed.has(id));
    if (lost === undefined) return { backup: entry };
    stranded ??= { backup: entry, lost };
  }
  return stranded ? { stranded } : {};
}
