import { catalogDisagreements, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { catalogLockReleased } from './catalogLock';

/** Reads of catalog and folder, at most, before a disagreement counts: a change under way ends within one. */
const READS = 3;

/**
 * A profile's catalog and where it disagrees with the archives in its folder, as things stand once no
 * change is under way. Every change of the two (a backup's archive and its listing, a prune's unlisting
 * and deletion) is made under the catalog's lock, but a reader reads the catalog and the folder one after
 * the other, without that lock: a change made in between (by a workspace that shares the folder) looks
 * like a disagreement. So a disagreement is read again, after the lock is free, before it counts. Before,
 * a prune that met another workspace's backup between its archive and its listing refused, and said to
 * rebuild the catalog. `read` reads the catalog; `entries` is a read made already, if any.
 */
export async function settledDisagreements(backups: BackupLayout, profileId: string, read: () => CatalogEntry[], entries: CatalogEntry[] = read()): Promise<{ entries: CatalogEntry[]; disagreements: string[] }> {
  let current = entries;
  let disagreements = catalogDisagreements(backups, profileId, current);
  for (let reads = 1; disagreements.length > 0 && reads < READS; reads++) {
    if (!(await catalogLockReleased(backups, profileId))) break;
    current = read();
    disagreements = catalogDisagreements(backups, profileId, current);
  }
  return { entries: current, disagreements };
}
