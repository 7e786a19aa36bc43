import { fileSha256 } from '../fileDigest';
import type { CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';

/**
 * Whether every backup an incremental builds on is still listed. A verification says nothing of a
 * backup whose chain lost an archive since (its catalog rebuilt without it): it cannot be restored, so
 * prune and delete must not rely on it as "the verified backup".
 */
export function chainListed(entry: CatalogEntry, listed: ReadonlySet<string> | ReadonlyMap<string, unknown>): boolean {
  return entry.chain.every((id) => listed.has(id));
}

/**
 * Why the archives of a verified backup and of its chain are no longer the ones that were verified
 * (their SHA-256 as the catalog recorded it), or undefined when they still are. Prune keeps the newest
 * verified backup and lets the others go on the strength of that record, and delete removes the profile
 * on it: an archive gone or damaged on the disk since would leave nothing that restores.
 */
export async function changedSinceVerified(backups: BackupLayout, profileId: string, entry: CatalogEntry, listed: ReadonlyMap<string, CatalogEntry>): Promise<string | undefined> {
  for (const id of [entry.id, ...entry.chain]) {
    const member = listed.get(id);
    const whose = id === entry.id ? 'its archive' : `the archive of ${id}, which it builds on,`;
    if (!member) return `its chain needs ${id}, which the catalog no longer lists`;
    let sha256: string;
    try {
      sha256 = await fileSha256(backups.archiveFile(profileId, id));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return `${whose} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(error)})`}`;
    }
    if (sha256 !== member.sha256) return `${whose} changed since it was verified`;
  }
  return undefined;
}
