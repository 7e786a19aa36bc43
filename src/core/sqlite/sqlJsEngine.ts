import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { writeFileAtomic } from '../atomicFile';
import { realLocation } from '../pathSafety';
import { checkOpenDatabase, type IntegrityReport } from './databaseIntegrity';
import { EnvProfilesError } from '../errors';
import { sameStamp, stampOf } from './fileStamp';
import { hasHotJournal, parseSqliteHeader, readSqliteHeader, walSize } from './sqliteHeader';
import { BUSY_TIMEOUT_MS, DatabaseDamagedError, isDamageError, type OpenOptions, type SnapshotResult, type SqliteConnection, type SqliteEngine, type SqlParam, type SqlRow } from './sqliteEngine';

/** Finds sql-wasm.wasm: beside the bundle in dist/, or in node_modules during development. */
function locateWasm(): string {
  const candidates = [path.join(__dirname, 'sql-wasm.wasm'), path.join(__dirname, '..', 'dist', 'sql-wasm.wasm')];
  try {
    candidates.push(require.resolve('sql.js/dist/sql-wasm.wasm'));
  } catch {
    // Not installed beside us: the bundled copy must be there.
  }
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new EnvProfilesError('SQLITE_UNAVAILABLE', `sql-wasm.wasm was not found (looked in ${candidates.join(', ')}).`, { hint: 'Reinstall the extension or rebuild with "npm run build".' });
  return found;
}

export async function loadSqlJs(): Promise<SqlJsStatic> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const initSqlJs = require('sql.js') as (config: { wasmBinary: ArrayBuffer }) => Promise<SqlJsStatic>;
  const wasm = fs.readFileSync(locateWasm());
  return initSqlJs({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer });
}

/**
 * The fallback engine for hosts without `node:sqlite`. sql.js works on an in-memory image of the file
 * and knows nothing of `-wal` files or locks, so it refuses any database whose WAL still holds data
 * (reading it would show stale data) and any database with an unfinished rollback journal.
 */
export class SqlJsEngine implements SqliteEngine {
  readonly name = 'sql.js' as const;

  constructor(private readonly sql: SqlJsStatic) {}

  open(file: string, options: OpenOptions): SqliteConnection {
    let image: Uint8Array | undefined;
    if (fs.existsSync(file)) {
      const read = stableImage(file);
      image = typeof read === 'string' ? refuse(file, read) : read;
    } else if (!options.create) {
      throw Object.assign(new Error(`unable to open database file: ${file} does not exist`), { code: 'ENOENT' });
    }
    const walMode = image !== undefined && parseSqliteHeader(image)?.writeVersion === 2;
    const db: Database = new this.sql.Database(image ? asRollbackImage(image) : undefined);
    let dirty = false;
    return {
      all: (sql: string, ...params: SqlParam[]): SqlRow[] => {
        const statement = db.prepare(sql);
        try {
          statement.bind(params.map((p) => (typeof p === 'bigint' ? Number(p) : p)) as never);
          const rows: SqlRow[] = [];
          while (statement.step()) rows.push(statement.getAsObject() as SqlRow);
          if (!options.readOnly && db.getRowsModified() > 0) dirty = true;
          return rows;
        } finally {
          statement.free();
        }
      },
      exec: (sql: string): void => {
        if (options.readOnly && /^\s*(insert|update|delete|create|drop|alter|replace|vacuum)\b/i.test(sql)) {
          throw new Error('attempt to write a readonly database');
        }
        db.exec(sql);
        if (!options.readOnly) dirty = true;
      },
      close: (): void => {
        try {
          if (dirty && !options.readOnly) {
            const out = db.export();
            // Through a symbolic link to the file it leads to, as SQLite writes: the link stays a link.
            writeFileAtomic(realLocation(file), walMode ? withWriteVersion(out, 2) : out);
          }
        } finally {
          db.close();
        }
      },
    };
  }

  /** The image of a new, empty database. */
  private emptyImage(): Uint8Array {
    const db = new this.sql.Database();
    try {
      return db.export();
    } finally {
      db.close();
    }
  }

  /** On this thread: sql.js holds the whole database in this thread's memory anyway. */
  async checkIntegrity(file: string, options: { readOnly: boolean }): Promise<IntegrityReport> {
    const db = this.open(file, { readOnly: options.readOnly });
    try {
      return checkOpenDatabase(db, isDamageError);
    } finally {
      db.close();
    }
  }

