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
    if (!sameLineage(manifest, entry)) {
      found.push(`the catalog records ${entry.id} as ${said(entry.kind, entry.chain)}, its archive as ${said(manifest.kind, manifest.chain)}`);
    }
  }
  return found;
}

/** What a backup builds on, as a catalog entry or a manifest says it. */
interface Lineage {
  kind: string;
  parent: string | null;
  chain: string[];
}

/** Whether two chains name the same backups in the same order. */
export function sameChain(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** Whether two records say the same of what a backup builds on (kind, parent, chain). */
export function sameLineage(a: Lineage, b: Lineage): boolean {
  return a.kind === b.kind && a.parent === b.parent && sameChain(a.chain, b.chain);
}
