import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { appendAudit } from '../auditLog';
import { commitTemporaryFile, fsyncDirectory, temporaryPathFor, writeChunksDurably, writeFileAtomic } from '../atomicFile';
import { checkBusyGuard } from '../busyGuard';
import { refuseIfDatabasesInUse, type DatabaseInPlace } from '../databaseInUse';
import { isOutOfSpace, outOfSpaceError, requireFreeSpace } from '../diskSpace';
import { EnvProfilesError, isEnvProfilesError, reworded } from '../errors';
import { RefusalChecks } from '../dryRunRefusals';
import { nonFileInWords, pathKind } from '../pathKind';
import { typedSystemError } from '../systemErrors';
import { requireWritableFolders } from '../folderAccess';
import { siblingPath } from '../fittingName';
import { fileAttributesOf, giveAttributes, makeFolderAsItsParent, permissionsOf, takeOwnerOfFolder } from '../filePermissions';
import { withNewProfileJournal } from '../newProfileJournal';
import { requireNewProfileId } from '../newProfileId';
import { removeJournal, writeJournal, type KeptFile, type RestoreJournal } from '../operationJournal';
import { databasePathsIn } from '../newDatabasePaths';
import { checkProfilePath, realLocation } from '../pathSafety';
import { isProtected, type Profile } from '../profileModel';
import { salvagedProfile } from '../profileSalvage';
import { invalidProfileError, readProfileFile, writeProfileDocument } from '../profileStore';
import { profileIdProblem } from '../safeNames';
import { workspaceConfigFor, type WorkspaceConfig } from '../workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import type { ArchiveReader } from './archiveReader';
import { closeChain, locateBackup, openChain, restorableInstead } from './backupChain';
import { backUpProfile, type LeftOutDatabase } from './backupCreation';
import { finishRestore, rollBackRestore } from './backupRecovery';
import { BackupLayout } from './backupLayout';
import { elsewhereText, originFrom, sharingWorkspaceFinder } from './backupOrigin';
import { databaseRecordsOf, leftOutReason, rawCopiesOf, type BackupManifest, type DatabaseRecord, type FileRecord } from './backupManifest';
import { backupsOfEarlierProfile, earlierBackupsNoteFor } from './earlierProfile';
import { checkUnchangedFiles, fileChunks, fileContent, profileCopyDisagreement, profileFromBackup, profileRecord } from './backedUpFiles';
import { databasesOfOtherProfiles, filesOfOtherProfiles } from '../pathOwners';
import { rebuildDatabase, rebuiltSize } from './databaseReconstruction';
import { restoredProfileFile } from './restoredProfileFile';
import { watchStep } from '../progressMeter';
import { databaseFileProblem } from '../sqlite/sqliteHeader';
import { databaseWriteStamp, fileWriteStamp } from '../sqlite/fileStamp';
import type { WorkspaceLayout } from '../workspaceLayout';
import { requireRoomToVerify, verifySafetyBackup } from './safetyBackupCheck';
import { vanishedFolderError } from './vanishedFolder';
import { shellArgument } from '../shellArgument';
import { makeFolders } from '../makeFolders';
import { namedFew } from '../namedFew';
import { DATABASE_FILE_SUFFIXES } from '../sqlite/companionFiles';

export interface RestoreRequest {
  /** A backup id or the path of an archive. */
  reference: string;
  /** Restore into a new profile with this id instead of over the original. */
  asNew?: string;
  /** Restore only this logical database. */
  database?: string;
  /** The id typed to confirm restoring over a protected profile. */
  confirmedId?: string;
  /** Check and plan only: say what the restore would write and replace, and change nothing. */
  dryRun?: boolean;
  cwd?: string;
}

export interface RestoreResult {
  backupId: string;
  profileId: string;
  databases: string[];
  files: string[];
  safetyBackup?: string;
  /** Whether the safety backup passed verification (false: it holds the replaced data exactly, but that data was already damaged; a note says so). */
  safetyBackupVerified?: boolean;
  notes: string[];
  durationMs: number;
  /** Set by a dry run, which changed nothing: what the restore would write (each replaced, or made new). */
  plan?: RestorePlan;
}

/** What a restore wrote, for its one-line summary: its databases, else its files (a backup that holds no database: its databases were all missing or damaged). */
export function restoredWhat(result: Pick<RestoreResult, 'databases' | 'files'>): string {
  if (result.databases.length > 0) return result.databases.join(', ');
  // The notes say why the backup holds no database (and whether the profile file was put back).
  return result.files.length > 0 ? `${result.files.length === 1 ? 'the file' : 'the files'} ${namedFew(result.files, 5)} (no database: the backup holds none)` : 'no database (the backup holds none)';
}

export interface RestorePlan {
  /** Every file the restore would write: a database (its logical name), a `files:` entry, the profile file. */
  writes: { name: string; path: string; exists: boolean }[];
  /** Whether a safety backup of the current state would be taken first. */
  safetyBackupFirst: boolean;
  /** Set when the restore needs `--confirm <this id>` (a protected profile). */
  confirmationNeeded?: string;
  /** What would refuse the restore if it ran now (each as its error says it), e.g. the application is live. */
  wouldRefuse: string[];
  /**
   * The backup has not passed a verification (never verified, or an archive the catalog does not list),
   * and a dry run reads only its manifest: the plan says nothing of its data. (One that failed has a note.)
   */
  notVerified: boolean;
  /** Whether the archive is the one the catalog lists: only then can a verification of it be on record (`verify` records none for a copy). */
  listed: boolean;
}

/** Whether notes tell what a restore did, or (a dry run) what it would do. */
type Outcome = 'done' | 'planned';

function told(outcome: Outcome, done: string, planned: string): string {
  return outcome === 'done' ? done : planned;
}

const LONGEST_COMPANION_BYTES = Math.max(...DATABASE_FILE_SUFFIXES.map((suffix) => suffix.length));

/** Restores a backup over its profile (or as a new profile, or one database), as a journaled swap. */
export async function restoreBackup(context: WorkspaceContext, request: RestoreRequest): Promise<RestoreResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `restore ${request.reference}`, () => runRestore(context, request));
}

