import type { CatalogEntry } from './backupCatalog';

/**
 * What a backup holds less than its profile's databases, in words, for the CLI's `backups` and the
 * VS Code tree alike: `without market_data; market_data kept as found` (left out, its damaged file kept
 * byte for byte), or `files only, no database` (a restore's safety backup when no database existed).
 * Undefined for a backup of every database.
 */
export function missingContents(entry: Pick<CatalogEntry, 'databases' | 'leftOut' | 'keptAsFound'>): string | undefined {
  if (entry.leftOut) return `without ${entry.leftOut.join(', ')}${entry.keptAsFound ? `; ${entry.keptAsFound.join(', ')} kept as found` : ''}`;
  return entry.databases.length === 0 ? 'files only, no database' : undefined;
}
