import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendAudit } from '../auditLog';
import { commitNewFile, temporaryPathFor } from '../atomicFile';
import { madeMeanwhileError } from '../databaseInitialisation';
import { isOutOfSpace, outOfSpaceError } from '../diskSpace';
import { EnvProfilesError } from '../errors';
import { RefusalChecks } from '../dryRunRefusals';
import { makeFolderAsItsParent, takeOwnerOfFolder } from '../filePermissions';
import { withNewProfileJournal } from '../newProfileJournal';
import { requireNewProfileId } from '../newProfileId';
import { databasePathsIn, newProfileDataFolder } from '../newDatabasePaths';
import { refuseNewDatabaseAtOutput } from '../outputCollisions';
import { invalidProfileError, profileDocumentText } from '../profileStore';
import { profileIdProblem } from '../safeNames';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import type { ArchiveReader } from './archiveReader';
import { BackupLayout } from './backupLayout';
import { elsewhereText, originFrom } from './backupOrigin';
import { databaseRecordsOf, leftOutReason, rawCopiesOf } from './backupManifest';
import { earlierBackupsNoteFor } from './earlierProfile';
import { fileContent, profileRecord } from './backedUpFiles';
import { rebuildDatabase } from './databaseReconstruction';
import { restoredProfileFile } from './restoredProfileFile';
import { watchStep } from '../progressMeter';
import { makeFolders } from '../makeFolders';
import { namedFew } from '../namedFew';
import { type Outcome, type RestorePlan, type RestoreResult, told } from './restoreRequest';
import { requireRoomFor } from './restoreTargets';
import { restoredPermissions } from './restoredFileAttributes';

// A backup restored as a new profile (restore --as-new): its databases rebuilt under the new profile's
// folder, like a clone, replacing nothing.

/** Restores every database of a backup into a new profile, like a clone. */
export async function restoreAsNew(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], id: string, started: number, dryRun: boolean, verification: Pick<RestorePlan, 'notVerified' | 'listed' | 'changedSinceVerified'>): Promise<RestoreResult> {
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
  const dataFolder = newProfileDataFolder(layout, config, id);
  const databases = databasePathsIn(dataFolder.folder, Object.fromEntries(records.map((r) => [r.logicalName, r.originalPath])));
  // Without a copy of the profile file (before, refused as "no profile can be made from it"), the manifest says which database is which.
  const record = profileRecord(chain);
  const backedUpCopy = record && (await fileContent(chain, record)).toString('utf8');
  const parsed = restoredProfileFile(backedUpCopy, { id, manifest, databases, createdAt: context.now().toISOString(), layout, config });
  const { leftOut } = parsed;
  const madeFromManifest = parsed.unusableCopy && `the backup's copy of the profile file ${parsed.unusableCopy}, so ${id} ${told(dryRun ? 'planned' : 'done', 'was', 'would be')} made from the backup's manifest: its databases, type BACKUP, no configuration`;
  const newProfile = parsed.profile;
  if (!newProfile) throw invalidProfileError(parsed.issues);
  // A deleted profile whose data was kept: restoring over it is what brings it back.
  const overDeleted = fs.existsSync(layout.profileFile(manifest.profileId)) ? '' : ` Or, as ${manifest.profileId} has no profile file now (deleted, its data kept?), bring it back where it was by restoring without --as-new ("envprofiles restore ${manifest.backupId}"): what is there now is backed up first.`;
  for (const written of Object.values(databases)) {
    if (fs.existsSync(layout.resolve(written))) throw new EnvProfilesError('TARGET_EXISTS', `${written} already exists; nothing was changed.`, { kind: 'refused', file: written, hint: `Choose another id for --as-new.${overDeleted}` });
    refuseNewDatabaseAtOutput(layout, config, written, 'Choose another id for --as-new.');
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
  if (dataFolder.note) notes.push(dataFolder.note);
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
    const writes = [
      ...records.map((r) => ({ kind: 'database' as const, name: r.logicalName, path: databases[r.logicalName], exists: false })),
      { kind: 'profile file' as const, name: 'profile file', path: layout.relative(layout.profileFile(id)), exists: false },
    ];
    return { ...result, durationMs: performance.now() - started, plan: { writes, safetyBackupFirst: false, wouldRefuse, ...verification } };
  }
  try {
    await withNewProfileJournal(context, { operation: 'create', source: manifest.backupId, target: id, newFiles: Object.values(databases).map((w) => layout.resolve(w)), profileText: profileDocumentText(parsed.document) }, async (claim) => {
      makeFolders(scratchDir, 0o700);
      try {
        for (const r of records) {
          const target = layout.resolve(databases[r.logicalName]);
          makeFolderAsItsParent(path.dirname(target));
          const incoming = temporaryPathFor(target);
          try {
            await rebuildDatabase(chain, r.logicalName, incoming, scratchDir, { wholeSha256: false, durable: true, watch: watchStep(context, `Rebuilding ${r.logicalName}`), createMode: restoredPermissions(target, r) });
            takeOwnerOfFolder(incoming, path.dirname(target));
            claim(incoming, target);
            if (!commitNewFile(incoming, target)) throw madeMeanwhileError(databases[r.logicalName]);
          } finally {
            fs.rmSync(incoming, { force: true });
          }
        }
      } finally {
        fs.rmSync(scratchDir, { recursive: true, force: true });
      }
    });
  } catch (error) {
    if (!isOutOfSpace(error)) throw error;
    throw outOfSpaceError(operation, [...new Set(Object.values(databases).map((w) => path.dirname(layout.resolve(w))))], error, `The databases restored so far were removed and no profile ${id} was created.`);
  }
  appendAudit(context, { event: 'restore', profile: id, outcome: 'ok', detail: `as a new profile from ${manifest.backupId}` });
  return { ...result, durationMs: performance.now() - started };
}