async function runRestore(context: WorkspaceContext, request: RestoreRequest): Promise<RestoreResult> {
  const started = performance.now();
  const { layout } = context;
  const config = workspaceConfigFor(context);
  const backups = new BackupLayout(layout, config);
  // Empty is not left out: restoring over the profile (or every database) is not what an empty id asks for.
  if (request.asNew === '') throw new EnvProfilesError('USAGE', 'The id of the new profile to restore as (--as-new) is empty; nothing was changed.', { kind: 'usage', hint: 'Give the new profile\'s id, or leave --as-new out to restore over the backup\'s own profile.' });
  if (request.database === '') throw new EnvProfilesError('USAGE', 'The name of the database to restore (--db) is empty; nothing was changed.', { kind: 'usage', hint: 'Give the database\'s name (as in the profile\'s databases:), or leave --db out to restore them all.' });
  if (request.asNew && request.database) throw new EnvProfilesError('USAGE', '--as-new restores a whole profile; it cannot be combined with --db.', { kind: 'usage' });
  const located = locateBackup(backups, request.reference, request.cwd ?? process.cwd());
  // Opening the chain checks every archive for hostile content before anything is written.
  const chain = await openChain(located.archive, backups).catch((error: unknown) => {
    const entry = located.catalogEntry;
    if (!isEnvProfilesError(error) || (error.code !== 'VERIFY_FAILED' && error.code !== 'ARCHIVE_INVALID') || !entry) throw error;
    // A listed backup whose chain lost an archive, or one that is no longer readable (emptied, cut
    // short, overwritten): name the backups that can be restored instead.
    const instead = restorableInstead(backups, entry.profileId, entry.id);
    const putBack = error.code === 'ARCHIVE_INVALID' ? 'an intact copy of that archive' : 'the missing archive';
    throw new EnvProfilesError(error.code, `${error.message} Nothing was changed.`, {
      kind: error.kind, file: error.file, field: error.field,
      hint: instead.length > 0 ? `Backups of ${entry.profileId} whose archives are all there: ${instead.join(', ')}. Restore one of them, or put ${putBack} back.` : `No other backup of ${entry.profileId} can be restored; put ${putBack} back if you have it.`,
    });
  });
  try {
    const last = chain[chain.length - 1];
    const manifest = last.manifest;
    // Every place a file of the backup would be written is judged before anything is written, also where
    // this restore does not write it (--as-new, --db): a manifest that points outside is hostile.
    // (The profile's own YAML is in .envprofiles; it is written to the profile file of the backup's id, not to its recorded path.)
    const fileTargetOf = new Map(manifest.files.filter((f) => f.role !== 'database').map((f) => [f.originalPath, judgeRestoreTarget(context, config, chain, f.originalPath, 'a file', f.role === 'profile')]));
    for (const judged of fileTargetOf.values()) if (judged instanceof EnvProfilesError && judged.code === 'ARCHIVE_HOSTILE') throw judged;
    // Found only when the file is read, such a lie would fail the restore after its safety backup.
    checkUnchangedFiles(chain);
    // A dry run goes on past what would refuse the restore now (the application is live, a database is
    // open, no room), to show the whole plan, and says what would refuse it.
    const refusals = new RefusalChecks(request.dryRun === true);
    const { wouldRefuse } = refusals;
    const refusalCheck = (check: () => void): void => void refusals.check(check);
    refusalCheck(() => checkBusyGuard(context, config, 'restoring'));
    const records = databaseRecordsOf(manifest);
    if (request.database && !records.some((r) => r.logicalName === request.database)) {
      const why = leftOutReason(manifest, request.database);
      throw new EnvProfilesError('BACKUP_NOT_FOUND', `Backup ${manifest.backupId} has no database "${request.database}"${why ? ` (it was left out of it: ${why})` : ''}.`, { kind: 'usage', hint: `It has: ${records.map((r) => r.logicalName).join(', ')}.` });
    }
    // A backup that failed its last verification is restored all the same (that may be what the user
    // wants: the data as it was then), but the result says so.
    const failedVerification = located.catalogEntry?.verified?.ok === false ? `this backup failed its last verification (${located.catalogEntry.verified.at}): ${shortened(located.catalogEntry.verified.detail, 240)}` : undefined;
    // A dry run reads the manifest, not the data: "would write" must not be taken for "verified".
    const notVerified = !failedVerification && located.catalogEntry?.verified?.ok !== true;
    const listed = located.catalogEntry !== undefined;
    if (request.asNew) {
      const restored = await restoreAsNew(context, config, chain, request.asNew, started, request.dryRun === true, { notVerified, listed });
      restored.plan?.wouldRefuse.unshift(...wouldRefuse);
      if (failedVerification) restored.notes.push(failedVerification);
      return restored;
    }

    const current = readProfileFile(layout, config, manifest.profileId);
    const copy = await profileFromBackup(context, config, chain, manifest.profileId);
    const copyDisagreement = copy && profileCopyDisagreement(manifest, copy);
    // A copy that does not say where the backup's databases were is not put back, nor trusted for where they go.
    const backedUpProfile = copyDisagreement ? undefined : copy;
    const unusableCopy = copyDisagreement ? `does not agree with the backup's manifest (${copyDisagreement})` : 'does not validate';
    if (fs.existsSync(current.file) && !current.profile) {
      // The backup's copy of the profile file may be what the user wants back: say how.
      const file = layout.relative(current.file);
      const moveAside = `move the broken one aside (mv ${shellArgument(file)} ${shellArgument(`${file}.broken`)}) and restore again`;
      throw invalidProfileError(current.issues, backedUpProfile
        ? `Fix ${file} and restore again; nothing was changed. Or, to have this backup's copy of the profile file back as well, ${moveAside}: a restore puts the profile file back when there is none.`
        : `Fix ${file} and restore again; nothing was changed. (This backup's copy of it ${unusableCopy} either: to restore the databases without fixing it, ${moveAside}; they go back where the backup found them.)`);
    }
    // With neither a profile file nor a readable copy of it in the backup (an emergency backup of a broken
    // one), what that copy still says (its type, protection) and the manifest (which database is where)
    // stand in: the safety backup holds every database all the same, and a protected one is still asked for.
    const profile = current.profile ?? backedUpProfile ?? (profileRecord(chain) ? await profileFromManifest(context, config, chain) : undefined);
    const safetyProfile = profile ?? manifestOnlyProfile(manifest);
    const confirmationNeeded = isProtected(safetyProfile) && request.confirmedId !== safetyProfile.id ? safetyProfile : undefined;
    // A dry run changes nothing, so it needs no confirmation: it says that the restore will.
    if (confirmationNeeded && !request.dryRun) {
      const profile = confirmationNeeded;
      throw new EnvProfilesError('CONFIRMATION_REQUIRED', `Restoring over "${profile.id}" (${profile.type === 'PRODUCTION' ? 'PRODUCTION' : 'protected'}) replaces its data; it needs confirmation.`, { kind: 'refused', hint: `Repeat with --confirm ${profile.id}.` });
    }
    const outcome: Outcome = request.dryRun ? 'planned' : 'done';
    const { targets, fileRecords, fileTargets, replaced, leftAlone } = planReplacements(context, config, chain, request.database, current, fileTargetOf, outcome);
    const operation = `restoring ${manifest.backupId} over it`;
    refusalCheck(() => refuseIfDatabasesInUse(context.engine, replaced, operation));
    // Before the safety backup: a restore that cannot fit would only leave that backup behind.
    refusalCheck(() => requireRoomFor(`Restoring ${manifest.backupId}`, chain, targets.map(({ record, target }) => ({ logicalName: record.logicalName, target })), fileRecords.map((f, i) => ({ size: f.size, target: fileTargets[i] }))));
    const safety = safetyBackupPlan(context, safetyProfile, replaced, fileTargets.filter((target) => fs.existsSync(target)), outcome);
    // Backups on a read-only disk can be restored, but not over a profile here: its safety backup goes there.
    if (safety.takesBackup) {
      refusalCheck(() => requireWritableFolders(`Restoring ${manifest.backupId} takes a safety backup of the current state of ${safetyProfile.id} first, which`, [backups.profileDir(manifest.profileId)],
        `To restore from backups that cannot be written to, set backups.directory in .envprofiles/config.yaml to a writable folder and restore by the archive's path (envprofiles restore ${shellArgument(located.archive)}); or restore it as a new profile (--as-new <id>), which replaces nothing.`));
    }
    refusalCheck(() => requireRoomToVerify(`Restoring ${manifest.backupId}`, backups.profileDir(manifest.profileId), Object.values(safety.present).map((written) => layout.resolve(written))));
    // The safety backup holds every database file this restore replaces (also when the profile file is
    // gone and the backup's own profile says where they go).
    const profileFileContent = current.profile || !profileRecord(chain) ? undefined : await fileContent(chain, profileRecord(chain));
    const restoresProfileFile = !current.profile && backedUpProfile !== undefined;
    const outcomeOf = (safetyBackup: string | undefined): string[] => outcomeNotes(context, backups, chain, records, current, request.database, restoresProfileFile, unusableCopy, safetyBackup, failedVerification, outcome);
    if (request.dryRun) {
      const writes = [
        ...targets.map(({ record, target }) => ({ name: record.logicalName, path: layout.relative(target), exists: fs.existsSync(target) })),
        ...fileRecords.map((f, i) => ({ name: f.originalPath, path: layout.relative(fileTargets[i]), exists: fs.existsSync(fileTargets[i]) })),
        ...(restoresProfileFile ? [{ name: 'profile file', path: layout.relative(current.file), exists: false }] : []),
      ];
      const plan: RestorePlan = { writes, safetyBackupFirst: safety.takesBackup, wouldRefuse, notVerified, listed, ...(confirmationNeeded ? { confirmationNeeded: confirmationNeeded.id } : {}) };
      const notes = [...safety.notes, ...leftAlone, ...outcomeOf(undefined), ...sharedPathNotes(context, manifest.profileId, replaced, fileRecords, fileTargets, outcome, undefined)];
      return { backupId: manifest.backupId, profileId: manifest.profileId, databases: targets.map((t) => t.record.logicalName), files: fileRecords.map((f) => f.originalPath), notes, durationMs: performance.now() - started, plan };
    }
    // Taken before the safety backup: a write after this point may be missing from it (see below).
    const writeStamps = new Map(replaced.map((database) => [database.file, databaseWriteStamp(database.file)]));
    const fileStamps = new Map(fileTargets.map((target) => [target, fileWriteStamp(target)]));
    const { safetyBackup, safetyBackupVerified, keptAs, notes } = await backUpWhatIsThere(context, config, safetyProfile, safety, profileFileContent);
    notes.push(...leftAlone);
    const stagingDir = backups.scratchDir(manifest.profileId, 'restore');
    const journal: RestoreJournal = {
      operation: 'restore',
      phase: 'prepared',
      startedAt: context.now().toISOString(),
      profileId: manifest.profileId,
      backupId: manifest.backupId,
      stagingDir,
      swaps: [...targets.map((t) => t.target), ...fileTargets].map((target) => ({
        target,
        incoming: temporaryPathFor(target),
        keptOld: presentFilesOf(target, keptAs.get(target)),
      })),
    };
    const journalName = `restore-${manifest.profileId}`;
    // Only a folder missing now is made: one that goes while the restore runs (removed, moved, unmounted) is not made again, empty, where it was.
    const foldersToMake = new Set(journal.swaps.map((swap) => path.dirname(swap.incoming)).filter((folder) => !fs.existsSync(folder)));
    const makeIfMissingAtStart = (folder: string): void => {
      if (foldersToMake.has(folder)) makeFolderAsItsParent(folder);
    };
    let swapped = 0;
    writeJournal(layout, journalName, journal);
    try {
      context.onStep?.('journal-written');
      // Extract and check everything beside its target before touching any existing file.
      for (const [i, { record }] of targets.entries()) {
        throwIfCancelled(context);
        const incoming = journal.swaps[i].incoming;
        makeIfMissingAtStart(path.dirname(incoming));
        // The rebuilt file is checked against the whole-file SHA-256 of the backed-up snapshot (an
        // incremental: page by page against its page index): it is that committed state, byte for byte. (integrity_check and foreign_key_check are what `verify` adds.)
        makeFolders(stagingDir, 0o700);
        await rebuildDatabase(chain, record.logicalName, incoming, stagingDir, { wholeSha256: false, durable: true, watch: watchStep(context, `Rebuilding ${record.logicalName}`), createMode: restoredPermissions(journal.swaps[i].target, record) });
        matchPermissions(journal.swaps[i].target, incoming);
        context.onStep?.(`rebuilt:${record.logicalName}`);
      }
      for (const [i, file] of fileRecords.entries()) {
        const swap = journal.swaps[targets.length + i];
        makeIfMissingAtStart(path.dirname(swap.incoming));
        await writeChunksDurably(swap.incoming, fileChunks(chain, file), restoredPermissions(swap.target, file));
        matchPermissions(swap.target, swap.incoming);
      }
      // Last point where cancelling is honoured: the swaps below run to the end (or roll back).
      throwIfCancelled(context);
      // A program that opened a database, wrote and closed it while the safety backup and the rebuild
      // ran is no longer seen as open below, but what it wrote may not be in the safety backup.
      refuseIfWrittenSince(writeStamps, replaced);
      refuseIfFilesChangedSince(fileStamps, layout);
      // Again, right before the swaps: the application may have been started during the rebuild.
      refuseIfDatabasesInUse(context.engine, replaced, operation);
      // The check (and the application, if it ran meanwhile) may have checkpointed a -wal away or left
      // one: what is set aside is what exists now, so no old -wal ever stays beside a restored file.
      for (const swap of journal.swaps) swap.keptOld = presentFilesOf(swap.target, keptAs.get(swap.target));
      writeJournal(layout, journalName, journal);
      for (const swap of journal.swaps) {
        for (const kept of swap.keptOld) fs.renameSync(kept.from, kept.path);
        fs.renameSync(swap.incoming, swap.target);
        swapped += 1;
        context.onStep?.(`swapped:${layout.relative(swap.target)}`);
      }
      // The renames reach the disk before the journal says committed (after which the old files go).
      for (const dir of new Set(journal.swaps.map((swap) => path.dirname(swap.target)))) fsyncDirectory(dir);
      writeJournal(layout, journalName, { ...journal, phase: 'committed' });
    } catch (error) {
      rollBackRestore(journal);
      removeJournal(layout, journalName);
      appendAudit(context, { event: 'restore', profile: manifest.profileId, outcome: 'rolled-back', detail: (error as Error).message });
      // Also a rebuild's own refusal (DISK_FULL): by now the safety backup exists and a rollback ran.
      if (isOutOfSpace(error) || (isEnvProfilesError(error) && error.code === 'DISK_FULL')) {
        const kept = safetyBackup ? ` The safety backup ${safetyBackup} was kept.` : '';
        throw outOfSpaceError(`Restoring ${manifest.backupId}`, [...new Set(journal.swaps.map((swap) => path.dirname(swap.target))), stagingDir], error, `It was rolled back: every file is as it was.${kept}`);
      }
      const vanished = vanishedDuringRestore(manifest.backupId, journal, swapped, safetyBackup, error);
      if (vanished) throw vanished;
      // A refused permission or a read-only disk is put in words too (as it would be anyway), with the rollback said.
      const typed = isEnvProfilesError(error) ? error : typedSystemError(error);
      throw typed ? rolledBackError(typed, safetyBackup) : error;
    }
    context.onStep?.('committed');
    finishRestore(journal);
    removeJournal(layout, journalName);
    if (restoresProfileFile) writeFileAtomic(layout.profileFile(manifest.profileId), await fileContent(chain, profileRecord(chain)));
    notes.push(...outcomeOf(safetyBackup), ...sharedPathNotes(context, manifest.profileId, replaced, fileRecords, fileTargets, outcome, safetyBackup));
    appendAudit(context, { event: 'restore', profile: manifest.profileId, outcome: 'ok', detail: `from ${manifest.backupId}${request.database ? ` (${request.database} only)` : ''}` });
    return { backupId: manifest.backupId, profileId: manifest.profileId, databases: targets.map((t) => t.record.logicalName), files: fileRecords.map((f) => f.originalPath), safetyBackup, safetyBackupVerified, notes, durationMs: performance.now() - started };
  } finally {
    closeChain(chain);
  }
}

