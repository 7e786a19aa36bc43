import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendAudit } from './auditLog';
import { journalPathProblem } from './journalPaths';
import { removeTemporaryFiles } from './atomicFile';
import { removeIfThere } from './pathKind';
import { DATABASE_FILE_SUFFIXES } from './sqlite/companionFiles';
import { inodeOf } from './sqlite/fileStamp';
import { removeJournal, listJournals, journalPath, type NewProfileJournal } from './operationJournal';
import { rollBackSwitch } from './switchRollback';
import { finishPrune, finishRestore, recoverBackup, rollBackRestore } from './backup/backupRecovery';
import { finishDelete, removeEmptiedFolders, putBackDeleted } from './profileDeletionJournal';
import type { WorkspaceContext } from './workspaceContext';
import { BackupLayout } from './backup/backupLayout';
import { profilesWithBackups } from './backup/backupCatalog';
import { removeStaleCatalogLock } from './backup/catalogLock';
import { workspaceConfigFor } from './workspaceConfig';
import { counted } from './counted';

/**
 * Finishes or rolls back every operation that a killed process left half done. The caller holds
 * the workspace lock. Returns one line per recovered operation.
 */
export function recoverInterruptedOperations(context: WorkspaceContext): string[] {
  const { layout } = context;
  const done: string[] = [];
  for (const { name, journal } of listJournals(layout)) {
    const foreignPath = journal && journalPathProblem(journal, context);
    if (!journal || foreignPath) {
      // Journals are written whole (temporary file, fsync, rename), so one that cannot be read was
      // damaged since (a failing disk, a hand edit): the operation it describes may have changed files.
      // Before, it was deleted without a word; it is kept aside now, and said. One that names paths its
      // operation never writes was not written here (it came with the workspace?): never acted on.
      const file = journalPath(layout, name);
      const aside = `${file}.unreadable-${context.now().toISOString().replace(/[:.]/g, '-')}`;
      fs.renameSync(file, aside);
      const why = foreignPath ? `names a path its ${name.split('-')[0]} never writes (${foreignPath}): it was not written by this tool in this workspace, or was edited since` : 'could not be read (damaged)';
      appendAudit(context, { event: 'recover', outcome: 'failed', detail: `journal ${name} ${foreignPath ? `names a path its operation never writes (${foreignPath})` : 'could not be read'}; kept as ${layout.relative(aside)}` });
      done.push(`the journal ${layout.relative(file)} ${why}, so the ${name.split('-')[0]} it describes was neither finished nor rolled back; it was kept as ${layout.relative(aside)}. Check that operation's files ("envprofiles validate ${name.includes('-') ? name.slice(name.indexOf('-') + 1) : '<profile>'}"; a restore's safety backup, listed by "envprofiles backups", holds the state before it), then delete that file`);
      continue;
    }
    if (journal.operation === 'switch') {
      if (journal.phase === 'committed') {
        removeJournal(layout, name);
        appendAudit(context, { event: 'recover', profile: journal.to, outcome: 'finished', detail: 'switch was interrupted after it committed' });
        done.push(`finished the interrupted switch to ${journal.to}`);
      } else {
        rollBackSwitch(context, journal);
        appendAudit(context, { event: 'rollback', profile: journal.to, outcome: 'rolled-back', detail: 'switch was interrupted; outputs restored' });
        done.push(`rolled back the interrupted switch to ${journal.to}`);
      }
    } else if (journal.operation === 'backup') {
      const outcome = recoverBackup(journal);
      removeJournal(layout, name);
      if (outcome === 'removed') {
        appendAudit(context, { event: 'rollback', profile: journal.profileId, outcome: 'rolled-back', detail: `backup ${journal.backupId} was interrupted; its partial archive was removed` });
        done.push(`removed the partial backup ${journal.backupId} of an interrupted backup`);
      } else if (outcome === 'kept-catalog-unreadable') {
        const catalog = path.join(path.dirname(journal.archiveFinal), 'catalog.json');
        appendAudit(context, { event: 'recover', profile: journal.profileId, outcome: 'finished', detail: `backup ${journal.backupId} was interrupted after its archive was written; the catalog could not be read, so the archive was kept` });
        done.push(`kept the archive ${journal.backupId}.zip of an interrupted backup of ${journal.profileId}, which is whole: its catalog ${layout.relative(catalog)} cannot be read to tell whether it lists it. Rebuild the catalog from the archives: envprofiles backups ${journal.profileId} --rebuild-catalog`);
      }
    } else if (journal.operation === 'restore') {
      if (journal.phase === 'committed') {
        finishRestore(journal);
        done.push(`finished the interrupted restore of ${journal.profileId} from ${journal.backupId}`);
      } else {
        rollBackRestore(journal);
        appendAudit(context, { event: 'rollback', profile: journal.profileId, outcome: 'rolled-back', detail: `restore from ${journal.backupId} was interrupted; the previous files were put back` });
        done.push(`rolled back the interrupted restore of ${journal.profileId} from ${journal.backupId}`);
      }
      removeJournal(layout, name);
    } else if (journal.operation === 'prune') {
      const deleted = finishPrune(journal);
      removeJournal(layout, name);
      if (deleted.length > 0) {
        appendAudit(context, { event: 'recover', profile: journal.profileId, outcome: 'finished', detail: `prune was interrupted; deleted ${deleted.join(', ')}` });
        done.push(`finished the interrupted prune of ${journal.profileId} (${counted(deleted.length, 'archive')} it had taken out of the catalog deleted)`);
      }
    } else if (journal.operation === 'delete') {
      if (journal.phase === 'committed') {
        const notRemoved = finishDelete(journal);
        removeJournal(layout, name);
        removeEmptiedFolders(layout, journal);
        appendAudit(context, { event: 'recover', profile: journal.profileId, outcome: 'finished', detail: `delete with its data was interrupted after it committed; its files were removed${notRemoved.length > 0 ? `, but for ${notRemoved.join('; ')}` : ''}` });
        done.push(`finished the interrupted delete of ${journal.profileId} and its data${notRemoved.length > 0 ? `, but not all of it: ${notRemoved.join('; ')}; remove what is left by hand` : ''}`);
      } else {
        putBackDeleted(journal);
        removeJournal(layout, name);
        appendAudit(context, { event: 'rollback', profile: journal.profileId, outcome: 'rolled-back', detail: 'delete with its data was interrupted before it committed; its files were put back' });
        done.push(`rolled back the interrupted delete of ${journal.profileId}: the profile and its data are as they were`);
      }
    } else {
      const what = journal.operation === 'clone' ? `clone of ${journal.source} into ${journal.target}` : journal.operation === 'initialise' ? `making of ${journal.target}'s missing databases` : `creation of ${journal.target}`;
      if (journal.phase === 'committed') {
        removeJournal(layout, name);
        done.push(`finished the interrupted ${what}`);
      } else {
        rollBackNewProfile(journal);
        removeJournal(layout, name);
        appendAudit(context, { event: 'rollback', profile: journal.target, outcome: 'rolled-back', detail: `${what} was interrupted; its files were removed` });
        done.push(`rolled back the interrupted ${what}`);
      }
    }
  }
  for (const dir of leftoverDirectories(context)) {
    removeTemporaryFiles(dir);
    removeStaleCatalogLock(dir);
  }
  for (const line of done) context.logger.warn(`Recovery: ${line}.`);
  return done;
}

