import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeRefusal } from './folderProbe';
import { requireWritableFolders } from './folderAccess';
import { readActiveState } from './activeState';
import { appendAudit, auditingUnfinished } from './auditLog';
import { confirmationRequiredError, refuseMisdirectedConfirmation } from './misdirectedConfirmation';
import { holdsDataExactly, newestFirst, readCatalog, type CatalogEntry } from './backup/backupCatalog';
import { BackupLayout, backupIdTime } from './backup/backupLayout';
import { chainFault, chainFaultWords, changedSinceVerified } from './backup/verifiedArchives';
import { backupsElsewhere, backupsElsewhereInWords } from './backup/backupsElsewhere';
import { heldDisagreement } from './backup/catalogRecordCheck';
import { heldDatabase, refuseIfHeld } from './databaseInUse';
import { RefusalChecks } from './dryRunRefusals';
import { databaseFileProblem } from './sqlite/sqliteHeader';
import { EnvProfilesError } from './errors';
import { localTimeZone, localTimestamp } from './localTime';
import { isProtected, type Profile } from './profileModel';
import { loadProfile } from './profileStore';
import { realLocation } from './pathSafety';
import { databaseWriteStamp } from './sqlite/fileStamp';
import { databasesOfOtherProfiles } from './pathOwners';
import { workspaceConfigFor, type WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import { requireInitialised } from './workspaceInit';
import { withWorkspaceLock } from './workspaceSession';
import { databaseFilesToRemove, deleteProfileFiles, type FilesToDelete } from './profileDeletionJournal';
import { counted } from './counted';
import { joinedNotes } from './joinedNotes';

export interface DeleteRequest {
  id: string;
  confirmedId?: string;
  /** Also delete the database files (kept by default). */
  deleteData?: boolean;
  /** Say what the delete would do and what would refuse it now, and change nothing. */
  dryRun?: boolean;
}

export interface DeleteResult {
  id: string;
  /** The backup that covers the profile (absent only from a dry run that would be refused for want of one). */
  coveredBy?: string;
  /** The files deleted (a dry run: that would be). */
  deletedFiles: string[];
  keptFiles: string[];
  /** What the user should know, one sentence each: the covering backup failed verification only because of problems the data already had, a database file was kept because another profile uses it, a link was followed, data could not all be removed. */
  notes: string[];
  /** The notes in one line (kept for scripts that read it; absent when there are none). */
  note?: string;
  /** Set by a dry run: what would refuse the delete now (each as its error says it), and the id to confirm a protected profile with. */
  plan?: { wouldRefuse: string[]; confirmationNeeded?: string };
}

/**
 * A backup that left databases out covers the profile only while their files are still missing (then
 * nothing of them can be lost), or when it kept them as found (raw copies of a damaged database, taken
 * after the last change like the rest, so they are the files as they are now); one left out for another
 * reason (locked) covers nothing. Nor does one that does not name a database of the profile whose file
 * exists: one added since with its old times, or a damaged one a restore left as it was, which its
 * safety backup did not name before it named it as left out (delete --delete-data then removed that
 * file, kept nowhere).
 */
function leftOutHeld(context: WorkspaceContext, entry: CatalogEntry, profile: Profile): boolean {
  return notHeld(context, entry, profile).length === 0 && unnamed(context, entry, profile).length === 0;
}

/** The databases `entry` left out whose files exist now and that it did not keep as found. */
function notHeld(context: WorkspaceContext, entry: CatalogEntry, profile: Profile): string[] {
  return leftOutPresent(context, entry, profile).filter((logical) => !entry.keptAsFound?.includes(logical));
}

/** The databases of the profile whose files exist now and that `entry` neither holds nor names as left out. */
function unnamed(context: WorkspaceContext, entry: CatalogEntry, profile: Profile): string[] {
  return Object.entries(profile.databases)
    .filter(([logical, written]) => !entry.databases.includes(logical) && !(entry.leftOut ?? []).includes(logical) && fs.existsSync(context.layout.resolve(written)))
    .map(([logical]) => logical);
}

/** The databases `entry` left out whose files exist now. */
function leftOutPresent(context: WorkspaceContext, entry: CatalogEntry, profile: Profile): string[] {
  return (entry.leftOut ?? []).filter((logical) => {
    const written = profile.databases[logical];
    return written !== undefined && fs.existsSync(context.layout.resolve(written));
  });
}

/**
 * The last time the profile or any of its data may have changed: the newest mtime of its file,
 * databases and their non-empty -wal, taken as late as it may have been: Linux stamps files from a
 * clock that moves once a tick (up to 10 ms behind the time a backup reads), so 10 ms are added; a time
 * in whole seconds comes from a file system that keeps no finer ones (FAT keeps 2 s), so 2 s are added.
 */
function lastChange(context: WorkspaceContext, file: string, databases: string[]): Date {
  let newest = 0;
  for (const candidate of [file, ...databases.flatMap((written) => ['', '-wal'].map((suffix) => `${context.layout.resolve(written)}${suffix}`))]) {
    let stat: fs.BigIntStats;
    try {
      stat = fs.statSync(candidate, { bigint: true });
    } catch {
      continue; // Missing files have nothing newer to say.
    }
    // Any connection to a WAL database makes an empty -wal when there is none (a backup's too): it holds no change.
    if (candidate.endsWith('-wal') && stat.size === 0n) continue;
    const coarse = stat.mtimeNs % 1_000_000_000n === 0n;
    newest = Math.max(newest, Number(stat.mtimeNs / 1_000_000n) + (coarse ? 2000 : 10));
  }
  return new Date(newest);
}

/** "The backups folder … mount it. " before a hint, when the folder shows none of its backups (see BackupLayout.absence). */
function absenceFirst(absence: string | undefined): string {
  return absence ? `${absence.charAt(0).toUpperCase()}${absence.slice(1)}. ` : '';
}

/**
 * The newest backup that covers everything delete would remove: it holds its data exactly (see
 * holdsDataExactly), it was taken after the profile's last change, and not while the clock was ahead;
 * a database it left out must still be missing. Otherwise NEEDS_BACKUP, saying how to make one.
 */
async function requireCoveringBackup(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, file: string, dryRun: boolean): Promise<CatalogEntry> {
  const { layout } = context;
  const changed = lastChange(context, file, Object.values(profile.databases));
  const now = context.now().getTime();
  const backups = new BackupLayout(layout, config);
  const entries = readCatalog(backups, profile.id);
  const listed = new Map(entries.map((e) => [e.id, e]));
  // A backup dated after now was taken while the clock was ahead: its date cannot show that it
  // followed the last change (a change made since the clock was put right would look older).
  const futureDated = entries.filter((e) => Date.parse(e.createdAt) > now);
  const candidates = entries
    // Taken after the change: a backup's time is that of its start, before its snapshots.
    // A backup whose verification failed only because of the data's own problems (orphan rows of an
    // application that never turns foreign keys on, say) holds that data exactly: it covers it too.
    .filter((e) => holdsDataExactly(e) && takenAt(e) > changed.getTime() && !futureDated.includes(e) && leftOutHeld(context, e, profile))
    .sort(newestFirst);
  // It covers the profile only while its archive, and those of its chain, are the ones verified: one
  // gone or damaged on the disk since would leave data deleted with nothing that restores it.
  const unrestorable: string[] = [];
  for (const candidate of candidates) {
    const changedSince = await changedSinceVerified(backups, profile.id, candidate, listed);
    if (changedSince !== undefined) {
      unrestorable.push(`${candidate.id}, verified, cannot be restored now: ${changedSince}`);
      continue;
    }
    // The archive is the one verified, so its manifest says what the backup holds and when it was taken.
    const disagreement = await heldDisagreement(backups, profile.id, candidate);
    if (disagreement === undefined) return candidate;
    unrestorable.push(`${candidate.id}, verified, but its catalog record is not what its archive says (${disagreement}; envprofiles backups ${profile.id} --rebuild-catalog makes the catalog match)`);
  }
  const missingNow = Object.values(profile.databases).filter((written) => !fs.existsSync(layout.resolve(written)));
  // People read local time; the zone is named, as the catalog and JSON keep UTC.
  const zone = localTimeZone();
  const clock = futureDated.length > 0 ? ` (${futureDated.length === 1 ? `backup ${futureDated[0].id} is` : `${futureDated.length} backups are`} dated after now, ${localTimestamp(new Date(now).toISOString(), zone)}: taken while the clock was ahead, ${futureDated.length === 1 ? 'it does' : 'they do'} not count)` : '';
  const newestSound = entries.filter((e) => holdsDataExactly(e) && !futureDated.includes(e)).sort(newestFirst)[0];
  const newestAfterChange = newestSound && takenAt(newestSound) > changed.getTime() ? newestSound : undefined;
  const unheld = newestAfterChange ? notHeld(context, newestAfterChange, profile) : [];
  const unheldToo = newestAfterChange ? unnamed(context, newestAfterChange, profile) : [];
  // Older than the change, it would not do anyway; but one that cannot be restored either is said so.
  const fault = newestSound ? chainFault(newestSound, listed) : undefined;
  const unrestorableToo = fault ? ` (nor can it be restored: its chain ${chainFaultWords(fault)})` : '';
  const newest = newestSound
    ? `; its newest verified backup, ${newestSound.id}, is from ${localTimestamp(takenIso(newestSound), zone)}${sameSecondBefore(takenIso(newestSound), changed, zone)}${laterInCatalog(newestSound, zone)}${unrestorableToo}${lacking(unheld, unheldToo)}`
    : entries.length > futureDated.length
      ? `; none of its ${counted(entries.length - futureDated.length, 'backup')} is verified`
      : entries.length === 0
        ? '; it has no backups'
        : '';
  const damagedNow = Object.entries(profile.databases).filter(([, written]) => isDamagedFile(layout.resolve(written))).map(([logical]) => logical);
  const skipMissing = missingNow.length > 0 ? ` (${missingNow.join(', ')} ${missingNow.length === 1 ? 'does' : 'do'} not exist: --skip-missing backs up the rest, and such a backup covers the profile while ${missingNow.length === 1 ? 'it stays' : 'they stay'} missing.)` : '';
  const keepDamaged = damagedNow.length > 0 ? ` (${damagedNow.join(', ')} ${damagedNow.length === 1 ? 'is' : 'are'} damaged: --keep-damaged keeps ${damagedNow.length === 1 ? 'its file' : 'their files'} in the backup as found, which a restore does not write back.)` : '';
  if (unrestorable.length > 0) {
    throw new EnvProfilesError('NEEDS_BACKUP', `Profile "${profile.id}" has no verified backup newer than its last change (${localTimestamp(changed.toISOString(), zone)}, ${zone} time) that can be restored now: ${unrestorable.join('; ')}. So it ${dryRun ? 'cannot be deleted now' : 'was not deleted'}.`, {
      kind: 'refused',
      hint: `${unwritableFirst(backups, profile.id)}Make one and verify it: envprofiles backup ${profile.id} --full --verify; then delete again. ("envprofiles verify <id>" says what is wrong with a backup.)`,
      nextStep: { action: 'backup', profileId: profile.id },
    });
  }
  throw new EnvProfilesError('NEEDS_BACKUP', `Profile "${profile.id}" has no verified backup newer than its last change (${localTimestamp(changed.toISOString(), zone)}, ${zone} time)${newest}${clock}, so it ${dryRun ? 'cannot be deleted now' : 'was not deleted'}.`, {
    kind: 'refused',
    hint: `${absenceFirst(backups.absence())}${unwritableFirst(backups, profile.id)}Make one and verify it: envprofiles backup ${profile.id} --full --verify${missingNow.length > 0 ? ' --skip-missing' : ''}${damagedNow.length > 0 ? ' --keep-damaged' : ''}; then delete again.${skipMissing}${keepDamaged}${elsewhereLast(backups, profile.id)}`,
    nextStep: { action: 'backup', profileId: profile.id },
  });
}

/** ", but it left out A and does not hold B, which exist now": what the newest verified backup lacks of the data there now. */
function lacking(leftOut: string[], unnamedToo: string[]): string {
  const lacks = [leftOut.length > 0 ? `left out ${leftOut.join(', ')}` : '', unnamedToo.length > 0 ? `does not hold ${unnamedToo.join(', ')}` : ''].filter(Boolean);
  return lacks.length === 0 ? '' : `, but it ${lacks.join(' and ')}, which ${leftOut.length + unnamedToo.length === 1 ? 'exists' : 'exist'} now`;
}

/**
 * When a backup was taken, at the latest: its time in the catalog, or the one its id was stamped with
 * when that is earlier. A catalog edited or merged by hand must not make an older backup cover a later
 * change (a later createdAt made delete remove data that no backup held). Honest entries have the
 * same two times (an id taken by another backup that millisecond is stamped a little later).
 */
function takenAt(entry: CatalogEntry): number {
  return Math.min(Date.parse(entry.createdAt), backupIdTime(entry.id) ?? Number.POSITIVE_INFINITY);
}

function takenIso(entry: CatalogEntry): string {
  return new Date(takenAt(entry)).toISOString();
}

/** " (its catalog entry gives it a later time, …)": said when the catalog's time is not the one that counted. */
function laterInCatalog(entry: CatalogEntry, zone: string): string {
  // An honest entry's time is never after its id's stamp (a bumped id is stamped later, not earlier).
  return Date.parse(entry.createdAt) > takenAt(entry) ? ` (its catalog entry gives it a later time, ${localTimestamp(entry.createdAt, zone)}, than its id: the time of the id counts)` : '';
}

/**
 * ", a moment before that change": both times read the same to the second (a restore changes the
 * databases right after its safety backup), which would otherwise read as a backup not older at all.
 */
function sameSecondBefore(createdAt: string, changed: Date, zone: string): string {
  const taken = Date.parse(createdAt);
  return taken <= changed.getTime() && localTimestamp(createdAt, zone) === localTimestamp(changed.toISOString(), zone) ? ', a moment before that change' : '';
}

/** " (…/.envprofiles/backups holds 2 backups of it: …)": backups in a folder backups.directory no longer sets do not count. */
function elsewhereLast(backups: BackupLayout, profileId: string): string {
  const found = backupsElsewhere(backups).filter((elsewhere) => elsewhere.backups[profileId] !== undefined);
  return found.map((elsewhere) => ` (${backupsElsewhereInWords({ ...elsewhere, backups: { [profileId]: elsewhere.backups[profileId] } })}: backups.directory no longer sets that folder, so ${elsewhere.backups[profileId].length === 1 ? 'it does' : 'they do'} not count; "envprofiles backups" says how to move ${elsewhere.backups[profileId].length === 1 ? 'it' : 'them'}.)`).join('');
}

/** A file whose header says it is no (whole) SQLite database: what `backup --keep-damaged` keeps as found. */
function isDamagedFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile() && databaseFileProblem(file) !== undefined;
  } catch {
    return false; // Missing or unreadable: not what --keep-damaged is for.
  }
}