/**
 * What a restore over its profile replaces: the databases and `files:` the current profile lists (one
 * it no longer lists has no place: writing it to its old path could replace a file that is now someone
 * else's, and the safety backup would not hold it; `leftAlone` says so), each at the current profile's
 * path, or with the profile file gone at the backup's, unless that path is now another profile's
 * database (TARGET_EXISTS).
 */
function planReplacements(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], database: string | undefined, current: { file: string; profile?: Profile }, fileTargetOf: Map<string, string | EnvProfilesError>, outcome: Outcome) {
  const { layout } = context;
  const manifest = chain[chain.length - 1].manifest;
  const records = databaseRecordsOf(manifest);
  const noLongerListed = current.profile ? records.filter((r) => !(r.logicalName in (current.profile as Profile).databases)) : [];
  if (database && noLongerListed.some((r) => r.logicalName === database)) {
    throw new EnvProfilesError('USAGE', `"${database}" is in backup ${manifest.backupId} but no longer in the profile ${manifest.profileId}, so it has nowhere to be restored to; nothing was changed.`, { kind: 'usage', hint: `Restore the backup as a new profile (--as-new <id>), or add ${database} to ${layout.relative(current.file)} again.` });
  }
  const selected = records.filter((r) => (!database || r.logicalName === database) && !noLongerListed.includes(r));
  const targets = selected.map((record) => ({ record, target: databaseTarget(context, config, chain, record, current.profile) }));
  const backedUpFiles = database ? [] : manifest.files.filter((f): f is FileRecord => f.role === 'file');
  const fileRecords = backedUpFiles.filter((f) => !current.profile || current.profile.files.includes(f.originalPath));
  const fileTargets = fileRecords.map((f) => {
    const judged = fileTargetOf.get(f.originalPath) as string | EnvProfilesError;
    if (judged instanceof EnvProfilesError) throw judged;
    return judged;
  });
  const replaced = targets.map(({ record, target }) => ({ logicalName: record.logicalName, file: target, written: layout.relative(target) }));
  // A folder (or a pipe, a device) where a file goes is never moved aside or replaced: before, a restore
  // moved a folder at a database's path aside, then failed to remove it, and every command after failed.
  const namedTargets = [...replaced.map((r): [string, string] => [r.logicalName, r.file]), ...fileRecords.map((f, i): [string, string] => [f.originalPath, fileTargets[i]])];
  for (const [name, target] of namedTargets) {
    const kind = pathKind(target);
    if (kind === 'folder' || kind === 'not-a-file') {
      throw new EnvProfilesError('TARGET_EXISTS', `${layout.relative(target)}, where ${name} of backup ${manifest.backupId} would be restored, is ${nonFileInWords(kind)}, not a file; nothing was changed.`, {
        kind: 'refused',
        file: layout.relative(target),
        hint: `Move it away (or give ${name} another path in the profile), then restore again.`,
      });
    }
  }
  // One file under two names (a folder reached through a symbolic link; profiles refuse it now, but a
  // backup made before, restored by its own paths, has them): it would be replaced twice, and the second
  // replacement could not be rolled back.
  const targetOwners = new Map<string, string>();
  for (const [name, target] of namedTargets) {
    const real = realLocation(target);
    const other = targetOwners.get(real);
    if (other) {
      throw new EnvProfilesError('TARGET_EXISTS', `${other} and ${name} of backup ${manifest.backupId} would both be restored to ${layout.relative(real)} (one file, reached through a symbolic link); nothing was changed.`, {
        kind: 'refused',
        file: layout.relative(real),
        hint: `Restore the backup as a new profile instead (envprofiles restore ${manifest.backupId} --as-new <id>): each database then gets a file of its own.`,
      });
    }
    targetOwners.set(real, name);
  }
  // With its profile file gone (deleted, or renamed to another id), the backup's paths may now be
  // another profile's databases: restoring would replace that profile's data under this one's name.
  if (!current.profile) {
    const owners = databasesOfOtherProfiles(context, manifest.profileId);
    const taken = replaced.find((r) => owners.has(r.file));
    if (taken) {
      throw new EnvProfilesError('TARGET_EXISTS', `${taken.written} is now a database of the profile ${owners.get(taken.file)}, and ${manifest.profileId} (whose backup this is) no longer has a profile file: restoring it would replace that profile's data; nothing was changed.`, {
        kind: 'refused',
        file: taken.written,
        hint: `Restore the backup as a new profile instead (envprofiles restore ${manifest.backupId} --as-new <id>).`,
      });
    }
  }
  // A file of `files:` that is a database (another profile's, or one this restore replaces) would be put
  // back over it as a plain copy: no consistent snapshot, and without that profile's safety backup.
  const databaseOwners = databasesOfOtherProfiles(context, manifest.profileId);
  for (const r of replaced) databaseOwners.set(realLocation(r.file), manifest.profileId);
  const clash = fileRecords.findIndex((_, i) => databaseOwners.has(realLocation(fileTargets[i])));
  if (clash >= 0) {
    const owner = databaseOwners.get(realLocation(fileTargets[clash]));
    throw new EnvProfilesError('TARGET_EXISTS', `${fileRecords[clash].originalPath}, in the files: of ${manifest.profileId}, is a database of the profile ${owner}: restoring it as a plain file would replace that database with a copy that is not a consistent snapshot of it; nothing was changed.`, {
      kind: 'refused',
      file: current.file,
      hint: `Remove it from files: in ${layout.relative(current.file)} (a restore puts back only the files the profile lists now), then restore again.`,
    });
  }
  // A database the profile has moved since the backup goes to its new path; the old file is not touched.
  const moved = current.profile ? selected.filter((r) => path.normalize((current.profile as Profile).databases[r.logicalName]) !== path.normalize(r.originalPath)) : [];
  const leftAlone = [
    ...moved.map((r) => `${r.logicalName} was at ${r.originalPath} when it was backed up; the profile now has it at ${(current.profile as Profile).databases[r.logicalName]}, so it ${told(outcome, 'was restored there', 'would be restored there')} (${r.originalPath} ${told(outcome, 'was', 'would be')} left as it is)`),
    ...backedUpFiles.filter((f) => !fileRecords.includes(f)).map((f) => `${f.originalPath} is in this backup but no longer in the profile's files:, so it ${told(outcome, 'was not restored (it was left as it is)', 'would not be restored (it would be left as it is)')}`),
    ...noLongerListed.map((r) => `${r.logicalName} is in this backup but no longer in the profile, so it ${told(outcome, 'was not restored', 'would not be restored')} (its old path ${r.originalPath} ${told(outcome, 'was', 'would be')} left as it is); to get it back, restore the backup as a new profile (--as-new <id>)`),
  ];
  return { targets, fileRecords, fileTargets, replaced, leftAlone };
}

