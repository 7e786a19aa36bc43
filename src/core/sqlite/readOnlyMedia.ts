import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvProfilesError } from '../errors';
import { sameStamp, stampOf, type FileStamp } from './fileStamp';
import { readSqliteHeader, walSize } from './sqliteHeader';

/** The URI parameter that has SQLite read a file without locks and without a -shm. */
const IMMUTABLE = '?immutable=1';

/**
 * What SQLite should open to read `file`. A WAL database needs its -shm file, which SQLite creates on
 * the first open (and removes when the last connection closes). Where this user cannot create it (a
 * read-only file system, a snapshot mount, or a folder another user owns, e.g. a service's database
 * while the service is stopped), the open fails with "unable to open database file" or "attempt to
 * write a readonly database". With no -shm there, no connection has the database open, so it is then
 * opened as immutable (SQLite takes no locks and needs no -shm). A -wal that holds data is part of the
 * database but cannot be read without its -shm: that is refused in words, never read as stale data.
 * In a folder its owner may still write to, a copy taken that way must be checked (`stillUnopened`).
 */
export function readOnlyLocation(file: string): string {
  if (fs.existsSync(`${file}-shm`) || readSqliteHeader(file)?.writeVersion !== 2) return file;
  let readOnlyDisk: boolean;
  try {
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    return file;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') return file;
    readOnlyDisk = code === 'EROFS';
  }
  if (walSize(file) > 0) {
    const where = readOnlyDisk ? 'is on a read-only disk' : 'is in a folder this user cannot write to';
    throw new EnvProfilesError('WAL_NOT_EMPTY', `${file} ${where} and its -wal holds committed data, but there is no -shm beside it (the program that wrote it stopped without closing it): SQLite cannot read the -wal there, and reading the file alone would give stale data.`, {
      file,
      hint: readOnlyDisk ? 'Mount the disk read-write, or copy the database with its -wal to a writable folder, then run it again.' : 'Let the program that owns it open and close it once (that checkpoints the -wal), or run this as that user, then run it again.',
    });
  }
  return `${pathToFileURL(file).href}${IMMUTABLE}`;
}

/** Whether `location` (from readOnlyLocation) reads the file without SQLite's locks. */
export function isUnlocked(location: string): boolean {
  return location.endsWith(IMMUTABLE);
}

/**
 * After a read without locks: true when no program opened the database meanwhile (no -shm appeared)
 * and the file was not written (the same stamp), so what was read is the one state it had.
 */
export function stillUnopened(file: string, before: FileStamp): boolean {
  return !fs.existsSync(`${file}-shm`) && walSize(file) === 0 && sameStamp(before, stampOf(file));
}