/** When the profile's backups folder cannot be written (a read-only disk), what must change before a backup can be made and verified there. */
function unwritableFirst(backups: BackupLayout, profileId: string): string {
  const refusal = writeRefusal(backups.profileDir(profileId));
  if (!refusal) return '';
  return `The backups folder cannot take a backup, nor record a verification: ${refusal.existing} ${refusal.readOnly ? 'is on a read-only file system' : 'is not writable'}. Set backups.directory in .envprofiles/config.yaml to a writable folder first. `;
}

/**
 * Deletes a profile, only when a backup covers it (requireCoveringBackup; the result says when that
 * backup keeps problems its data had). PRODUCTION and protected profiles need the typed id; the active
 * profile cannot be deleted. Database files are kept unless `deleteData`; backups are always kept.
 * With `dryRun` nothing is changed: the result says what would be deleted and kept, and `plan` what
 * would refuse the delete now.
 */
export async function deleteProfile(context: WorkspaceContext, request: DeleteRequest): Promise<DeleteResult> {
  requireInitialised(context.layout);
  // Refused (no covering backup, the active profile, no confirmation, a database open) or failed: in the
  // audit log too (before, only a refusal for want of a backup was, and a failure to remove data).
  const described = { profile: request.id, what: request.deleteData ? 'with its data' : undefined, dryRun: request.dryRun };
  return withWorkspaceLock(context, `delete ${request.id}`, () => auditingUnfinished(context, 'delete', () => described, () => deleteWithinLock(context, request)));
}

