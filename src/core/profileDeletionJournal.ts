import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDirectory, temporaryPathFor } from './atomicFile';
import { heldUnderOtherNames, refuseIfHeld } from './databaseInUse';
import { EnvProfilesError, isEnvProfilesError, reworded } from './errors';
import { databaseWriteStampAt } from './sqlite/fileStamp';
import { removeJournal, writeJournal, type DeleteJournal } from './operationJournal';
import { pathKind } from './pathKind';
import { DATABASE_FILE_SUFFIXES } from './sqlite/companionFiles';
import { typedSystemError } from './systemErrors';
import type { WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';
import { isInside } from './pathSafety';

/** What a delete with its data removes: the profile file, and each database's files under its name. */
export interface FilesToDelete {
  profileId: string;
  profileFile: string;
  /**
   * `file`: the database file (where a symbolic link leads); `files`: all that goes, that file's first;
   * `stampWhenCovered`: its write stamp when its backup was judged to cover it.
   */
  databases: { logicalName: string; written: string; file: string; files: string[]; stampWhenCovered: string }[];
}

/**
 * The files of one database that a delete removes, its companions first: a -wal or -journal left beside
 * no database would be applied by SQLite to the next database given that name.
 */
export function databaseFilesToRemove(database: string): string[] {
  return [...DATABASE_FILE_SUFFIXES.filter((suffix) => suffix !== ''), ''].map((suffix) => `${database}${suffix}`);
}

/**
 * Removes a profile file and its databases as one transaction under a journal. Each file is first
 * renamed aside in its folder: what lets a file be renamed lets it be removed, so a file that cannot be
 * (marked immutable, in a folder whose sticky bit protects it) stops the delete with every file put
 * back. Before, the profile file went first and the error came at a database, leaving the rest of the
 * data with no profile to delete it again. Once all are aside the journal's commit decides; from there
 * an interruption is finished by the next command. Returns the files that could not be removed after
 * the commit (each with why), which are left under their temporary names, and any folder found where a
 * database file should be.
 */
export async function deleteProfileFiles(context: WorkspaceContext, files: FilesToDelete): Promise<{ notRemoved: string[]; emptiedFolders: string[] }> {
  const { layout } = context;
  const step = (name: string): void => context.onStep?.(name);
  const groups = [{ label: 'profile', files: [files.profileFile] }, ...files.databases.map((db) => ({ label: db.logicalName, files: db.files }))];
  const aside = groups.map((group) => group.files.map((from) => ({ from, path: temporaryPathFor(from) })));
  // A folder where a database file should be is none of the profile's data: left where it is, and said.
  const folders = aside.flat().filter((pair) => pathKind(pair.from) === 'folder');
  for (const [index, pairs] of aside.entries()) aside[index] = pairs.filter((pair) => !folders.includes(pair));
  const journal: DeleteJournal = { operation: 'delete', phase: 'prepared', startedAt: context.now().toISOString(), profileId: files.profileId, profileFile: files.profileFile, aside: aside.flat() };
  const name = `delete-${files.profileId}`;
  writeJournal(layout, name, journal);
  step('journal-written');
  try {
    for (const [index, group] of groups.entries()) {
      for (const pair of aside[index]) moveAside(pair.from, pair.path);
      step(`aside:${group.label}`);
    }
    await refuseIfTouchedAside(files, aside.slice(1)); // aside[0] is the profile file's
    writeJournal(layout, name, { ...journal, phase: 'committed' });
  } catch (error) {
    putBackDeleted(journal);
    removeJournal(layout, name);
    if (isEnvProfilesError(error) && error.code === 'DATABASE_IN_USE') throw reworded(error, `${error.message} Every file was put back: the profile and all its data are as they were.`);
    throw stoppedError(files.profileId, error);
  }
  step('committed');
  const notRemoved = finishDelete(journal);
  removeJournal(layout, name);
  const emptied = removeEmptiedFolders(layout, journal);
  return { notRemoved: [...folders.map((pair) => `${pair.from} is a folder, not a database file: it was left where it is`), ...notRemoved], emptiedFolders: emptied };
}

/**
 * The folders of a finished delete's files that are empty now (the profile's own data folder, data/dev/),
 * removed, as the data they held was: only inside the workspace, never the workspace itself or its
 * .envprofiles/, and never a folder with anything left in it (rmdir). Returns those removed.
 */
export function removeEmptiedFolders(layout: WorkspaceLayout, journal: DeleteJournal): string[] {
  const removed: string[] = [];
  for (const folder of [...new Set(journal.aside.map((pair) => path.dirname(pair.from)))]) {
    if (folder === layout.root || !isInside(layout.root, folder) || isInside(layout.storeDir, folder)) continue;
    try {
      fs.rmdirSync(folder);
      removed.push(folder);
    } catch {
      // Not empty (another profile's databases, the user's files), or already gone: it stays as it is.
    }
  }
  if (removed.length > 0) fsyncDirectory(path.dirname(removed[0]));
  return removed;
}

/**
 * Before the commit. A program that opened a database after the check that none was open has its
 * file, now aside, and what it writes would go with it, unnoticed: still open in another program
 * (its open files, Linux; looked at again for up to 1.5 s), or written since its covering backup was
 * judged, a database refuses the delete, and every file is put back.
 */
async function refuseIfTouchedAside(files: FilesToDelete, asideOfDatabases: { from: string; path: string }[][]): Promise<void> {
  const operation = `deleting ${files.profileId} with its data`;
  refuseIfHeld(await heldUnderOtherNames(files.databases, asideOfDatabases.map((pairs) => pairs.map((pair) => pair.path))), operation);
  for (const [i, database] of files.databases.entries()) {
    // One not moved aside (a folder where the database should be, which stays) is looked at where it is.
    const asideOf = (file: string) => asideOfDatabases[i].find((pair) => pair.from === file)?.path ?? file;
    if (databaseWriteStampAt(asideOf(database.file), asideOf(`${database.file}-wal`)) === database.stampWhenCovered) continue;
    throw new EnvProfilesError('DATABASE_IN_USE', `${database.logicalName} (${database.written}) was written while the delete ran, after its backup was found to cover it, so deleting it would lose what was written: the delete was refused.`, {
      kind: 'refused',
      file: database.written,
      hint: 'Stop the application (or whatever wrote to it), back the profile up again and verify that backup, then delete.',
    });
  }
}

/** Renames `from` (when it is there) to `aside` in the same folder, durably. */
function moveAside(from: string, aside: string): void {
  try {
    fs.renameSync(from, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !fs.lstatSync(from, { throwIfNoEntry: false })) return;
    throw error;
  }
  fsyncDirectory(path.dirname(from));
}

/** Puts back every file an uncommitted delete moved aside (one whose name was taken since stays aside, as is). */
export function putBackDeleted(journal: DeleteJournal): void {
  for (const { from, path: aside } of [...journal.aside].reverse()) {
    // lstat, not exists: a symbolic link moved aside is put back even when it leads nowhere.
    if (fs.lstatSync(aside, { throwIfNoEntry: false }) && !fs.lstatSync(from, { throwIfNoEntry: false })) {
      fs.renameSync(aside, from);
      fsyncDirectory(path.dirname(from));
    }
  }
}

/** Removes every file a committed delete moved aside; returns those that could not be, each with why. */
export function finishDelete(journal: DeleteJournal): string[] {
  const notRemoved: string[] = [];
  for (const { from, path: aside } of journal.aside) {
    try {
      fs.rmSync(aside, { force: true });
    } catch (error) {
      notRemoved.push(`${from}, moved aside as ${aside}, could not be removed (${(error as Error).message})`);
    }
  }
  return notRemoved;
}

function stoppedError(profileId: string, error: unknown): EnvProfilesError {
  const typed = typedSystemError(error);
  const file = (error as { path?: unknown })?.path;
  const what = typeof file === 'string' ? `${file} could not be moved aside to be deleted` : 'a file could not be moved aside to be deleted';
  return new EnvProfilesError(typed?.code ?? 'IO_ERROR', `Deleting ${profileId} with its data stopped: ${what} (${typed?.message.replace(/\.$/, '') ?? (error as Error).message}). Every file was put back: the profile and all its data are as they were.`, {
    file: typeof file === 'string' ? file : undefined,
    cause: error,
    hint: typed?.hint ?? 'Fix what the error names, then delete again.',
  });
}