/**
 * Every rebuilt database and restored file is written beside its target while the old one is still
 * there (the swaps come last), so each folder must be writable and each disk needs room for all that
 * goes to it: refused up front.
 */
function requireRoomFor(operation: string, chain: ArchiveReader[], databases: { logicalName: string; target: string }[], files: { size: number; target: string }[]): void {
  requireWritableFolders(operation, [...databases, ...files].map(({ target }) => path.dirname(target)));
  requireFreeSpace(operation, [
    ...databases.map(({ logicalName, target }) => ({ folder: path.dirname(target), bytes: rebuiltSize(chain, logicalName), what: logicalName })),
    ...files.map(({ size, target }) => ({ folder: path.dirname(target), bytes: size, what: path.basename(target) })),
  ]);
}

/**
 * The permissions a restored file is created with: those of the file it replaces, else those it had
 * when it was backed up (never more than a new file gets: the umask applies), else a new file's. Its
 * owner can always read it, and write it when it is a database (the application writes it): a record
 * without those bits (a damaged or hand-made manifest; 0 made a database nobody but root could open)
 * would give a restore nobody can use.
 */
function restoredPermissions(target: string, record: { mode?: number; role?: string }): number {
  if (fs.existsSync(target)) return permissionsOf(target);
  const ownerNeeds = record.role === 'database' ? 0o600 : 0o400;
  return ((record.mode ?? 0o666) | ownerNeeds) & 0o666;
}