async function deleteWithinLock(context: WorkspaceContext, request: DeleteRequest): Promise<DeleteResult> {
  const { layout } = context;
  const config = workspaceConfigFor(context);
  const { profile, file } = loadProfile(layout, config, request.id);
  const dryRun = request.dryRun === true;
  if (!isProtected(profile)) refuseMisdirectedConfirmation(request.confirmedId, profile.id, 'this deletes');
  // A dry run goes on past what would refuse the delete now, to show the whole plan, and says what would.
  const refusals = new RefusalChecks(dryRun);
  // Looked at before the covering backup is judged: a program seen with a database open is looked at
  // again for up to 1.5 s, and what it writes before it closes is a change that backup must be newer than.
  const databases = Object.entries(profile.databases).map(([logicalName, written]) => ({ logicalName, file: layout.resolve(written), written }));
  const held = request.deleteData ? await heldDatabase(context.engine, databases) : undefined;
  refusals.check(() => {
    if (readActiveState(layout).active === profile.id) {
      throw new EnvProfilesError('PROFILE_ACTIVE', `Profile "${profile.id}" is the active profile and cannot be deleted.`, { kind: 'refused', hint: 'Switch to another profile first.' });
    }
  });
  const covering = await refusals.checkAsync(() => requireCoveringBackup(context, config, profile, file, dryRun));
  // What each database was when that backup was judged to cover it: looked at again once its files are aside (not in a dry run, which removes nothing).
  const stampsWhenCovered = new Map(request.deleteData && !dryRun ? databases.map(({ file: database }) => [database, databaseWriteStamp(realLocation(database))]) : []);
  const confirmationNeeded = isProtected(profile) && request.confirmedId !== profile.id ? profile.id : undefined;
  if (confirmationNeeded && !dryRun) {
    throw confirmationRequiredError(`Profile "${profile.id}" is ${profile.type === 'PRODUCTION' ? 'PRODUCTION' : 'protected'}; deleting it needs confirmation.`, profile.id, request.confirmedId, `Repeat with --confirm ${profile.id}.`);
  }
  if (request.deleteData) refusals.check(() => refuseIfHeld(held, `deleting ${profile.id} with its data`));
  const deletedFiles = [layout.relative(file)];
  const keptFiles: string[] = [];
  const notes: string[] = [];
  // A database file another profile also uses is that profile's data too: --delete-data keeps it.
  const usedElsewhere = request.deleteData ? databasesOfOtherProfiles(context, profile.id) : new Map<string, string>();
  // Every folder a file is removed from can be written (before, on a read-only disk the profile file
  // went, then removing its data failed as "a bug").
  const dataFolders = request.deleteData
    ? Object.values(profile.databases).filter((written) => !usedElsewhere.has(realLocation(layout.resolve(written)))).flatMap((written) => [path.dirname(layout.resolve(written)), path.dirname(realLocation(layout.resolve(written)))])
    : [];
  refusals.check(() => requireWritableFolders(`Deleting ${profile.id}${request.deleteData ? ' with its data' : ''}`, [path.dirname(file), ...dataFolders], request.deleteData ? 'To delete the profile and keep its data, leave out --delete-data; to delete the data too, make that folder writable first.' : undefined));
  const toRemove: FilesToDelete['databases'] = [];
  for (const [logicalName, written] of Object.entries(profile.databases)) {
    const sharedWith = usedElsewhere.get(realLocation(layout.resolve(written)));
    if (request.deleteData && !sharedWith) {
      // A path that is a symbolic link leads to the database: removing the link alone left the data
      // (and SQLite's -wal and -shm, which sit beside the file the link leads to) where it was.
      const files = [...new Set([realLocation(layout.resolve(written)), layout.resolve(written)])];
      toRemove.push({ logicalName, written, file: files[0], files: files.flatMap(databaseFilesToRemove), stampWhenCovered: stampsWhenCovered.get(layout.resolve(written)) ?? 'not taken' });
      deletedFiles.push(written);
      if (files.length > 1) {
        deletedFiles.push(layout.relative(files[0]));
        notes.push(`${written} is a symbolic link: the database it leads to, ${layout.relative(files[0])}, ${dryRun ? 'would be' : 'was'} removed with it`);
      }
    } else {
      keptFiles.push(written);
      if (sharedWith) notes.push(`${written} ${dryRun ? 'would be' : 'was'} kept: it is also the database of ${sharedWith}`);
    }
  }
  if (!dryRun) {
    if (toRemove.length === 0) fs.rmSync(file);
    else {
      let notRemoved: string[];
      const deleted = await deleteProfileFiles(context, { profileId: profile.id, profileFile: file, databases: toRemove });
      notRemoved = deleted.notRemoved;
      deletedFiles.push(...deleted.emptiedFolders.map((folder) => `${layout.relative(folder)}/`));
      if (notRemoved.length > 0) notes.push(`the profile is deleted, but not all of its data: ${notRemoved.join('; ')}; remove what is left by hand`);
    }
  }
  const dataNote = !covering || covering.verified?.ok ? undefined : `${covering.id} holds the data exactly as it was backed up, but that data already had problems, which it keeps: ${covering.verified?.detail}`;
  const keptRaw = covering ? leftOutPresent(context, covering, profile) : [];
  const rawNote = covering && keptRaw.length > 0 ? `${keptRaw.join(', ')} ${keptRaw.length === 1 ? 'is' : 'are'} in ${covering.id} only as found, damaged, byte for byte: a restore does not bring ${keptRaw.length === 1 ? 'it' : 'them'} back ("unzip -p" takes the files out of the archive, under damaged/)` : undefined;
  const allNotes = [dataNote, rawNote, ...notes].filter((n) => n !== undefined);
  const note = joinedNotes(allNotes);
  const result = { id: profile.id, ...(covering ? { coveredBy: covering.id } : {}), deletedFiles, keptFiles, notes: allNotes, ...(note ? { note } : {}) };
  if (dryRun) return { ...result, plan: { wouldRefuse: refusals.wouldRefuse, ...(confirmationNeeded ? { confirmationNeeded } : {}) } };
  appendAudit(context, { event: 'delete', profile: profile.id, outcome: 'ok', detail: `covered by ${covering?.id}${dataNote ? ' (its data had problems when backed up)' : ''}${request.deleteData ? '; data deleted' : '; data kept'}` });
  return result;
}
