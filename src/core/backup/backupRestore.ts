import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendAudit, auditedAlready, auditingUnfinished } from '../auditLog';
import { fsyncDirectory, temporaryPathFor, writeChunksDurably, writeNewFileDurably } from '../atomicFile';
import { checkBusyGuard } from '../busyGuard';
import { heldDatabase, refuseIfDatabasesInUse, refuseIfHeld, type DatabaseInPlace } from '../databaseInUse';
import { isOutOfSpace, outOfSpaceError } from '../diskSpace';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { RefusalChecks } from '../dryRunRefusals';
import { typedSystemError } from '../systemErrors';
import { requireWritableFolders } from '../folderAccess';
import { makeFolderAsItsParent } from '../filePermissions';
import { removeJournal, writeJournal, type KeptFile, type RestoreJournal } from '../operationJournal';
import { systemErrorCode } from '../systemErrorCode';
import { isProtected } from '../profileModel';
import { invalidProfileError, readProfileFile } from '../profileStore';
import { workspaceConfigFor } from '../workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { closeChain, locateBackup, openChain, restorableInstead, type LocatedBackup } from './backupChain';
import { finishRestore, rollBackRestore } from './backupRecovery';
import { BackupLayout } from './backupLayout';
import { databaseRecordsOf, leftOutReason, type DatabaseRecord, type FileRecord } from './backupManifest';
import type { ArchiveReader } from './archiveReader';
import { checkUnchangedFiles, fileChunks, fileContent, profileCopyDisagreement, profileFromBackup, profileRecord } from './backedUpFiles';
import { rebuildDatabase } from './databaseReconstruction';
import { watchStep } from '../progressMeter';
import { databaseWriteStamp, fileWriteStamp } from '../sqlite/fileStamp';
import { requireRoomToVerify } from './safetyBackupCheck';
import { shellArgument } from '../shellArgument';
import { makeFolders } from '../makeFolders';
import { restoreAsNew } from './restoreAsNewProfile';
import { confirmationRequiredError, refuseMisdirectedConfirmation } from '../misdirectedConfirmation';
import { outcomeNotes, sharedPathNotes, failedVerificationNote } from './restoreNotes';
import { refuseIfFilesChangedSince, refuseIfSetAsideTouched, refuseIfWrittenSince, rolledBackError, vanishedDuringRestore } from './restoreRefusals';
import type { Outcome, RestorePlan, RestoreRequest, RestoreResult } from './restoreRequest';
import { backUpWhatIsThere, safetyBackupPlan } from './restoreSafetyBackup';
import { changedSinceVerified } from './verifiedArchives';
import { renamedDatabases } from './renamedDatabases';
import { judgeRestoreTarget, manifestOnlyProfile, planReplacements, profileFromManifest, requireRoomFor } from './restoreTargets';
import { matchPermissions, presentFilesOf, restoredPermissions } from './restoredFileAttributes';

/** Restores a backup over its profile (or as a new profile, or one database), as a journaled swap. */
export async function restoreBackup(context: WorkspaceContext, request: RestoreRequest): Promise<RestoreResult> {
  requireInitialised(context.layout);
  // A restore refused (the application live, a database open, no confirmation, no room) or failed before
  // it replaced anything is in the audit log too (before, only restores that finished or were rolled back
  // were): who tried to restore over production, and why it did not happen.
  return withWorkspaceLock(context, `restore ${request.reference}`, () => {
    const restoring: RestoreInProgress = {};
    const what = `from ${request.reference}${request.asNew ? ` as the new profile ${request.asNew}` : ''}${request.database ? ` (${request.database} only)` : ''}`;
    return auditingUnfinished(context, 'restore', () => ({ profile: restoring.profileId, what, dryRun: request.dryRun }), () => runRestore(context, request, restoring));
  });
}

/** Whose profile a restore acts on, once its archive is read (for the audit line of one that does not finish). */
interface RestoreInProgress {
  profileId?: string;
}