  /** Reads the schema of a database image, as opening it does in SQLite: SQLite's error when it refuses the image. */
  private readSchema(image: Uint8Array): void {
    const db = new this.sql.Database(asRollbackImage(image));
    try {
      db.exec('SELECT count(*) FROM sqlite_schema');
    } finally {
      db.close();
    }
  }

  /** sql.js reads the file into memory and takes no locks, so it cannot tell. */
  isOpenElsewhere(): undefined {
    return undefined;
  }

  /**
   * A hot journal is refused (WAL_NOT_EMPTY): sql.js reads the file as bytes and cannot roll one back.
   * sql.js takes no locks, so a writer's transaction (its journal, or writes to the file) is waited
   * out like a busy timeout: the file is read again until one read saw it still, for up to BUSY_TIMEOUT_MS.
   */
  async snapshot(source: string, destination: string): Promise<SnapshotResult> {
    if (fs.existsSync(destination)) throw new Error(`${destination} already exists`);
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    let read = stableImage(source);
    while (typeof read === 'string' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      read = stableImage(source);
    }
    const copied = typeof read === 'string' ? refuse(source, read) : read;
    // An empty file is an empty database to SQLite: its snapshot is one, as node:sqlite's backup API makes it.
    const image = copied.length === 0 ? this.emptyImage() : copied;
    const header = parseSqliteHeader(image);
    // The bytes are copied as they are: a file cut short is found here (node:sqlite's backup API says "malformed").
    if (header && header.pageCount * header.pageSize > image.length) throw new DatabaseDamagedError(source, `the file ends within page ${Math.floor(image.length / header.pageSize) + 1} of the ${header.pageCount} its header counts`);
    // node:sqlite's backup API opens the source, so a header SQLite refuses fails there ("file is not a
    // database"); bytes copied as they are must be read by SQLite too (before, sql.js backed such a file up).
    if (copied.length > 0) this.readSchema(image);
    // Bytes after the last whole page are no part of the database (SQLite never reads them); the backup API leaves them out too.
    const pages = header ? Math.floor(image.length / header.pageSize) : 0;
    fs.writeFileSync(destination, header ? image.subarray(0, pages * header.pageSize) : image, { flag: 'wx' });
    return { pages, rolledBackJournal: false };
  }
}

function refuse(file: string, why: string): never {
  throw new EnvProfilesError('WAL_NOT_EMPTY', `${file} ${why}; the sql.js engine cannot read it safely.`, {
    file,
    hint: 'Stop the application (or let it checkpoint) and try again, or run under Node 22.13 or newer, which has node:sqlite.',
  });
}

/**
 * The file's bytes when they are one committed state, or why they may not be: sql.js would misread a
 * -wal file's data or a journal's transaction, and a file written to while it was read is a mix of two
 * states. Every write changes the file's times (so a read between two equal stats saw none, on a
 * kernel whose file clock is fine enough), and every commit in rollback-journal mode the change counter
 * in the header (page 1, read first; so a commit after it shows there, whatever the clock).
 */
function stableImage(file: string): Uint8Array | string {
  if (walSize(file) > 0) return 'has a non-empty -wal file (committed data not yet in the database file)';
  if (hasHotJournal(file)) return 'has an unfinished rollback journal';
  const before = stampOf(file);
  const image = fs.readFileSync(file);
  const after = stampOf(file);
  const changed = walSize(file) > 0 || hasHotJournal(file) || !sameStamp(before, after) || BigInt(image.length) !== after.size;
  return changed || readSqliteHeader(file)?.changeCounter !== parseSqliteHeader(image)?.changeCounter ? 'was written to while being read' : image;
}

/** sql.js has no WAL support; an image whose header says WAL is opened as a rollback-journal image. */
function asRollbackImage(image: Uint8Array): Uint8Array {
  const header = parseSqliteHeader(image);
  return header && header.writeVersion === 2 ? withWriteVersion(image, 1) : image;
}

function withWriteVersion(image: Uint8Array, version: number): Uint8Array {
  const copy = new Uint8Array(image);
  copy[18] = version;
  copy[19] = version;
  return copy;
}