/**
 * A restored file ends with exactly the owner and permissions of the file it replaces (the umask may
 * have narrowed them); with none there, it takes the owner of its folder (see takeOwnerOfFolder).
 */
function matchPermissions(target: string, incoming: string): void {
  const replaced = fileAttributesOf(target);
  if (replaced) giveAttributes(incoming, replaced);
  else takeOwnerOfFolder(incoming, path.dirname(target));
}

/**
 * The target and its companions (-wal, -shm, -journal) that exist now, each with the temporary name it
 * is set aside under; with `keepAs`, each is kept under that name (plus its suffix) after the commit.
 */
function presentFilesOf(target: string, keepAs?: string): KeptFile[] {
  return DATABASE_FILE_SUFFIXES.filter((suffix) => fs.existsSync(`${target}${suffix}`)).map((suffix) => ({
    path: temporaryPathFor(`${target}${suffix}`),
    from: `${target}${suffix}`,
    ...(keepAs ? { keepAs: `${keepAs}${suffix}` } : {}),
  }));
}

/**
 * What a restore over a profile says after its swaps (or, `planned`, what it would do): the profile file
 * (put back, or why the backup's copy of it was not: `unusableCopy`), the profile's databases the
 * backup does not hold, whose data this is, and a failed verification.
 */
function outcomeNotes(context: WorkspaceContext, backups: BackupLayout, chain: ArchiveReader[], records: DatabaseRecord[], current: { file: string; profile?: Profile }, database: string | undefined, restoresProfileFile: boolean, unusableCopy: string, safetyBackup: string | undefined, failedVerification: string | undefined, outcome: Outcome): string[] {
  const { layout } = context;
  const manifest = chain[chain.length - 1].manifest;
  const notes: string[] = [];
  if (restoresProfileFile) {
    notes.push(told(outcome, 'the profile file was missing and was restored from the backup', 'the profile file is missing and would be restored from the backup'));
  } else if (!current.profile && !fs.existsSync(current.file) && profileRecord(chain)) {
    // An emergency backup of a profile whose file was broken holds that file as it was.
    notes.push(`the backup's copy of the profile file ${unusableCopy}, so it ${told(outcome, 'was not put back', 'would not be put back')}: the databases ${told(outcome, 'went', 'would go')} where the backup found them, and ${manifest.profileId} has no profile file until you write one (the backup keeps that copy, under profile/ in its archive)`);
  } else if (current.profile && !database) {
    const record = profileRecord(chain);
    if (record && fs.existsSync(current.file) && record.sha256 !== sha256Of(fs.readFileSync(current.file))) notes.push(`the profile file in the backup differs from the current one; the current one ${told(outcome, 'was', 'would be')} kept`);
    // A database added to the profile after this backup: nothing to restore it from, so it is not touched.
    const notInBackup = Object.entries(current.profile.databases).filter(([logical]) => !records.some((r) => r.logicalName === logical));
    for (const [logical, written] of notInBackup) {
      const why = leftOutReason(manifest, logical);
      notes.push(`${logical} (${written}) is not in this backup (${why ? `it was left out of it: ${why}` : 'it was added to the profile later, or did not exist when the backup was taken'}); it ${told(outcome, 'was', 'would be')} left as it is`);
    }
  }
  const arrives = told(outcome, 'is now in this one', 'would replace this one\'s');
  const origin = originFrom(manifest.origin);
  const madeBy = sharingWorkspaceFinder(layout, backups)(origin);
  const elsewhere = elsewhereText(layout, origin);
  if (madeBy) notes.push(`this backup was made by the workspace at ${madeBy}, which shares the backups folder: that workspace's data ${arrives}`);
  else if (elsewhere) notes.push(`this backup was made by ${elsewhere}, not this one (or before this workspace was moved): that data ${arrives}`);
  if (current.profile && backupsOfEarlierProfile([{ createdAt: manifest.createdAt }], current.profile, context.now()).length > 0) {
    notes.push(`this backup was made of an earlier profile with the id ${manifest.profileId}, before this one was created (${current.profile.createdAt}): that profile's data ${arrives}${safetyBackup ? `; the safety backup ${safetyBackup} holds what was replaced` : ''}`);
  }
  if (failedVerification) notes.push(failedVerification);
  return notes;
}

/**
 * A restored database or file that other profiles use too (a database two profiles share; a clone keeps
 * its source's files:): it is theirs as well, and is replaced for them (before, without a word).
 */
