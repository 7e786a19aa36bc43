import { journalModeOf, readSqliteHeader } from '../sqlite/sqliteHeader';
import type { DatabaseRecord } from './backupManifest';

/**
 * How a rebuilt database's header disagrees with the manifest record it was rebuilt for, if it does.
 * Every record was written from a snapshot whose header SQLite had just made (backup reads its page
 * size there), so a disagreement is a manifest that does not describe its data: a restore would have
 * put back a file other than the one the manifest promised (or not a database at all). An empty file
 * (no pages) has no header to compare.
 */
export function rebuiltHeaderDisagreement(rebuilt: string, record: Pick<DatabaseRecord, 'size' | 'sqlite'>): string | undefined {
  if (record.size === 0) return undefined;
  const header = readSqliteHeader(rebuilt);
  const { pageSize, userVersion, journalMode } = record.sqlite;
  if (!header) return `first page is not a SQLite database header, though its manifest says it is a database of ${pageSize}-byte pages`;
  if (header.pageSize !== pageSize) return `page size is ${header.pageSize}, not ${pageSize} as its manifest says`;
  // Compared as 32-bit integers: earlier manifests kept a negative user_version unsigned.
  if (userVersion !== undefined && (userVersion | 0) !== header.userVersion) return `user_version is ${header.userVersion}, not ${userVersion | 0} as its manifest says`;
  const actualMode = journalModeOf(header);
  if (journalMode !== undefined && journalMode !== actualMode) return `journal mode is ${actualMode}, not ${journalMode} as its manifest says`;
  return undefined;
}
