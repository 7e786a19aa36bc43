import { ArchiveReader } from './archiveReader';
import type { CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { databaseRecordsOf, keptAsFoundField, type BackupManifest } from './backupManifest';

/**
 * Where the catalog's record of a backup disagrees with its archive's manifest on what it builds on
 * (kind, parent, chain): one line per backup. Prune decides what a kept backup needs from the record;
 * a record edited or merged by hand that dropped a chain had prune delete the full backup a kept
 * incremental needs. An archive that cannot be read is left out (its chain is unknown; verify says why).
 */
export async function recordsDisagreeingWithArchives(backups: BackupLayout, profileId: string, entries: CatalogEntry[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of entries) {
    const manifest = await manifestOf(backups, profileId, entry);
    if (manifest instanceof Error) continue;
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

/**
 * Where the catalog's record of a backup disagrees with its archive's manifest on what delete relies on:
 * when it was taken, and which databases it holds, left out and kept as found. Delete removes a profile
 * on the strength of its covering backup's record: one edited or merged by hand that gave the backup a
 * later time, or said it held a database it had left out, made delete remove data no backup held.
 * Undefined when they agree; otherwise what disagrees, or why the archive could not be read.
 */
export async function heldDisagreement(backups: BackupLayout, profileId: string, entry: CatalogEntry): Promise<string | undefined> {
  const manifest = await manifestOf(backups, profileId, entry);
  return manifest instanceof Error ? `its archive cannot be read (${manifest.message})` : recordAgainstManifest(entry, manifest);
}

/** The manifest of a listed backup's archive, or the error that kept it from being read. */
async function manifestOf(backups: BackupLayout, profileId: string, entry: CatalogEntry): Promise<BackupManifest | Error> {
  try {
    const archive = await ArchiveReader.open(backups.archiveFile(profileId, entry.id));
    archive.close();
    return archive.manifest;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function recordAgainstManifest(entry: CatalogEntry, manifest: BackupManifest): string | undefined {
  if (entry.createdAt !== manifest.createdAt) return `the catalog says it was taken at ${entry.createdAt}, its archive at ${manifest.createdAt}`;
  const lists: [string, readonly string[], readonly string[]][] = [
    ['holds', entry.databases, databaseRecordsOf(manifest).map((r) => r.logicalName)],
    ['left out', entry.leftOut ?? [], (manifest.leftOut ?? []).map((l) => l.logicalName)],
    ['kept as found', entry.keptAsFound ?? [], keptAsFoundField(manifest).keptAsFound ?? []],
  ];
  for (const [what, cataloged, archived] of lists) {
    if (!sameNames(cataloged, archived)) return `the catalog says it ${what} ${namesOrNone(cataloged)}, its archive ${namesOrNone(archived)}`;
  }
  return undefined;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const sorted = [...b].sort();
  return a.length === b.length && [...a].sort().every((name, i) => name === sorted[i]);
}

function namesOrNone(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}
