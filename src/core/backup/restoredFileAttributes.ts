import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporaryPathFor } from '../atomicFile';
import { fileAttributesOf, giveAttributes, permissionsOf, takeOwnerOfFolder } from '../filePermissions';
import type { KeptFile } from '../operationJournal';
import { DATABASE_FILE_SUFFIXES } from '../sqlite/companionFiles';

// The permissions and owner a restored file takes, and the companions (-wal, -shm, -journal) set aside
// with the file it replaces.

/**
 * The permissions a restored file is created with: those of the file it replaces, else those it had
 * when it was backed up (never more than a new file gets: the umask applies), else a new file's. Its
 * owner can always read it, and write it when it is a database (the application writes it): a record
 * without those bits (a damaged or hand-made manifest; 0 made a database nobody but root could open)
 * would give a restore nobody can use.
 */
export function restoredPermissions(target: string, record: { mode?: number; role?: string }): number {
  if (fs.existsSync(target)) return permissionsOf(target);
  const ownerNeeds = record.role === 'database' ? 0o600 : 0o400;
  return ((record.mode ?? 0o666) | ownerNeeds) & 0o666;
}

/**
 * A restored file ends with exactly the owner and permissions of the file it replaces (the umask may
 * have narrowed them); with none there, it takes the owner of its folder (see takeOwnerOfFolder).
 */
export function matchPermissions(target: string, incoming: string): void {
  const replaced = fileAttributesOf(target);
  if (replaced) giveAttributes(incoming, replaced);
  else takeOwnerOfFolder(incoming, path.dirname(target));
}

/**
 * The target and its companions (-wal, -shm, -journal) that exist now, each with the temporary name it
 * is set aside under; with `keepAs`, each is kept under that name (plus its suffix) after the commit.
 */
export function presentFilesOf(target: string, keepAs?: string): KeptFile[] {
  return DATABASE_FILE_SUFFIXES.filter((suffix) => fs.existsSync(`${target}${suffix}`)).map((suffix) => ({
    path: temporaryPathFor(`${target}${suffix}`),
    from: `${target}${suffix}`,
    ...(keepAs ? { keepAs: `${keepAs}${suffix}` } : {}),
  }));
}
