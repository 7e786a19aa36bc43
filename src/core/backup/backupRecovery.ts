import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTemporaryFiles } from '../atomicFile';
import { siblingPath } from '../fittingName';
import { removeIfThere } from '../pathKind';
import type { BackupJournal, PruneJournal, RestoreJournal } from '../operationJournal';
import { listedIds } from './backupCatalog';
import { isBackupId } from './backupLayout';

/** What recovery did with the archive of an interrupted backup. */
export type InterruptedBackupOutcome = 'listed' | 'removed' | 'kept-catalog-unreadable';

/**
 * Removes what an interrupted backup left: its temporary archive, its staging folder, and an archive the
 * catalog never listed. An archive is renamed into place only once it is whole, so when the catalog
 * cannot be read (to tell whether it lists it) the archive is kept: before, it was deleted, and with it
 * a backup the catalog may well list.
 */
export function recoverBackup(journal: BackupJournal): InterruptedBackupOutcome {
  fs.rmSync(journal.archiveTemp, { force: true });
  fs.rmSync(journal.stagingDir, { recursive: true, force: true });
  if (!fs.existsSync(journal.archiveFinal)) return 'removed';
  const listed = listedIds(path.join(path.dirname(journal.archiveFinal), 'catalog.json'));
  if (listed === 'unreadable') return 'kept-catalog-unreadable';
  // No catalog: the profile's first backup, killed before it listed itself.
  if (listed !== 'missing' && listed.has(journal.backupId)) return 'listed';
  fs.rmSync(journal.archiveFinal, { force: true });
  return 'removed';
}

/**
 * Finishes an interrupted prune: deletes each of its archives that the catalog no longer lists (the
 * prune had committed that far); one still listed is kept. With a catalog that cannot be read, nothing
 * is deleted. Returns the ids of the archives deleted.
 */
export function finishPrune(journal: PruneJournal): string[] {
  const listed = listedIds(journal.catalogFile);
  // Without a catalog to say which of its archives the prune took out, nothing is deleted.
  if (!(listed instanceof Set)) return [];
  const deleted: string[] = [];
  for (const { id, file } of journal.archives) {
    // Only an archive beside that catalog, named by its id, is ever deleted, whatever the journal says.
    const ours = isBackupId(id) && file === path.join(path.dirname(journal.catalogFile), `${id}.zip`);
    if (!ours || listed.has(id) || !fs.existsSync(file)) continue;
    try {
      fs.rmSync(file, { force: true });
      deleted.push(id);
    } catch {
      // Left in place: the next prune names it as an archive the catalog does not list.
    }
  }
  return deleted;
}

/** Puts every file a restore had moved aside back in place, and removes what it brought in. */
export function rollBackRestore(journal: RestoreJournal): void {
  // First put every kept file back, for all targets; only then clean up (the kept files are temporary files too).
  for (const swap of journal.swaps) {
    const keptMain = swap.keptOld.some((k) => k.from === swap.target);
    if (!keptMain && !fs.existsSync(swap.incoming) && fs.existsSync(swap.target)) {
      // The target did not exist before the restore: what is there now came from the backup.
      fs.rmSync(swap.target, { force: true });
    }
    // Renaming the kept file back replaces the incoming one in a single step.
    for (const kept of swap.keptOld) if (fs.existsSync(kept.path)) fs.renameSync(kept.path, kept.from);
  }
  for (const swap of journal.swaps) {
    removeIfThere(swap.incoming);
    removeTemporaryFiles(path.dirname(swap.target));
  }
  fs.rmSync(journal.stagingDir, { recursive: true, force: true });
}

/** A committed restore only has to drop the old files it kept aside (or keep those marked `keepAs` under that name). */
export function finishRestore(journal: RestoreJournal): void {
  // Every kept file first, for all targets: the sweep of temporary files below would take a kept one
  // that is still to be renamed.
  for (const swap of journal.swaps) {
    for (const kept of swap.keptOld) {
      // A folder that an earlier version moved aside from a database's path is the user's: never removed
      // (removing it failed, and every command after it), but put beside the target under a name of its own.
      if (isFolder(kept.path)) fs.renameSync(kept.path, kept.keepAs ?? siblingPath(kept.from, `.before-restore-folder-${Date.now().toString(36)}`));
      else if (!kept.keepAs) fs.rmSync(kept.path, { force: true });
      else if (fs.existsSync(kept.path)) fs.renameSync(kept.path, kept.keepAs);
    }
  }
  for (const swap of journal.swaps) {
    removeIfThere(swap.incoming);
    removeTemporaryFiles(path.dirname(swap.target));
  }
  fs.rmSync(journal.stagingDir, { recursive: true, force: true });
}

function isFolder(file: string): boolean {
  try {
    return fs.lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}