async function runRestore(context: WorkspaceContext, request: RestoreRequest, restoring: RestoreInProgress): Promise<RestoreResult> {
  const started = performance.now();
  const { layout } = context;
  const config = workspaceConfigFor(context);
  const backups = new BackupLayout(layout, config);
  refuseMalformedRequest(request);
  const located = locateBackup(backups, request.reference, request.cwd ?? process.cwd());
  // Opening the chain checks every archive for hostile content before anything is written.
  const chain = await openChainToRestore(backups, located);
  try {
    const last = chain[chain.length - 1];
    const manifest = last.manifest;
    restoring.profileId = request.asNew ?? manifest.profileId;
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
    // As a new profile, a restore writes only new files at paths no profile has (as a clone does, which
    // the live application does not refuse either): it replaces nothing the application may be using.
    if (!request.asNew) refusalCheck(() => checkBusyGuard(context, config, 'restoring'));
    const records = databaseRecordsOf(manifest);
    // Over the profile, --db may also name a database by the name the profile gives it now (renamedDatabases).
    const requireAskedDatabase = (renamedTo: ReadonlyMap<string, string>): void => {
      if (!request.database || records.some((r) => r.logicalName === request.database || renamedTo.get(r.logicalName) === request.database)) return;
      const why = leftOutReason(manifest, request.database);
      throw new EnvProfilesError('BACKUP_NOT_FOUND', `Backup ${manifest.backupId} has no database "${request.database}"${why ? ` (it was left out of it: ${why})` : ''}.`, { kind: 'usage', hint: `It has: ${records.map((r) => r.logicalName).join(', ')}.` });
    };
    // A backup that failed its last verification is restored all the same (that may be what the user
    // wants: the data as it was then), but the result says so.
    const failedVerification = failedVerificationNote(located.catalogEntry, located.catalogEntries ?? []);
    // A dry run reads the manifest, not the data: "would write" must not be taken for "verified".
    const notVerified = !failedVerification && located.catalogEntry?.verified?.ok !== true;
    const listed = located.catalogEntry !== undefined;
    // "Verified" is the catalog's word for the archive as it was then: a dry run checks it still is.
    const changed = request.dryRun && located.catalogEntry && !notVerified
      ? await changedSinceVerified(backups, located.catalogEntry.profileId, located.catalogEntry, new Map((located.catalogEntries ?? []).map((e) => [e.id, e])))
      : undefined;
    const verification = { notVerified, listed, ...(changed ? { changedSinceVerified: changed } : {}) };
    if (request.asNew) {
      // It replaces nothing, so it needs no confirmation; one that names neither profile was meant for another restore.
      refuseMisdirectedConfirmation(request.confirmedId, request.asNew, 'this restore makes the new profile', [request.asNew, manifest.profileId]);
      requireAskedDatabase(new Map());
      const restored = await restoreAsNew(context, config, chain, request.asNew, started, request.dryRun === true, verification);
      restored.plan?.wouldRefuse.unshift(...wouldRefuse);
      if (failedVerification) restored.notes.push(failedVerification);
      return restored;
    }

    const current = readProfileFile(layout, config, manifest.profileId);
    const renamedTo = current.profile ? renamedDatabases(layout, records, current.profile) : new Map<string, string>();
    requireAskedDatabase(renamedTo);
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
    if (!isProtected(safetyProfile)) refuseMisdirectedConfirmation(request.confirmedId, safetyProfile.id, 'this restore replaces the data of');
    const confirmationNeeded = isProtected(safetyProfile) && request.confirmedId !== safetyProfile.id ? safetyProfile : undefined;
    // A dry run changes nothing, so it needs no confirmation: it says that the restore will.
    if (confirmationNeeded && !request.dryRun) {
      const profile = confirmationNeeded;
      throw confirmationRequiredError(`Restoring over "${profile.id}" (${profile.type === 'PRODUCTION' ? 'PRODUCTION' : 'protected'}) replaces its data; it needs confirmation.`, profile.id, request.confirmedId, `Repeat with --confirm ${profile.id}.`);
    }
    const outcome: Outcome = request.dryRun ? 'planned' : 'done';
    const { targets, fileRecords, fileTargets, replaced, leftAlone } = planReplacements(context, config, chain, request.database, current, renamedTo, fileTargetOf, outcome);
    const operation = `restoring ${manifest.backupId} over it`;
    const held = await heldDatabase(context.engine, replaced);
    refusalCheck(() => refuseIfHeld(held, operation));
    // Before the safety backup: a restore that cannot fit would only leave that backup behind.
    refusalCheck(() => requireRoomFor(`Restoring ${manifest.backupId}`, chain, targets.map(({ record, target }) => ({ logicalName: record.logicalName, target })), fileRecords.map((f, i) => ({ size: f.size, target: fileTargets[i] }))));
    const safety = safetyBackupPlan(context, config, safetyProfile, replaced, fileTargets.filter((target) => fs.existsSync(target)), outcome);
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
    const outcomeOf = (safetyBackup: string | undefined, profileFilePutBack = restoresProfileFile): string[] => outcomeNotes(context, backups, chain, records, renamedTo, current, request.database, profileFilePutBack, unusableCopy, safetyBackup, failedVerification, outcome);
    if (request.dryRun) {
      const writes = [
        ...targets.map(({ nameNow, target }) => ({ kind: 'database' as const, name: nameNow, path: layout.relative(target), exists: fs.existsSync(target) })),
        ...fileRecords.map((f, i) => ({ kind: 'file' as const, name: f.originalPath, path: layout.relative(fileTargets[i]), exists: fs.existsSync(fileTargets[i]) })),
        ...(restoresProfileFile ? [{ kind: 'profile file' as const, name: 'profile file', path: layout.relative(current.file), exists: false }] : []),
      ];
      const plan: RestorePlan = { writes, safetyBackupFirst: safety.takesBackup, wouldRefuse, ...verification, ...(confirmationNeeded ? { confirmationNeeded: confirmationNeeded.id } : {}) };
      const notes = [...safety.notes, ...leftAlone, ...outcomeOf(undefined), ...sharedPathNotes(context, manifest.profileId, replaced, fileRecords, fileTargets, outcome, undefined)];
      return { backupId: manifest.backupId, profileId: manifest.profileId, databases: targets.map((t) => t.nameNow), files: fileRecords.map((f) => f.originalPath), notes, durationMs: performance.now() - started, plan };
    }
    // Taken before the safety backup: a write after this point may be missing from it (see below).
    const writeStamps = new Map(replaced.map((database) => [database.file, databaseWriteStamp(database.file)]));
    const fileStamps = new Map(fileTargets.map((target) => [target, fileWriteStamp(target)]));
    const { safetyBackup, safetyBackupVerified, keptAs, notes } = await backUpWhatIsThere(context, config, safetyProfile, safety, profileFileContent);
    notes.push(...leftAlone);
    await swapInUnderJournal(context, chain, { backups, targets, fileRecords, fileTargets, keptAs, replaced, writeStamps, fileStamps, operation, safetyBackup });
    const profileFilePutBack = restoresProfileFile && putBackProfileFile(current.file, await fileContent(chain, profileRecord(chain)));
    if (restoresProfileFile && !profileFilePutBack) {
      notes.push(`${layout.relative(current.file)} was written while this restore ran, so it was left as it is and this backup's copy of it was not put back: the databases went where that copy says (${targets.map(({ target }) => layout.relative(target)).join(', ')}); check that the profile file names them`);
    }
    notes.push(...outcomeOf(safetyBackup, profileFilePutBack), ...sharedPathNotes(context, manifest.profileId, replaced, fileRecords, fileTargets, outcome, safetyBackup));
    appendAudit(context, { event: 'restore', profile: manifest.profileId, outcome: 'ok', detail: `from ${manifest.backupId}${request.database ? ` (${request.database} only)` : ''}` });
    return { backupId: manifest.backupId, profileId: manifest.profileId, databases: targets.map((t) => t.nameNow), files: fileRecords.map((f) => f.originalPath), safetyBackup, safetyBackupVerified, notes, durationMs: performance.now() - started };
  } finally {
    closeChain(chain);
  }
}

