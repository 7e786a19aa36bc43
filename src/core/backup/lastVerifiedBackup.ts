import type { Profile } from '../profileModel';
import { holdsDataExactly, newestFirst, type CatalogEntry } from './backupCatalog';
import { backupsOfEarlierProfile } from './earlierProfile';
import { chainFault, type ChainFault } from './verifiedArchives';

/** The last verified backup of a profile; or, when none can be restored, the newest verified one that cannot and what its chain has against it. */
export interface LastVerified {
  backup?: CatalogEntry;
  stranded?: { backup: CatalogEntry; fault: ChainFault };
}

/**
 * The newest backup of a profile that verify showed to hold its data exactly (see holdsDataExactly),
 * as the status bar and `envprofiles status` report it. A backup of an earlier profile with this id
 * (see earlierProfile) does not hold this profile's data, so it never counts; nor does one that cannot
 * be restored (see chainFault: its chain lost an archive, or holds one that failed verification since):
 * that one is `stranded` when no other counts, since "no verified backup yet" would be untrue, and
 * verifying it again would not help.
 */
export function lastVerifiedBackup(entries: CatalogEntry[], profile: Pick<Profile, 'createdAt'>, now: Date): LastVerified {
  const earlier = new Set(backupsOfEarlierProfile(entries, profile, now));
  const listed = new Map(entries.map((e) => [e.id, e]));
  let stranded: LastVerified['stranded'];
  for (const entry of [...entries].sort(newestFirst)) {
    if (!holdsDataExactly(entry) || earlier.has(entry)) continue;
    const fault = chainFault(entry, listed);
    if (fault === undefined) return { backup: entry };
    stranded ??= { backup: entry, fault };
  }
  return stranded ? { stranded } : {};
}