/** Folders where an interrupted operation can leave temporary files: the store and every profile's backup folder. */
export function leftoverDirectories(context: WorkspaceContext): string[] {
  const { layout } = context;
  const dirs = [layout.storeDir, layout.profilesDir, layout.journalDir];
  try {
    const backups = new BackupLayout(layout, workspaceConfigFor(context));
    dirs.push(...profilesWithBackups(backups).map((id) => backups.profileDir(id)));
  } catch {
    // An invalid config.yaml is reported by the command itself.
  }
  return dirs;
}

/**
 * Removes what an unfinished clone or create made: the profile file, the new databases, their folders
 * if empty. Only what it made (see NewProfileJournal.madeFiles): a database or a profile file someone
 * made at one of its paths after it was interrupted stays (an interrupted clone's rollback removed the
 * database an application had since created where the clone's would have been).
 */
export function rollBackNewProfile(journal: NewProfileJournal): void {
  // initialise made databases for a profile that was there before it: its file is never removed.
  if (journal.operation !== 'initialise' && (journal.profileSha256 === undefined || sha256OfFile(journal.profileFile) === journal.profileSha256)) removeIfThere(journal.profileFile);
  const madeHere = (file: string): boolean => journal.madeFiles === undefined || journal.madeFiles.some((made) => made.path === file && inodeOf(file) === made.ino);
  for (const file of journal.createdFiles.filter(madeHere)) {
    for (const suffix of DATABASE_FILE_SUFFIXES) removeIfThere(`${file}${suffix}`);
  }
  for (const dir of journal.workDirectories) removeTemporaryFiles(dir);
  for (const dir of [...journal.createdDirectories].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // Not empty (the user put something there) or already gone: leave it.
    }
  }
}

/** The SHA-256 of a small file (a profile), undefined when it cannot be read. */
function sha256OfFile(file: string): string | undefined {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
