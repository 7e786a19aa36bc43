import * as path from 'node:path';
import { heldUnderOtherNames, refuseIfHeld, type DatabaseInPlace } from '../databaseInUse';
import { EnvProfilesError, reworded } from '../errors';
import type { RestoreJournal } from '../operationJournal';
import { databaseWriteStamp, databaseWriteStampAt, fileWriteStamp } from '../sqlite/fileStamp';
import type { WorkspaceLayout } from '../workspaceLayout';
import { vanishedFolderError } from './vanishedFolder';

// A restore's refusals and failures once begun: a file written meanwhile, a folder that vanished, and a
// failure said with its rollback and the safety backup kept.

/**
 * A restore's own failure after its safety backup (a damaged entry found while rebuilding, a database
 * opened meanwhile, a cancel): the same error, also saying that every file is as it was and which
 * backup holds the state from before, so that nobody has to wonder whether their data changed.
 */
export function rolledBackError(error: EnvProfilesError, safetyBackup: string | undefined): EnvProfilesError {
  const kept = safetyBackup ? ` The safety backup ${safetyBackup} taken before it was kept.` : '';
  // A cancel already says that nothing was changed.
  const rolledBack = error.code === 'CANCELLED' ? '' : ' The restore was rolled back: every file is as it was.';
  if (!kept && !rolledBack) return error;
  return reworded(error, `${error.message}${rolledBack}${kept}`);
}

/**
 * A folder the restore writes in that was removed, moved or unmounted while it ran (a clean-up script, a
 * disk pulled out), said with what became of the files; undefined for any other error. The rollback
 * cannot reach into a folder that went: what was in it went with it.
 */
export function vanishedDuringRestore(backupId: string, journal: RestoreJournal, swapped: number, safetyBackup: string | undefined, error: unknown): EnvProfilesError | undefined {
  // vanishedFolderError ends the sentence.
  const kept = safetyBackup ? `. The safety backup ${safetyBackup} taken before it was kept` : '';
  const failed = `Restoring ${backupId} could not be finished`;
  const temporaryNames = '.<name>.envprofiles-tmp-*';
  const targetFolders = [...new Set(journal.swaps.map((swap) => path.dirname(swap.target)))]
    .sort((a, b) => a.length - b.length)
    .map((folder) => ({ folder, what: 'a folder the restore writes into' }));
  const inTargets = swapped === 0
    ? `while the restore was writing into it. No file was replaced: the files that were in that folder went with it as they were, beside the restore's unfinished copies (${temporaryNames}, which can be deleted); every other file is as it was${kept}`
    : `while the restore was replacing files. It was rolled back in every folder still there; in the one that went, files may already be the backup's, with the ones they replaced set aside under temporary names (${temporaryNames}): put the folder back and restore again${kept}`;
  return vanishedFolderError(failed, inTargets, targetFolders, error)
    ?? vanishedFolderError(failed, `while the restore was rebuilding the databases in it. The restore was rolled back: every file is as it was${kept}`, [{ folder: journal.stagingDir, what: 'its staging folder' }], error);
}

/**
 * Refuses the swaps when a database to be replaced was written since `stamps` were taken (before the
 * safety backup); `stampNow` stamps it as it is now (by default under its own name).
 */
export function refuseIfWrittenSince(stamps: Map<string, string>, replaced: DatabaseInPlace[], stampNow: (file: string) => string = databaseWriteStamp): void {
  const file = firstChangedSince(stamps, stampNow);
  const written = replaced.find((database) => database.file === file);
  if (!written) return;
  throw new EnvProfilesError('DATABASE_IN_USE', `${written.logicalName} (${written.written}) was written while the restore ran, after its safety backup was begun, so replacing it would lose what was written: the restore was refused.`, {
    kind: 'refused',
    file: written.written,
    hint: 'Stop the application (or whatever wrote to it), then restore again: the new safety backup holds what was written.',
  });
}

/** The same for the configuration files (`files:`) the restore replaces: an edit made meanwhile is not in the safety backup. */
export function refuseIfFilesChangedSince(stamps: Map<string, string | undefined>, layout: WorkspaceLayout, stampNow: (file: string) => string | undefined = fileWriteStamp): void {
  const changed = firstChangedSince(stamps, stampNow);
  if (!changed) return;
  throw new EnvProfilesError('FILE_CHANGED', `${layout.relative(changed)} (in files:) was changed while the restore ran, after its safety backup was begun, so replacing it would lose that change: the restore was refused.`, {
    kind: 'refused',
    file: layout.relative(changed),
    hint: 'Restore again when nothing is editing it: the new safety backup holds the change.',
  });
}

/**
 * After the swaps, before the commit. The check right before the swaps cannot see a program that opens
 * a database a moment later: it has the old file open, now under the temporary name it was set aside
 * as, and what it writes there would go with that file at the commit, unnoticed. So the files set
 * aside are looked at again: one still open in another program (its open files; Linux), or written
 * since the safety backup began (a program that opened, wrote and closed it meanwhile), refuses the
 * restore as before the swaps, and the rollback then puts the old files back under their names, with
 * what was written to them, under the connection that has them open.
 */
export async function refuseIfSetAsideTouched(journal: RestoreJournal, replaced: DatabaseInPlace[], stamps: { databases: Map<string, string>; files: Map<string, string | undefined> }, layout: WorkspaceLayout, operation: string): Promise<void> {
  const swapOf = (target: string) => journal.swaps.find((swap) => swap.target === target);
  const setAside = (target: string, suffix = ''): string | undefined => swapOf(target)?.keptOld.find((kept) => kept.from === `${target}${suffix}`)?.path;
  const keptOf = replaced.map((database) => swapOf(database.file)?.keptOld.map((kept) => kept.path) ?? []);
  refuseIfHeld(await heldUnderOtherNames(replaced, keptOf), operation);
  refuseIfWrittenSince(stamps.databases, replaced, (target) => databaseWriteStampAt(setAside(target), setAside(target, '-wal')));
  refuseIfFilesChangedSince(stamps.files, layout, (target) => fileWriteStamp(setAside(target)));
}

/** The first file whose stamp (taken again with `stampNow`) differs from the one in `stamps`. */
function firstChangedSince<Stamp>(stamps: Map<string, Stamp>, stampNow: (file: string) => Stamp): string | undefined {
  return [...stamps].find(([file, stamp]) => stampNow(file) !== stamp)?.[0];
}
