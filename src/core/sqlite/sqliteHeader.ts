import * as fs from 'node:fs';

import { notSqliteDatabaseText } from './notSqliteFile';
import { counted } from '../counted';
const MAGIC = 'SQLite format 3\0';

/** What the first 100 bytes of a database file say, read without opening it through SQLite. */
export interface SqliteHeader {
  pageSize: number;
  /** 1 = rollback journal, 2 = WAL. */
  writeVersion: number;
  readVersion: number;
  pageCount: number;
  userVersion: number;
  /** The file change counter: every commit in rollback-journal mode increments it. */
  changeCounter: number;
  /** Whether `pageCount` is the database's size: set by SQLite 3.7.0 and later (its "version-valid-for" equals the change counter). */
  pageCountValid: boolean;
}

/** The journal mode the header says the file is in: WAL when its write version is 2, a rollback journal otherwise. */
export function journalModeOf(header: SqliteHeader): 'wal' | 'delete' {
  return header.writeVersion === 2 ? 'wal' : 'delete';
}

/** Reads the header; returns undefined when the file is not a SQLite 3 database. */
export function readSqliteHeader(file: string): SqliteHeader | undefined {
  const buffer = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, buffer, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  return parseSqliteHeader(buffer.subarray(0, read));
}

export function parseSqliteHeader(bytes: Uint8Array): SqliteHeader | undefined {
  if (bytes.length < 100) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buffer.toString('latin1', 0, 16) !== MAGIC) return undefined;
  const rawPageSize = buffer.readUInt16BE(16);
  // A power of two from 512 to 32768, or 1 for 65536: SQLite calls any other "not a database" (the sql.js
  // engine, which copies the bytes, met 0 as a page size of 0 and failed as "a bug").
  if (rawPageSize !== 1 && (rawPageSize < 512 || (rawPageSize & (rawPageSize - 1)) !== 0)) return undefined;
  return {
    pageSize: rawPageSize === 1 ? 65536 : rawPageSize,
    writeVersion: buffer[18],
    readVersion: buffer[19],
    pageCount: buffer.readUInt32BE(28),
    // Signed, as PRAGMA user_version reads and sets it (-1 was shown as 4294967295).
    userVersion: buffer.readInt32BE(60),
    changeCounter: buffer.readUInt32BE(24),
    pageCountValid: buffer.readUInt32BE(28) > 0 && buffer.readUInt32BE(92) === buffer.readUInt32BE(24),
  };
}

/**
 * Why an existing `file` cannot be a SQLite database (a folder, or a file whose header is wrong), or
 * undefined. An empty file is an empty database, as SQLite treats it.
 */
export function databaseFileProblem(file: string): string | undefined {
  const stat = fs.statSync(file);
  if (!stat.isFile()) return 'is not a file';
  if (stat.size === 0) return undefined;
  const header = readSqliteHeader(file);
  if (!header) return notSqliteDatabaseText(file);
  return cutShortProblem(file, header, stat.size);
}

/**
 * Why the file is damaged, if it is shorter than the pages its header counts (which SQLite itself calls
 * corrupt): cut short by a copy that stopped or a failing disk. Only while no write is under way (no
 * -wal data, no journal), when a checkpoint or a commit cannot leave it shorter for a moment; and only
 * when the count is one SQLite takes as the size (3.7.0 and later set it so).
 */
export function cutShortProblem(file: string, header: SqliteHeader, size: number): string | undefined {
  // The comparison first: the -wal and journal are looked at only for a file that is short (almost never).
  if (!header.pageCountValid || header.pageCount * header.pageSize <= size) return undefined;
  const settled = walSize(file) === 0 && !fs.existsSync(`${file}-journal`);
  if (!settled) return undefined;
  return `is cut short: ${size} bytes, shorter than the ${counted(header.pageCount, 'page')} of ${header.pageSize} bytes its header counts (a copy that stopped, a failing disk)`;
}

/** Whether `file` is there and is a SQLite 3 database by its header (no error for anything else). */
export function isSqliteDatabaseFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile() && readSqliteHeader(file) !== undefined;
  } catch {
    return false;
  }
}

/** Size of the `-wal` file beside `file`, or 0 when there is none. */
export function walSize(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

/** True when a rollback journal beside `file` holds an unfinished transaction. */
export function hasHotJournal(file: string): boolean {
  try {
    return fs.statSync(`${file}-journal`).size > 0;
  } catch {
    return false;
  }
}