/**
 * Puts the backup's copy of the profile file back where there was none; false when a profile file was
 * written there while the restore ran, which is left as it is (before, it was replaced).
 */
function putBackProfileFile(file: string, text: Uint8Array): boolean {
  makeFolders(path.dirname(file));
  return writeNewFileDurably(file, text);
}

/** The combinations of options a restore cannot take, refused before anything is read. */
function refuseMalformedRequest(request: RestoreRequest): void {
  // Empty is not left out: restoring over the profile (or every database) is not what an empty id asks for.
  if (request.asNew === '') throw new EnvProfilesError('USAGE', 'The id of the new profile to restore as (--as-new) is empty; nothing was changed.', { kind: 'usage', hint: 'Give the new profile\'s id, or leave --as-new out to restore over the backup\'s own profile.' });
  if (request.database === '') throw new EnvProfilesError('USAGE', 'The name of the database to restore (--db) is empty; nothing was changed.', { kind: 'usage', hint: 'Give the database\'s name (as in the profile\'s databases:), or leave --db out to restore them all.' });
  if (request.asNew && request.database) {
    throw new EnvProfilesError('USAGE', '--as-new restores a whole profile; it cannot be combined with --db. Nothing was changed.', {
      kind: 'usage',
      hint: `Leave out --db to restore the whole backup as the new profile ${request.asNew} (its databases go under data/${request.asNew}/; take the one you need from there), or leave out --as-new to restore only ${request.database} over the backup's own profile.`,
    });
  }
}