function sharedPathNotes(context: WorkspaceContext, profileId: string, replaced: DatabaseInPlace[], fileRecords: FileRecord[], fileTargets: string[], outcome: Outcome, safetyBackup: string | undefined): string[] {
  const held = safetyBackup ? `; the safety backup ${safetyBackup} holds what was there` : '';
  const replacedFor = (others: string[], count = 1): string => `${count === 1 ? told(outcome, 'it was replaced for', 'it would be replaced for') : told(outcome, 'they were replaced for', 'they would be replaced for')} ${others.length === 1 ? 'that profile' : 'those profiles'} too${held}`;
  const databaseOwners = replaced.length > 0 ? databasesOfOtherProfiles(context, profileId) : new Map<string, string>();
  const databaseNotes = replaced.flatMap((database) => {
    const other = databaseOwners.get(database.file);
    return other ? [`${database.written} (${database.logicalName}) is also a database of ${other}: ${replacedFor([other])}`] : [];
  });
  if (fileRecords.length === 0) return databaseNotes;
  const listedElsewhere = filesOfOtherProfiles(context, profileId);
  // One note per set of other profiles: a clone of a profile with 1,500 files gave 1,500 notes.
  const sharedWith = new Map<string, { others: string[]; paths: string[] }>();
  fileRecords.forEach((file, i) => {
    const others = listedElsewhere.get(realLocation(fileTargets[i]));
    if (!others) return;
    const key = others.join(', ');
    const group = sharedWith.get(key) ?? { others, paths: [] };
    group.paths.push(file.originalPath);
    sharedWith.set(key, group);
  });
  return [...databaseNotes, ...[...sharedWith.values()].map(({ others, paths }) => (paths.length === 1
    ? `${paths[0]} is also in the files: of ${others.join(', ')}: ${replacedFor(others)}`
    : `${paths.length.toLocaleString('en-US')} files (${namedFew(paths)}) are also in the files: of ${others.join(', ')}: ${replacedFor(others, paths.length)}`))];
}

function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The safety backup before a restore over `profile`: every database file the restore replaces
 * (`replaced`, real paths) and every other database of the profile (the whole state before the
 * restore), those that exist now. A file that is there but is not a SQLite database cannot be backed
 * up; if the restore replaces it, it is kept beside its target instead, never deleted: `keptAs` gives
 * the name.
 */
async function backUpWhatIsThere(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, plan: SafetyBackupPlan, profileFileContent: Buffer | undefined): Promise<{ safetyBackup?: string; safetyBackupVerified?: boolean; keptAs: Map<string, string>; notes: string[] }> {
  const { present, keptAs, notes } = plan;
  if (!plan.takesBackup) return { keptAs, notes };
  context.progress?.('Taking a safety backup of the current state');
  let safetyBackup: string;
  let safetyArchive: string;
  let unlistedNote: string | undefined;
  try {
    const made = await backUpProfile(context, config, { ...profile, databases: present }, 'auto', 'before-restore', { profileFileContent, leaveOutDamaged: true });
    safetyBackup = made.entry.id;
    safetyArchive = made.archive;
    for (const damaged of made.leftOut ?? []) notes.push(keepDamagedAside(context, damaged, plan));
    if (made.unlisted) unlistedNote = `the safety backup ${made.entry.id} is not listed in the catalog of ${profile.id}, which cannot be read; ${made.listedBy}`;
  } catch (error) {
    // Whatever stopped it (a full disk, a locked database, a folder in files:) is said as it is, after what it means for the restore.
    if (!isEnvProfilesError(error) || error.code === 'CANCELLED') throw error;
    throw reworded(error, `Nothing was restored: the safety backup of the current state comes first, and it could not be made. ${error.message}`);
  }
  context.onStep?.('safety-backup-written');
  const check = await verifySafetyBackup(context, safetyBackup, safetyArchive);
  const unlisted = unlistedNote ? [unlistedNote] : [];
  return { safetyBackup, safetyBackupVerified: check.verified, keptAs, notes: [...notes, ...check.notes, ...unlisted] };
}

/** What the safety backup holds (`present`: logical name to path), and what is kept aside instead of backed up (`keptAs`). */
interface SafetyBackupPlan {
  present: Record<string, string>;
  keptAs: Map<string, string>;
  notes: string[];
  /** The database files the restore replaces (real paths). */
  replacedFiles: Set<string>;
  /** Whether there is anything to back up: a database in `present`, or a file of the profile's files: that the restore replaces. */
  takesBackup: boolean;
}

/** Where a database file the restore replaces but cannot back up first is kept: beside it, with room for its companions' suffixes. */
function keptAsideName(context: WorkspaceContext, file: string): string {
  return siblingPath(file, `.before-restore-${context.now().toISOString().replace(/[:.]/g, '-')}`, LONGEST_COMPANION_BYTES);
}

/**
 * A database the safety backup found damaged (SQLite: malformed): one the restore replaces is kept
 * beside its target, byte for byte, instead; one it does not replace is left as it is. Says which.
 */
function keepDamagedAside(context: WorkspaceContext, damaged: LeftOutDatabase, plan: SafetyBackupPlan): string {
  const file = realLocation(context.layout.resolve(damaged.originalPath));
  if (!plan.replacedFiles.has(file)) return `${damaged.reason} with the rest first; this restore does not replace it, and left it as it is`;
  const keepAs = keptAsideName(context, file);
  plan.keptAs.set(file, keepAs);
  return `${damaged.reason} first; it was kept as ${context.layout.relative(keepAs)}`;
}

/** The safety backup a restore over `profile` takes, from the files there now (`outcome` words the notes). */
function safetyBackupPlan(context: WorkspaceContext, profile: Profile, replaced: { logicalName: string; file: string; written: string }[], replacedFilesNow: string[], outcome: Outcome): SafetyBackupPlan {
  const { layout } = context;
  const notes: string[] = [];
  const keptAs = new Map<string, string>();
  const present: Record<string, string> = {};
  const replacedFiles = new Set(replaced.map((r) => r.file));
  const others = Object.entries(profile.databases)
    .map(([logicalName, written]) => ({ logicalName, written, file: realLocation(layout.resolve(written)) }))
    .filter((d) => !replacedFiles.has(d.file) && !replaced.some((r) => r.logicalName === d.logicalName));
  for (const { logicalName: logical, file, written } of [...replaced, ...others]) {
    if (!fs.existsSync(file)) continue;
    const problem = databaseFileProblem(file);
    // Under the path the profile gives it when that leads to this very file (a link stays a link in the
    // manifest), else where it is: the safety backup holds the file that is replaced, whatever the profile says.
    const given = profile.databases[logical];
    if (!problem) present[logical] = given !== undefined && realLocation(layout.resolve(given)) === file ? given : written;
    else if (fs.statSync(file).isFile() && replacedFiles.has(file)) {
      const keepAs = keptAsideName(context, file);
      keptAs.set(file, keepAs);
      notes.push(`${written} ${problem}, so it ${told(outcome, 'could not be backed up first; it was kept', 'cannot be backed up first; it would be kept')} as ${layout.relative(keepAs)}`);
    } else if (fs.statSync(file).isFile()) {
      notes.push(`${written} ${problem}, so it cannot be backed up with the rest first; this restore does not replace it, and ${told(outcome, 'left it', 'would leave it')} as it is`);
    }
  }
  // Without a database to back up, the files of its files: that the restore replaces still are (before, they were replaced without one).
  const takesBackup = Object.keys(present).length > 0 || replacedFilesNow.length > 0;
  const noDatabase = Object.values(profile.databases).some((written) => fs.existsSync(layout.resolve(written))) ? 'none of the profile\'s databases can be backed up (see above)' : 'none of the profile\'s databases exist now';
  if (Object.keys(present).length === 0 && takesBackup) notes.push(`the safety backup ${told(outcome, 'holds', 'would hold')} the profile's files (${replacedFilesNow.map((file) => layout.relative(file)).join(', ')} among them) and none of its databases: ${noDatabase}`);
  else if (!takesBackup && keptAs.size === 0) notes.push(`no safety backup${told(outcome, '', ' would be taken')}: ${noDatabase}`);
  return { present, keptAs, notes, replacedFiles, takesBackup };
}

