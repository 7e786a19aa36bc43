import * as fs from 'node:fs';
import { flushWhileGrowing } from '../earlyWriteback';
import { checkOnOwnThread, type IntegrityReport } from './databaseIntegrity';
import { stampOf } from './fileStamp';
import { isUnlocked, readOnlyLocation, stillUnopened } from './readOnlyMedia';
import { BUSY_TIMEOUT_MS, DatabaseLockedError, hotJournalError, type OpenOptions, type SnapshotResult, type SqliteConnection, type SqliteEngine, type SqlParam, type SqlRow } from './sqliteEngine';

type NodeSqlite = typeof import('node:sqlite');

/** Loads `node:sqlite` if this runtime has it (Node >= 22.13), without printing its experimental warning. */
export function loadNodeSqlite(): NodeSqlite | undefined {
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite/i.test(text)) return;
    (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require('node:sqlite') as NodeSqlite;
    return typeof module.backup === 'function' ? module : undefined;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = original;
  }
}

/** The primary engine: SQLite itself, as built into Node. Reads WAL files and locks like the application does. */
export class NodeSqliteEngine implements SqliteEngine {
  readonly name = 'node:sqlite' as const;

  constructor(private readonly sqlite: NodeSqlite) {}

  open(file: string, options: OpenOptions): SqliteConnection {
    if (!options.create && !fs.existsSync(file)) {
      throw Object.assign(new Error(`unable to open database file: ${file} does not exist`), { code: 'ENOENT' });
    }
    const db = new this.sqlite.DatabaseSync(options.readOnly ? readOnlyLocation(file) : file, { readOnly: options.readOnly, timeout: BUSY_TIMEOUT_MS });
    if (options.readOnly) {
      // The first read is where SQLite finds a hot journal; say so here, in words, instead of letting
      // the caller's first query fail with "attempt to write a readonly database".
      try {
        db.prepare('SELECT count(*) FROM sqlite_schema').get();
      } catch (error) {
        db.close();
        if (isHotJournalRefusal(error)) throw hotJournalError(file);
        throw isBusy(error) ? new DatabaseLockedError(file) : error;
      }
    }
    return {
      all: (sql: string, ...params: SqlParam[]): SqlRow[] => db.prepare(sql).all(...params) as SqlRow[],
      exec: (sql: string): void => db.exec(sql),
      close: (): void => db.close(),
    };
  }

  checkIntegrity(file: string, options: { readOnly: boolean }): Promise<IntegrityReport> {
    return checkOnOwnThread(options.readOnly ? readOnlyLocation(file) : file, options.readOnly, BUSY_TIMEOUT_MS);
  }

  isOpenElsewhere(file: string): boolean | undefined {
    if (!fs.existsSync(file)) return false;
    let db: InstanceType<NodeSqlite['DatabaseSync']> | undefined;
    try {
      db = new this.sqlite.DatabaseSync(file, { timeout: 0 });
      // In exclusive locking mode the transaction asks for the file's exclusive lock itself, which
      // any other connection's shared lock denies; without it, a WAL database lets readers stay.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('ROLLBACK');
      return false;
    } catch (error) {
      return isBusy(error) ? true : undefined;
    } finally {
      db?.close();
    }
  }

  async snapshot(source: string, destination: string): Promise<SnapshotResult> {
    if (fs.existsSync(destination)) throw new Error(`${destination} already exists`);
    try {
      return { pages: await this.copyInOneStep(source, destination), rolledBackJournal: false };
    } catch (error) {
      if (!isHotJournalRefusal(error)) throw error;
    }
    // A program stopped in the middle of a transaction and left its journal: the committed state is
    // the file with that journal rolled back, which SQLite does on the first open for writing (the
    // application would do the same on its next start). Then the copy is taken as usual.
    fs.rmSync(destination, { force: true });
    const recovering = new this.sqlite.DatabaseSync(source, { timeout: BUSY_TIMEOUT_MS });
    try {
      recovering.prepare('SELECT count(*) FROM sqlite_schema').get();
    } finally {
      recovering.close();
    }
    return { pages: await this.copyInOneStep(source, destination), rolledBackJournal: true };
  }

  private async copyInOneStep(source: string, destination: string): Promise<number> {
    const location = readOnlyLocation(source);
    if (isUnlocked(location)) return this.copyUnopened(source, location, destination);
    const db = new this.sqlite.DatabaseSync(location, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
    try {
      // One step: the whole copy happens under one read transaction, so it is one committed state.
      return await this.copyWithBackupApi(db, destination);
    } catch (error) {
      // The step waits for a writer's lock like any reader (the busy timeout), but when it gives up,
      // Node reports "not an error" (errcode 0): SQLite leaves that SQLITE_BUSY on neither connection.
      // So the lock itself is asked.
      if ((isBusy(error) || (error as { errcode?: unknown }).errcode === 0) && this.keepsReadersOut(source)) throw new DatabaseLockedError(source);
      throw error;
    } finally {
      db.close();
    }
  }

  /**
   * The copy of a WAL database no connection has open, read without locks (see readOnlyLocation). Its
   * owner may open and write it meanwhile: then the copy is dropped and taken again, the usual way.
   */
  private async copyUnopened(source: string, location: string, destination: string): Promise<number> {
    const before = stampOf(source);
    const db = new this.sqlite.DatabaseSync(location, { readOnly: true });
    let pages: number;
    try {
      pages = await this.copyWithBackupApi(db, destination);
    } finally {
      db.close();
    }
    if (stillUnopened(source, before)) return pages;
    fs.rmSync(destination, { force: true });
    if (isUnlocked(readOnlyLocation(source))) throw new Error(`${source} was written while it was copied; back it up again`);
    return this.copyInOneStep(source, destination);
  }

  /**
   * The backup API's copy of `db` into `destination`, in one step, flushed to the disk while it grows:
   * SQLite's fsync at the end of the step then no longer waits for the whole file (see flushWhileGrowing).
   */
  private async copyWithBackupApi(db: InstanceType<NodeSqlite['DatabaseSync']>, destination: string): Promise<number> {
    const flusher = flushWhileGrowing(destination);
    let pages: number;
    try {
      pages = await this.sqlite.backup(db, destination, { rate: 0x7fffffff });
    } catch (error) {
      await flusher.stop().catch(() => undefined);
      throw error;
    }
    await flusher.stop();
    return pages;
  }

  /** Whether another connection holds a lock that a reader cannot get past right now. */
  private keepsReadersOut(file: string): boolean {
    let db: InstanceType<NodeSqlite['DatabaseSync']> | undefined;
    try {
      db = new this.sqlite.DatabaseSync(readOnlyLocation(file), { readOnly: true, timeout: 0 });
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
      return false;
    } catch (error) {
      return isBusy(error);
    } finally {
      db?.close();
    }
  }
}

/** SQLITE_READONLY_ROLLBACK: a read-only connection found a hot journal, which only a writer may roll back. */
function isHotJournalRefusal(error: unknown): boolean {
  return (error as { errcode?: unknown }).errcode === 776;
}

/** SQLITE_BUSY or SQLITE_LOCKED (primary codes 5 and 6): another connection holds the lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' ? [5, 6].includes(code & 0xff) : /database is locked|database table is locked/i.test(String((error as Error)?.message));
}
