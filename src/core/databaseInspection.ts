import * as fs from 'node:fs';
import { EnvProfilesError } from './errors';
import { foreignKeySampleText, INTEGRITY_PROBLEMS_LISTED, type IntegrityReport } from './sqlite/databaseIntegrity';
import { BUSY_TIMEOUT_MS, damagedDatabaseDetail, DatabaseLockedError, type SqliteConnection, type SqliteEngine } from './sqlite/sqliteEngine';
import { cutShortProblem, journalModeOf, readSqliteHeader, walSize } from './sqlite/sqliteHeader';
import { notSqliteDatabaseText } from './sqlite/notSqliteFile';
import { counted } from './counted';
import { formatSize } from './diskSpace';

/** One check on one database file; `error` fails validation, `warning` and `info` do not. */
export interface DatabaseCheck {
  check: string;
  severity: 'ok' | 'info' | 'warning' | 'error';
  detail: string;
}

/** What the tables of a database look like: table name -> column names. */
export type SchemaShape = Record<string, string[]>;

/** Everything validation learns about one database. */
export interface DatabaseInspection {
  name: string;
  path: string;
  absolute: string;
  sizeBytes?: number;
  journalMode?: 'wal' | 'delete';
  walBytes?: number;
  pageSize?: number;
  pageCount?: number;
  userVersion?: number;
  schema?: SchemaShape;
  checks: DatabaseCheck[];
}

/** What to do about a damaged database, said after what is wrong with it. */
const RESTORE_DAMAGED = (name: string): string => `Restore it from a backup ("envprofiles restore <backup-id> --db ${name}"; the restore keeps the damaged file beside it)`;

/** Records one check's outcome on an inspection. */
function checkAdder(inspection: DatabaseInspection): (check: string, severity: DatabaseCheck['severity'], detail: string) => void {
  return (check, severity, detail) => {
    inspection.checks.push({ check, severity, detail });
  };
}

