import * as fs from 'node:fs';
import { EnvProfilesError } from './errors';
import { nearestExisting, writeRefusal } from './folderProbe';
import { typedSystemError } from './systemErrors';
import { makeFolders } from './makeFolders';

/** The file that stands where `dir` or one of its parents should be a folder, if one does. */
export function fileInTheWay(dir: string): string | undefined {
  const existing = nearestExisting(dir);
  try {
    return fs.statSync(existing).isDirectory() ? undefined : existing;
  } catch {
    return undefined;
  }
}

function notWritableError(lead: string, refusal: { existing: string; readOnly: boolean; error: unknown }, file: string, tail = '', hint?: string): EnvProfilesError {
  const { existing, readOnly, error } = refusal;
  return new EnvProfilesError('PERMISSION_DENIED', `${lead}: ${existing} ${readOnly ? 'is on a read-only file system' : 'is not writable'}.${tail}`, {
    file,
    cause: error,
    hint: hint ?? (readOnly ? 'Use a folder on a writable disk, then run it again.' : `Check the owner and permissions of ${existing}, then run it again.`),
  });
}

/**
 * Refuses (PERMISSION_DENIED, before anything is written) when `operation` could not write into one of
 * `folders`; `hint` replaces the general one when the caller knows a better way.
 */
export function requireWritableFolders(operation: string, folders: string[], hint?: string): void {
  for (const folder of new Set(folders)) {
    const refusal = writeRefusal(folder);
    if (refusal) throw notWritableError(`${operation} needs to write to ${folder}`, refusal, folder, ' Nothing was changed.', hint);
  }
}

/**
 * Creates `dir` and its parents, and says why it could not, of the folder that refused it (a file in the
 * way, a read-only or unwritable parent), not as a bare "no such file or directory", which would send
 * the user looking for the wrong problem. `purpose` says what the folder is for ("the backups of dev").
 */
export function createFolder(dir: string, purpose: string): void {
  try {
    makeFolders(dir);
  } catch (error) {
    const file = fileInTheWay(dir);
    if (file) throw new EnvProfilesError('IO_ERROR', `Cannot create ${dir} (${purpose}): ${file} is a file, not a folder.`, { file: dir, cause: error, hint: 'Choose another folder, or move that file away, then run it again.' });
    const refusal = writeRefusal(dir);
    if (refusal) throw notWritableError(`Cannot create ${dir} (${purpose})`, { ...refusal, error }, dir);
    throw typedSystemError(error) ?? error;
  }
}
