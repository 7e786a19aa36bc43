import { newestFirst, readCatalog, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';

/**
 * The newest backup of `profileId` that holds any of `logicalNames`, and which of them it holds:
 * where a lost database's data is (`restore <id> --db <name>` puts it back). Undefined when none does,
 * or the catalog cannot be read (the commands that read it say why).
 */
export function newestBackupHolding(backups: BackupLayout, profileId: string, logicalNames: string[]): { entry: CatalogEntry; held: string[] } | undefined {
  let entries: CatalogEntry[];
  try {
    entries = readCatalog(backups, profileId);
  } catch {
    return undefined;
  }
  const entry = [...entries].sort(newestFirst).find((e) => logicalNames.some((logical) => e.databases.includes(logical)));
  return entry && { entry, held: logicalNames.filter((logical) => entry.databases.includes(logical)) };
}