/** Quick checks: file, header, opens, journal mode, -wal, schema readable, required tables. */
export function inspectDatabase(engine: SqliteEngine, name: string, written: string, absolute: string, requiredTables: readonly string[]): DatabaseInspection {
  const result: DatabaseInspection = { name, path: written, absolute, checks: [] };
  const add = checkAdder(result);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch {
    add('exists', 'error', `${written} does not exist`);
    return result;
  }
  if (!stat.isFile()) {
    add('exists', 'error', `${written} is not a file`);
    return result;
  }
  result.sizeBytes = stat.size;
  // The exact size stays (it is what ls -l shows), in groups of three; the rounded one reads at a glance.
  const exact = `${stat.size.toLocaleString('en-US')} byte${stat.size === 1 ? '' : 's'}`;
  add('exists', 'ok', stat.size < 1024 ? exact : `${formatSize(stat.size)} (${exact})`);
  const header = stat.size >= 100 ? readSqliteHeader(absolute) : undefined;
  if (stat.size === 0) {
    // What SQLite makes when it opens a new file, and reads as a database with no tables: a backup
    // holds it as that (before, validate failed it while backup, clone and restore took it).
    add('header', 'warning', `${written} is empty (0 bytes): SQLite reads it as a database with no tables, and writes its header on the first change`);
  } else if (!header) {
    add('header', 'error', `${written} ${notSqliteDatabaseText(absolute)}`);
    return result;
  } else {
    result.pageSize = header.pageSize;
    result.pageCount = header.pageCount;
    result.userVersion = header.userVersion;
    result.journalMode = journalModeOf(header);
    result.walBytes = walSize(absolute);
    const cutShort = cutShortProblem(absolute, header, stat.size);
    if (cutShort) {
      add('header', 'error', `${written} ${cutShort}. ${RESTORE_DAMAGED(name)}`);
      return result;
    }
    add('header', 'ok', `page size ${header.pageSize}, ${header.pageCount} page${header.pageCount === 1 ? '' : 's'}, user_version ${header.userVersion}`);
    add('journal-mode', 'ok', result.journalMode === 'wal' ? 'WAL' : 'rollback journal');
    if (result.journalMode === 'wal') {
      add('wal-file', 'info', result.walBytes > 0 ? `-wal present (${result.walBytes} bytes not yet checkpointed)` : 'no pending -wal data');
    }
  }

  let connection: SqliteConnection;
  try {
    connection = engine.open(absolute, { readOnly: true });
  } catch (error) {
    if (error instanceof EnvProfilesError && error.code === 'HOT_JOURNAL') add('opens', 'error', `${written} has the journal of an unfinished transaction: a program stopped in the middle of writing, and validation does not write. ${error.hint ?? ''}`.trim());
    else if (error instanceof DatabaseLockedError) {
      add('opens', 'error', result.journalMode === 'wal'
        ? `${written} is locked: another program kept readers out for more than ${BUSY_TIMEOUT_MS / 1000} s, which in WAL mode only a connection in exclusive locking mode (PRAGMA locking_mode = EXCLUSIVE) does, for as long as it has the database open. Validate again once that program has stopped.`
        : `${written} is locked: another program kept readers out for more than ${BUSY_TIMEOUT_MS / 1000} s (a write transaction not yet committed). Validate again once it has committed.`);
    }
    else add('opens', 'error', `${written} cannot be opened: ${(error as Error).message}${damagedDatabaseDetail(error) ? `. ${RESTORE_DAMAGED(name)}` : ''}`);
    return result;
  }
  try {
    add('opens', 'ok', `opened with ${engine.name}`);
    try {
      result.schema = readSchemaShape(connection);
      add('schema', 'ok', counted(Object.keys(result.schema).length, 'table'));
    } catch (error) {
      add('schema', 'error', `the schema of ${written} cannot be read: ${(error as Error).message}${damagedDatabaseDetail(error) ? `. ${RESTORE_DAMAGED(name)}` : ''}`);
      return result;
    }
    const missing = requiredTables.filter((table) => !Object.hasOwn(result.schema ?? {}, table));
    if (requiredTables.length > 0) {
      if (missing.length > 0) add('required-tables', 'error', `${written} lacks required table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
      else add('required-tables', 'ok', requiredTables.length === 1 ? `its required table ${requiredTables[0]} is present` : `all ${requiredTables.length} required tables present`);
    }
  } finally {
    connection.close();
  }
  return result;
}

/**
 * The full checks of a database that passed the quick ones (its schema was read): integrity_check and
 * foreign_key_check, read-only, on the engine's checking thread (a gigabyte takes about a second, which
 * the extension host must not spend away from its event loop). Their results join `inspection.checks`.
 */
export async function runFullChecks(engine: SqliteEngine, inspection: DatabaseInspection): Promise<void> {
  if (!inspection.schema) return;
  const written = inspection.path;
  const add = checkAdder(inspection);
  let report: IntegrityReport;
  try {
    report = await engine.checkIntegrity(inspection.absolute, { readOnly: true });
  } catch (error) {
    add('integrity', 'error', `integrity_check of ${written} failed: ${(error as Error).message}`);
    return;
  }
  const { problems, foreignKeyViolations } = report;
  if (problems.length === 0) add('integrity', 'ok', 'integrity_check: ok');
  else add('integrity', 'error', `integrity_check of ${written} found ${problems.length >= INTEGRITY_PROBLEMS_LISTED ? `${problems.length} or more problems` : counted(problems.length, 'problem')}: ${problems.slice(0, 3).join('; ')}`);
  if (foreignKeyViolations === 0) add('foreign-keys', 'ok', 'foreign_key_check: no violations');
  else add('foreign-keys', 'error', `foreign_key_check of ${written} found ${counted(foreignKeyViolations, 'violation')}: ${foreignKeySampleText(report)}`);
}

/** Tables (not SQLite's own) and their columns. */
export function readSchemaShape(connection: SqliteConnection): SchemaShape {
  const shape: SchemaShape = {};
  const tables = connection.all("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  for (const row of tables) {
    const table = String(row.name);
    shape[table] = connection.all('SELECT name FROM pragma_table_info(?)', table).map((c) => String(c.name));
  }
  return shape;
}
