import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from '../errors';

/** A folder an operation writes its own files in, and how a message names it. */
export interface OwnFolder {
  folder: string;
  what: string;
}

/**
 * A file of the operation's own (an archive under its temporary name, a snapshot, a rebuilt database)
 * that was gone when the operation came back to it: its folder was removed, moved or unmounted
 * meanwhile (a clean-up script, a disk pulled out). That is said in words that name the folder and what
 * became of the operation (`outcome`), not as a bug; undefined for any other error. `folders` go
 * outermost first. `workingOn`: the file of its own the operation was at, for errors that name none.
 */
export function vanishedFolderError(failed: string, outcome: string, folders: OwnFolder[], error: unknown, workingOn?: string): EnvProfilesError | undefined {
  const { code, path: errorPath } = (error ?? {}) as { code?: unknown; path?: unknown };
  const missingFile = code === 'ENOENT' && typeof errorPath === 'string';
  // An error that names no missing file (SQLite's "unable to open database file", from the thread that
  // checks a rebuilt database) still tells of a vanished folder when the file worked on is in one that is gone.
  const file = missingFile ? errorPath : workingOn;
  if (file === undefined) return undefined;
  const holding = folders.filter(({ folder }) => file.startsWith(folder + path.sep));
  // The outermost one that is gone (the folders come outermost first): a removed backups folder took its staging folder with it.
  const gone = holding.find(({ folder }) => !fs.existsSync(folder)) ?? (missingFile ? holding[0] : undefined);
  if (!gone) return undefined;
  return new EnvProfilesError('IO_ERROR', `${failed}: ${file} was gone when it came back to it, so ${gone.what} (${gone.folder}) was removed, moved or unmounted ${outcome}.`, {
    file: gone.folder,
    cause: error,
    hint: `Make sure that no other program or script removes ${gone.what} meanwhile, and that its disk stays mounted, then run it again.`,
  });
}
