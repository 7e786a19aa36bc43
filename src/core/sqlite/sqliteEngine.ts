import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import type { IntegrityReport } from './databaseIntegrity';

/** A row as both engines return it: column name -> value. */
export type SqlRow = Record<string, unknown>;
export type SqlParam = string | number | bigint | null | Uint8Array;

/** An open database. Both adapters behave the same for everything the core uses. */
export interface SqliteConnection {
  all(sql: string, ...params: SqlParam[]): SqlRow[];
  exec(sql: string): void;
  close(): void;
}

export interface OpenOptions {
  /**
   * Open without the right to write (validation never modifies the application's files). Such an open
   * of a database with a hot journal throws HOT_JOURNAL: reading it needs the journal rolled back.
   */
  readOnly: boolean;
  /** Create the file when it does not exist (only with readOnly false). */
  create?: boolean;
}

export type EngineName = 'node:sqlite' | 'sql.js';

export interface SnapshotResult {
  /** Pages copied. */
  pages: number;
  /** The source had a hot journal, which was rolled back before the copy (the source file changed). */
  rolledBackJournal: boolean;
}

/** The SQLite engine interface: `node:sqlite` when the runtime has it, sql.js otherwise. */
export interface SqliteEngine {
  readonly name: EngineName;
  open(file: string, options: OpenOptions): SqliteConnection;
  /**
   * Copies `source` into `destination` (which must not exist) as one committed state, even while
   * another process writes to the source. A hot journal (a program stopped in the middle of a
   * transaction) is first rolled back, as SQLite does on the next open for writing; an engine that
   * cannot do that refuses instead. A lock that keeps readers out for longer than BUSY_TIMEOUT_MS
   * fails it with DatabaseLockedError.
   */
  snapshot(source: string, destination: string): Promise<SnapshotResult>;
  /**
   * integrity_check and foreign_key_check of a database file, without holding up the event loop where
   * the engine can run them on another thread. `readOnly` for the user's own databases (validation);
   * a rebuilt copy no one else uses is opened for writing, so that closing it leaves no -wal behind.
   */
  checkIntegrity(file: string, options: { readOnly: boolean }): Promise<IntegrityReport>;
  /**
   * Whether another connection has `file` open, as SQLite's own locks tell: true when an exclusive
   * lock cannot be had at once. That catches every connection to a WAL database (each holds a shared
   * lock for as long as it is open) and a rollback-journal database only while a transaction is open.
   * False when the lock was had or the file does not exist; undefined where the engine cannot tell
   * (sql.js takes no locks) or the probe failed for another reason (a file that is not a database).
   * Opening the file for writing may checkpoint its WAL on close, as any connection of the
   * application does: use it only on a database that is about to be replaced or deleted.
   */
  isOpenElsewhere(file: string): boolean | undefined;
}

/**
 * A read of `file` found the journal of an unfinished transaction (a "hot journal"): a program stopped
 * in the middle of writing. Reading needs it rolled back first, which needs write access.
 */
export function hotJournalError(file: string): EnvProfilesError {
  return new EnvProfilesError('HOT_JOURNAL', `${file} has the journal of an unfinished transaction (${path.basename(file)}-journal): a program stopped in the middle of writing to it. It must be rolled back before the database can be read, and a read-only open does not write.`, {
    file,
    hint: 'Back the profile up ("envprofiles backup <profile>"): a backup rolls the transaction back first, as SQLite does on the next open for writing (the application does the same when it starts). Nothing committed is lost.',
  });
}

/** How long a connection waits for a lock held by the application before giving up. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * `file` could not be read: another connection kept a lock that shuts readers out (in rollback-journal
 * mode, a writer's transaction from its first write until it commits) for longer than BUSY_TIMEOUT_MS.
 * Callers turn it into a typed error that names what holds the lock (`lockedDatabaseError`).
 */
/**
 * A snapshot failed because the database file itself is damaged: SQLite's SQLITE_CORRUPT or
 * SQLITE_NOTADB (primary codes 11 and 26, as node:sqlite gives them), a schema format SQLite does not
 * know ("unsupported file format"), or, for sql.js, which copies the
 * bytes, a file cut short of the pages its header counts. `detail` says which, for the message.
 */
export function damagedDatabaseDetail(error: unknown): string | undefined {
  if (error instanceof DatabaseDamagedError) return error.detail;
  return isDamageError(error) ? `SQLite: ${String((error as Error)?.message ?? error)}` : undefined;
}

/**
 * Whether SQLite refused `error`'s read because the file is damaged (see damagedDatabaseDetail).
 * Self-contained, with no names from outside it: the checking thread runs its source text.
 */
export function isDamageError(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  const message = String((error as Error | null)?.message ?? error);
  // "unsupported file format" (SQLITE_ERROR): a schema format number in the header that is not 1 to 4.
  return (typeof code === 'number' ? [11, 26].includes(code & 0xff) : /malformed|file is not a database/i.test(message)) || /unsupported file format/i.test(message);
}

export class DatabaseDamagedError extends Error {
  constructor(readonly file: string, readonly detail: string) {
    super(`${file} is damaged: ${detail}`);
    this.name = 'DatabaseDamagedError';
  }
}

export class DatabaseLockedError extends Error {
  constructor(readonly file: string) {
    super(`${file} stayed locked by another connection for more than ${BUSY_TIMEOUT_MS / 1000} s`);
    this.name = 'DatabaseLockedError';
  }
}
