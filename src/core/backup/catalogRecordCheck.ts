import { ArchiveReader } from './archiveReader';
import type { CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';

/**
 * Where the catalog's record of a backup disagrees with its archive's manifest on what it builds on
 * (kind, parent, chain): one line per backup. Prune decides what a kept backup needs from the record;
 * a record edited or merged by hand that dropped a chain had prune delete the full backup a kept
 * incremental needs. An archive that cannot be read is left out (its chain is unknown; verify says why).
 */
export async function recordsDisagreeingWithArchives(backups: BackupLayout, profileId: string, entries: CatalogEntry[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of entries) {
    let archive: ArchiveReader;
    try {
      archive = await ArchiveReader.open(backups.archiveFile(profileId, entry.id));
    } catch {
      continue;
    }
    const { manifest } = archive;
    archive.close();
    const said = (kind: string, chain: string[]): string => `${kind}${chain.length > 0 ? ` on ${chain.join(', ')}` : ''}`;
    if (manifest.kind !== entry.kind || manifest.parent !== entry.parent || manifest.chain.join(' ') !== entry.chain.join(' ')) {
      found.push(`the catalog records ${entry.id} as ${said(entry.kind, entry.chain)}, its archive as ${said(manifest.kind, manifest.chain)}`);
    }
  }
  return found;
}