/** The profile as far as the manifest alone tells: its id, and where each database was; no settings. */
function manifestOnlyProfile(manifest: BackupManifest): Profile {
  const databases = Object.fromEntries(databaseRecordsOf(manifest).map((r) => [r.logicalName, r.originalPath]));
  return { id: manifest.profileId, name: manifest.profileId, type: 'BACKUP', ...(manifest.profileCreatedAt ? { createdAt: manifest.profileCreatedAt } : {}), protected: false, databases, configurations: {}, files: [], requiredTables: {} };
}

/**
 * The profile of a backup whose copy of the profile file does not validate: what that copy still says
 * (name, type, protection, created_at), with the databases where the manifest says they were.
 */
async function profileFromManifest(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[]): Promise<Profile> {
  const manifest = chain[chain.length - 1].manifest;
  const text = (await fileContent(chain, profileRecord(chain))).toString('utf8');
  const salvaged = salvagedProfile(manifest.profileId, parseDocument(text), context.layout, config);
  const known = manifestOnlyProfile(manifest);
  // A copy that does not even parse says nothing of its protection: it is taken as protected.
  return salvaged ? { ...known, ...salvaged, databases: known.databases } : { ...known, protected: true };
}

/** Where a database goes: the current profile's path for it, else the path recorded in the backup. */
function databaseTarget(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], record: DatabaseRecord, current: Profile | undefined): string {
  return restoreTarget(context, config, chain, current?.databases[record.logicalName] ?? record.originalPath, `the database "${record.logicalName}"`);
}

/**
 * Where a restored file is written: `written` (relative to the workspace), which must stay inside the
 * workspace or an allowed directory, also through symbolic links. A path that is a link to the file
 * (or goes through a linked folder) leads to the file itself: that is what is replaced, and the link
 * stays a link.
 */
function restoreTarget(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], written: string, what: string, storeAllowed = false): string {
  const judged = judgeRestoreTarget(context, config, chain, written, what, storeAllowed);
  if (judged instanceof EnvProfilesError) throw judged;
  return judged;
}

/**
 * As restoreTarget, but a path that is sound in the backup and leads elsewhere only through a symbolic
 * link in the workspace now is returned as its refusal, to be thrown when that file is to be written:
 * the link, not the archive, is at fault (before, the archive was called hostile, "do not use it").
 * A path the manifest itself points outside with is hostile, and thrown at once.
 */
function judgeRestoreTarget(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], written: string, what: string, storeAllowed = false): string | EnvProfilesError {
  const verdict = checkProfilePath(context.layout.root, written, config.allowedDirectories, { storeAllowed, fromBackup: true });
  if (verdict.ok) return realLocation(verdict.absolute);
  const archive = chain[chain.length - 1].file;
  if (verdict.throughLink) {
    return new EnvProfilesError('TARGET_EXISTS', `${written}, where ${what} of backup ${chain[chain.length - 1].manifest.backupId} would be restored, ${verdict.reason.replace(/^"[^"]*" /, '')}; nothing was changed.`, {
      kind: 'refused',
      file: written,
      hint: `The backup is not at fault: a symbolic link in the workspace leads elsewhere. Remove or correct that link, then restore again${what === 'a file' ? '' : ' (or restore the backup as a new profile: --as-new <id>)'}.`,
    });
  }
  return new EnvProfilesError('ARCHIVE_HOSTILE', `${archive}: the backup would write ${what} at ${written}: ${verdict.reason}. The archive was refused and nothing was written.`, { kind: 'refused', file: archive, hint: what === 'a file' ? 'Do not use this archive: its files belong outside this workspace.' : 'Restore with --as-new <id> to put its databases inside the workspace.' });
}

