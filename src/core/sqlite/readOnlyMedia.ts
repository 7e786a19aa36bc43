import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvProfilesError } from '../errors';
import { readSqliteHeader, walSize } from './sqliteHeader';

/**
 * What SQLite should open to read `file`. A WAL database needs its -shm file, which SQLite creates on
 * the first open; on a read-only file system (a snapshot mount, a read-only volume) it cannot, and the
 * open fails with "unable to open database file". Nothing can write to such a disk, so the file is then
 * opened as immutable (SQLite takes no locks and needs no -shm). A -wal that holds data is part of the
 * database but cannot be read without its -shm: that is refused in words, never read as stale data.
 */
export function readOnlyLocation(file: string): string {
  if (fs.existsSync(`${file}-shm`) || readSqliteHeader(file)?.writeVersion !== 2) return file;
  try {
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    return file;
  } catch (error) {
    // Only a read-only file system guarantees that nobody writes; a folder this user may not write
    // to may still be written by its owner.
    if ((error as NodeJS.ErrnoException).code !== 'EROFS') return file;
  }
  if (walSize(file) > 0) {
    throw new EnvProfilesError('WAL_NOT_EMPTY', `${file} is on a read-only disk and its -wal holds committed data, but there is no -shm beside it: SQLite cannot read the -wal there, and reading the file alone would give stale data.`, {
      file,
      hint: 'Mount the disk read-write, or copy the database with its -wal to a writable folder, then run it again.',
    });
  }
  return `${pathToFileURL(file).href}?immutable=1`;
}