/** Opens the backup's chain, which checks every archive for hostile content before anything is written. */
async function openChainToRestore(backups: BackupLayout, located: LocatedBackup): Promise<ArchiveReader[]> {
  return openChain(located.archive, backups).catch((error: unknown) => {
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
}

/** What the journaled swap of a restore over a profile writes, and what it checks again right before. */
interface Replacement {
  backups: BackupLayout;
  /** The databases to rebuild, each with the path it replaces. */
  targets: { record: DatabaseRecord; target: string }[];
  fileRecords: FileRecord[];
  fileTargets: string[];
  /** What the safety backup set aside of each target (its -wal, say), by target. */
  keptAs: Map<string, string>;
  replaced: DatabaseInPlace[];
  /** How each database and file was before the safety backup: a write since then may be missing from it. */
  writeStamps: Map<string, string>;
  fileStamps: Map<string, string | undefined>;
  operation: string;
  safetyBackup: string | undefined;
}

/**
 * Rebuilds every database and file beside its target, then swaps them in under a restore journal, so
 * that a kill at any moment leaves the old or the new state of each file (the next command finishes or
 * rolls back). Any failure before the commit rolls back, and is said with what became of the files.
 */
async function swapInUnderJournal(context: WorkspaceContext, chain: ArchiveReader[], replacement: Replacement): Promise<void> {
  const { layout } = context;
  const { manifest } = chain[chain.length - 1];
  const { backups, targets, fileRecords, fileTargets, keptAs, replaced, writeStamps, fileStamps, operation, safetyBackup } = replacement;
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
    // Again, right before the swaps: the application may have been started during the rebuild. (A
    // database seen open is looked at again for up to 1.5 s, so what was written is checked after.)
    await refuseIfDatabasesInUse(context.engine, replaced, operation);
    // A program that opened a database, wrote and closed it while the safety backup and the rebuild
    // ran is no longer seen as open, but what it wrote may not be in the safety backup.
    refuseIfWrittenSince(writeStamps, replaced);
    refuseIfFilesChangedSince(fileStamps, layout);
    // The check (and the application, if it ran meanwhile) may have checkpointed a -wal away or left
    // one: what is set aside is what exists now, so no old -wal ever stays beside a restored file.
    for (const swap of journal.swaps) swap.keptOld = presentFilesOf(swap.target, keptAs.get(swap.target));
    writeJournal(layout, journalName, journal);
    for (const swap of journal.swaps) {
      for (const kept of swap.keptOld) setAside(kept, swap.target);
      fs.renameSync(swap.incoming, swap.target);
      swapped += 1;
      context.onStep?.(`swapped:${layout.relative(swap.target)}`);
    }
    // The renames reach the disk before the journal says committed (after which the old files go).
    for (const dir of new Set(journal.swaps.map((swap) => path.dirname(swap.target)))) fsyncDirectory(dir);
    // A program that opened a database after the check above has the old file, set aside: looked at once more.
    await refuseIfSetAsideTouched(journal, replaced, { databases: writeStamps, files: fileStamps }, layout, operation);
    writeJournal(layout, journalName, { ...journal, phase: 'committed' });
  } catch (error) {
    rollBackRestore(journal);
    removeJournal(layout, journalName);
    appendAudit(context, { event: 'restore', profile: manifest.profileId, outcome: 'rolled-back', detail: (error as Error).message });
    throw auditedAlready(rolledBackRestoreError(error, journal, swapped, safetyBackup));
  }
  context.onStep?.('committed');
  finishRestore(journal);
  removeJournal(layout, journalName);
}

/** The error of a restore that was rolled back, as the user reads it: what failed, and what became of the files. */
function rolledBackRestoreError(cause: unknown, journal: RestoreJournal, swapped: number, safetyBackup: string | undefined): unknown {
  // Also a rebuild's own refusal (DISK_FULL): by now the safety backup exists and a rollback ran.
  if (isOutOfSpace(cause) || (isEnvProfilesError(cause) && cause.code === 'DISK_FULL')) {
    const kept = safetyBackup ? ` The safety backup ${safetyBackup} was kept.` : '';
    return outOfSpaceError(`Restoring ${journal.backupId}`, [...new Set(journal.swaps.map((swap) => path.dirname(swap.target))), journal.stagingDir], cause, `It was rolled back: every file is as it was.${kept}`);
  }
  const vanished = vanishedDuringRestore(journal.backupId, journal, swapped, safetyBackup, cause);
  if (vanished) return vanished;
  // A refused permission or a read-only disk is put in words too (as it would be anyway), with the rollback said.
  const typed = isEnvProfilesError(cause) ? cause : typedSystemError(cause);
  return typed ? rolledBackError(typed, safetyBackup) : cause;
}

/**
 * Moves an existing file of a target aside for the swap. A -wal or -shm that is gone by then was
 * removed by the last connection to the old file as it closed, which is no failure (what that
 * connection wrote is checked for after the swaps); the file itself gone is one.
 */
function setAside(kept: KeptFile, target: string): void {
  try {
    fs.renameSync(kept.from, kept.path);
  } catch (error) {
    if (kept.from === target || systemErrorCode(error) !== 'ENOENT') throw error;
  }
}