/** Restores every database of a backup into a new profile, like a clone. */
async function restoreAsNew(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], id: string, started: number, dryRun: boolean, verification: Pick<RestorePlan, 'notVerified' | 'listed'>): Promise<RestoreResult> {
  const { layout } = context;
  const manifest = chain[chain.length - 1].manifest;
  const problem = profileIdProblem(id);
  if (problem) {
    const example = profileIdProblem(`${manifest.profileId}_restored`) ? 'restored_profile' : `${manifest.profileId}_restored`;
    throw new EnvProfilesError('PROFILE_INVALID', `Cannot restore as "${id}": ${problem}. Nothing was changed.`, { kind: 'usage', hint: `Give --as-new an id of 3 to 64 letters, digits, ".", "_" or "-", such as ${example}.` });
  }
  requireNewProfileId(layout, config, id, 'Choose another id for --as-new.');
  // A profile lists at least one database: a backup that holds none (each was missing or damaged then) makes none.
  if (databaseRecordsOf(manifest).length === 0) {
    const names = (manifest.leftOut ?? []).map((l) => l.logicalName);
    const why = names.length > 0 ? `${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} left out of it` : 'none of the profile\'s databases existed when it was taken';
    const kept = rawCopiesOf(manifest).map((copy) => copy.entry);
    const others = `"envprofiles backups ${manifest.profileId}" lists the backups that hold its databases.`;
    throw new EnvProfilesError('BACKUP_NOT_FOUND', `Backup ${manifest.backupId} holds no database (${why}), so it cannot be restored as a new profile, which needs at least one; nothing was changed.`, {
      kind: 'refused',
      hint: kept.length > 0 ? `Its damaged files are in the archive as found (${kept.join(', ')}): "unzip -p <archive> <entry> > <file>" takes one out. ${others}` : others,
    });
  }
  const records = databaseRecordsOf(manifest);
  const databases = databasePathsIn(`data/${id}`, Object.fromEntries(records.map((r) => [r.logicalName, r.originalPath])));
  const backedUpCopy = (await fileContent(chain, profileRecord(chain))).toString('utf8');
  const parsed = restoredProfileFile(backedUpCopy, { id, manifest, databases, createdAt: context.now().toISOString(), layout, config });
  const { leftOut } = parsed;
  const madeFromManifest = parsed.unusableCopy && `the backup's copy of the profile file ${parsed.unusableCopy}, so ${id} ${told(dryRun ? 'planned' : 'done', 'was', 'would be')} made from the backup's manifest: its databases, type BACKUP, no configuration`;
  const newProfile = parsed.profile;
  if (!newProfile) throw invalidProfileError(parsed.issues);
  // A deleted profile whose data was kept: restoring over it is what brings it back.
  const overDeleted = fs.existsSync(layout.profileFile(manifest.profileId)) ? '' : ` Or, as ${manifest.profileId} has no profile file now (deleted, its data kept?), bring it back where it was by restoring without --as-new ("envprofiles restore ${manifest.backupId}"): what is there now is backed up first.`;
  for (const written of Object.values(databases)) {
    if (fs.existsSync(layout.resolve(written))) throw new EnvProfilesError('TARGET_EXISTS', `${written} already exists; nothing was changed.`, { file: written, hint: `Choose another id for --as-new.${overDeleted}` });
  }
  // Scratch space for the check of each rebuilt file; its name marks it temporary, so the next command
  // removes it if this one is killed.
  const scratchDir = new BackupLayout(layout, config).scratchDir(manifest.profileId, 'restore');
  const operation = `Restoring ${manifest.backupId} as ${id}`;
  const refusals = new RefusalChecks(dryRun);
  const { wouldRefuse } = refusals;
  refusals.check(() => requireRoomFor(operation, chain, records.map((r) => ({ logicalName: r.logicalName, target: layout.resolve(databases[r.logicalName]) })), []));
  const outcome: Outcome = dryRun ? 'planned' : 'done';
  const elsewhere = elsewhereText(layout, originFrom(manifest.origin));
  const notes = [`${told(outcome, 'restored', 'would restore')} as the new profile ${id}${elsewhere ? `, from a backup made by ${elsewhere}` : ''}`];
  const earlier = earlierBackupsNoteFor(layout, config, newProfile, context.now());
  if (earlier) notes.push(earlier);
  if (madeFromManifest) notes.push(madeFromManifest);
  // The files: paths are kept: writing the backup's copies there would replace files that are (or may
  // be) another profile's, without a safety backup of them.
  if (newProfile.files.length > 0) {
    const list = namedFew(newProfile.files, 5);
    notes.push(`${id} lists the same files: as the backup's profile (${list}); the backup's copies of them ${told(outcome, 'were', 'would be')} not written over the ones in place (they are in the archive, under files/): to keep them apart, give ${id} its own copies and change its files: list`);
  }
  for (const logical of leftOut) {
    const why = leftOutReason(manifest, logical) ?? 'it was missing, or not a SQLite database, when the backup was taken';
    notes.push(`${logical} is not in this backup (${why}), so ${id} ${told(outcome, 'has', 'would have')} no ${logical} database; add one to ${layout.relative(layout.profileFile(id))} if it needs it`);
  }
  const result = { backupId: manifest.backupId, profileId: id, databases: records.map((r) => r.logicalName), files: [], notes };
  if (dryRun) {
    const writes = [...records.map((r) => ({ name: r.logicalName, path: databases[r.logicalName], exists: false })), { name: 'profile file', path: layout.relative(layout.profileFile(id)), exists: false }];
    return { ...result, durationMs: performance.now() - started, plan: { writes, safetyBackupFirst: false, wouldRefuse, ...verification } };
  }
  try {
    await withNewProfileJournal(context, { operation: 'create', source: manifest.backupId, target: id, newFiles: Object.values(databases).map((w) => layout.resolve(w)) }, async () => {
      makeFolders(scratchDir, 0o700);
      try {
        for (const r of records) {
          const target = layout.resolve(databases[r.logicalName]);
          makeFolderAsItsParent(path.dirname(target));
          const incoming = temporaryPathFor(target);
          try {
            await rebuildDatabase(chain, r.logicalName, incoming, scratchDir, { wholeSha256: false, durable: true, watch: watchStep(context, `Rebuilding ${r.logicalName}`), createMode: restoredPermissions(target, r) });
            takeOwnerOfFolder(incoming, path.dirname(target));
            commitTemporaryFile(incoming, target);
          } finally {
            fs.rmSync(incoming, { force: true });
          }
        }
      } finally {
        fs.rmSync(scratchDir, { recursive: true, force: true });
      }
      writeProfileDocument(layout, id, parsed.document);
    });
  } catch (error) {
    if (!isOutOfSpace(error)) throw error;
    throw outOfSpaceError(operation, [...new Set(Object.values(databases).map((w) => path.dirname(layout.resolve(w))))], error, `The databases restored so far were removed and no profile ${id} was created.`);
  }
  appendAudit(context, { event: 'restore', profile: id, outcome: 'ok', detail: `as a new profile from ${manifest.backupId}` });
  return { ...result, durationMs: performance.now() - started };
}

/**
 * A restore's own failure after its safety backup (a damaged entry found while rebuilding, a database
 * opened meanwhile, a cancel): the same error, also saying that every file is as it was and which
 * backup holds the state from before, so that nobody has to wonder whether their data changed.
 */
function rolledBackError(error: EnvProfilesError, safetyBackup: string | undefined): EnvProfilesError {
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
function vanishedDuringRestore(backupId: string, journal: RestoreJournal, swapped: number, safetyBackup: string | undefined, error: unknown): EnvProfilesError | undefined {
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

/** Refuses the swaps when a database to be replaced was written since `stamps` were taken (before the safety backup). */
function refuseIfWrittenSince(stamps: Map<string, string>, replaced: DatabaseInPlace[]): void {
  const file = firstChangedSince(stamps, databaseWriteStamp);
  const written = replaced.find((database) => database.file === file);
  if (!written) return;
  throw new EnvProfilesError('DATABASE_IN_USE', `${written.logicalName} (${written.written}) was written while the restore ran, after its safety backup was begun, so replacing it would lose what was written: the restore was refused.`, {
    kind: 'refused',
    file: written.written,
    hint: 'Stop the application (or whatever wrote to it), then restore again: the new safety backup holds what was written.',
  });
}

/** The same for the configuration files (`files:`) the restore replaces: an edit made meanwhile is not in the safety backup. */
function refuseIfFilesChangedSince(stamps: Map<string, string | undefined>, layout: WorkspaceLayout): void {
  const changed = firstChangedSince(stamps, fileWriteStamp);
  if (!changed) return;
  throw new EnvProfilesError('FILE_CHANGED', `${layout.relative(changed)} (in files:) was changed while the restore ran, after its safety backup was begun, so replacing it would lose that change: the restore was refused.`, {
    kind: 'refused',
    file: layout.relative(changed),
    hint: 'Restore again when nothing is editing it: the new safety backup holds the change.',
  });
}

/** The first file whose stamp (taken again with `stampNow`) differs from the one in `stamps`. */
function firstChangedSince<Stamp>(stamps: Map<string, Stamp>, stampNow: (file: string) => Stamp): string | undefined {
  return [...stamps].find(([file, stamp]) => stampNow(file) !== stamp)?.[0];
}

/** `text` cut to about `length` characters (a note stays one readable line). */
function shortened(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}
