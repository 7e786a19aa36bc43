import * as fs from 'node:fs';
import { writeFileAtomic } from '../atomicFile';
import { EnvProfilesError } from '../errors';
import type { BackupKind } from './backupManifest';
import type { BackupLayout } from './backupLayout';

export interface VerificationRecord {
  at: string;
  ok: boolean;
  detail: string;
  /** SHA-256 of each database file as rebuilt by the verification (an incremental's manifest has none). */
  databaseSha256?: Record<string, string>;
}

/** One backup as the catalog knows it. */
export interface CatalogEntry {
  id: string;
  profileId: string;
  file: string;
  kind: BackupKind;
  parent: string | null;
  chain: string[];
  createdAt: string;
  reason: string;
  sizeBytes: number;
  /** SHA-256 of the archive file itself. */
  sha256: string;
  databases: string[];
  verified: VerificationRecord | null;
}

interface CatalogFile {
  version: 1;
  profileId: string;
  backups: CatalogEntry[];
}

/**
 * Catalog order: creation time, then id. Both are ASCII, so code units order them, the same in every
 * locale; localeCompare would also load ICU's collator on first use, ~7 ms of every backup command.
 */
export function oldestFirst(a: CatalogEntry, b: CatalogEntry): number {
  return compareCodeUnits(a.createdAt, b.createdAt) || compareCodeUnits(a.id, b.id);
}

export function newestFirst(a: CatalogEntry, b: CatalogEntry): number {
  return oldestFirst(b, a);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The catalog of one profile's backups, oldest first. Missing means empty. */
export function readCatalog(backups: BackupLayout, profileId: string): CatalogEntry[] {
  const file = backups.catalogFile(profileId);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as CatalogFile;
    if (!Array.isArray(parsed.backups)) throw new Error('no backups list');
    return parsed.backups;
  } catch (error) {
    throw new EnvProfilesError('CATALOG_MISMATCH', `The backup catalog ${file} cannot be read: ${(error as Error).message}.`, { file, hint: `Rebuild it from the archives: envprofiles backups ${profileId} --rebuild-catalog (the unreadable file is kept aside).` });
  }
}

/** Replaces the catalog atomically. */
export function writeCatalog(backups: BackupLayout, profileId: string, entries: CatalogEntry[]): void {
  const sorted = [...entries].sort(oldestFirst);
  const content: CatalogFile = { version: 1, profileId, backups: sorted };
  writeFileAtomic(backups.catalogFile(profileId), `${JSON.stringify(content, null, 2)}\n`);
}

/** Applies `change` to the catalog under one read-modify-write. */
export function updateCatalog(backups: BackupLayout, profileId: string, change: (entries: CatalogEntry[]) => CatalogEntry[]): CatalogEntry[] {
  const next = change(readCatalog(backups, profileId));
  writeCatalog(backups, profileId, next);
  return next;
}

/** Every profile that has a backup folder. */
export function profilesWithBackups(backups: BackupLayout): string[] {
  try {
    return fs.readdirSync(backups.root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  } catch {
    return [];
  }
}
