import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AllBackupsJson, BackupJson } from '../cli/commands/backupCommand';
import { pruneBackups } from '../core/backup/backupPruning';
import { pruneVerificationText } from '../core/backup/pruneVerification';
import { hasRules, keepRulesText, reasonsText } from '../core/backup/retentionPolicy';
import { restoreBackup } from '../core/backup/backupRestore';
import { restoredWhat, type RestoreResult } from '../core/backup/restoreRequest';
import { formatSize } from '../core/diskSpace';
import { EnvProfilesError } from '../core/errors';
import { rebuildCatalog } from '../core/backup/catalogRebuild';
import { requireVerified, type VerificationResult } from '../core/backup/backupVerification';
import { isProtected } from '../core/profileModel';
import type { FolderModel } from '../folderModel';
import { COMMANDS } from './commandIds';
import { requireTrust, withOperationProgress } from './commandRunner';
import { runInChildProcess } from './childOperation';
import { sortFailedVerifications } from './verifyAllCommand';
import type { BackupFailure } from '../core/backup/profileFailure';
import { onLocalClock } from '../core/localTime';
import { UserCancelled, type CommandServices } from './commandServices';
import { argumentsOf, askToTypeId, resolveBackup, resolveBackupOwner, resolveProfile } from './commandTargets';
import { pickDatabaseToRestore } from './databaseToRestore';
import { counted } from '../core/counted';

function summary(backup: BackupJson): string {
  return `Backed up ${backup.profileId}: ${backup.kind}, ${formatSize(backup.sizeBytes)}, ${(backup.durationMs / 1000).toFixed(1)} s${backup.note ? ` (${backup.note})` : ''}.`;
}

/** A backup, in a child process (see runInChildProcess); `flags`: --skip-missing, --keep-damaged. */
function backUpInChild(services: CommandServices, folder: FolderModel, title: string, profileId: string, kind: 'full' | 'incremental', reason: string, flags: string[] = []): Promise<BackupJson> {
  return runInChildProcess<BackupJson>(services, folder, title, ['backup', profileId, `--${kind}`, '--reason', reason, ...flags]);
}

/**
 * A verification, in a child process; throws when the backup is not sound. With `acceptDataProblems`,
 * a backup that failed only because of its data (the archive holds that data exactly) is accepted.
 */
async function verifyInChild(services: CommandServices, folder: FolderModel, reference: string, acceptDataProblems = false): Promise<VerificationResult> {
  const result = await runInChildProcess<VerificationResult>(services, folder, `Verifying ${path.basename(reference, '.zip')}`, ['verify', reference]);
  if (!result.ok) {
    const dataOnly = acceptDataProblems && result.archiveSound;
    for (const problem of result.problems) services.log[dataOnly ? 'warn' : 'error'](`verify ${result.backupId}: ${problem}`);
    for (const id of result.alsoFailed ?? []) services.log.error(`verify ${result.backupId}: recorded as FAILED too: ${id}, which it builds on: its archive changed since it was written`);
    if (!dataOnly) requireVerified(result);
  }
  return result;
}

/** Used by delete when no verified backup covers the profile: delete accepts a backup whose only problems are its data's. */
export async function backUpAndVerify(services: CommandServices, folder: FolderModel, profileId: string): Promise<void> {
  // A database file that is gone has nothing to lose: the backup before a delete holds the rest, and a
  // damaged one as it is (a restore does not bring that back; the delete's note says so).
  const backup = await backUpInChild(services, folder, `Backing up ${profileId}`, profileId, 'full', 'before-delete', ['--skip-missing', '--keep-damaged']);
  await verifyInChild(services, folder, backup.id, true);
}

export async function backupCommand(services: CommandServices, target: unknown, kind: 'full' | 'incremental'): Promise<string> {
  requireTrust('backing up');
  const { folder, profile } = await resolveProfile(services, target, `Back up which profile (${kind})?`);
  // Asked by the button on a backup refused for a damaged database.
  const keepDamaged = argumentsOf(target).keepDamaged === true;
  const backup = await backUpInChild(services, folder, `Backing up ${profile.name} (${kind})`, profile.id, kind, 'manual', keepDamaged ? ['--keep-damaged'] : []);
  services.log[backup.leftOut ? 'warn' : 'info'](`${summary(backup)} ${backup.archive}`);
  // A backup without every database (one damaged, kept as found) is a warning, as the emergency backup's is.
  const shown = backup.leftOut ? vscode.window.showWarningMessage(summary(backup), 'Verify') : vscode.window.showInformationMessage(summary(backup), 'Verify');
  void shown.then((choice) => {
    if (choice === 'Verify') void vscode.commands.executeCommand('envProfiles.verifyBackup', { folder: folder.folder.uri.fsPath, backupId: backup.id });
  });
  return backup.id;
}

/** Every profile of every initialised folder at once. */
export async function emergencyBackupCommand(services: CommandServices): Promise<number> {
  requireTrust('backing up');
  let count = 0;
  const failures: string[] = [];
  const leftOut: string[] = [];
  for (const folder of services.model.initialised()) {
    const result = await runInChildProcess<AllBackupsJson>(services, folder, `Emergency backup of every profile in ${folder.name}`, ['backup', '--all', '--reason', 'emergency']);
    count += result.backups.length;
    failures.push(...result.failures.map((f) => `${f.profileId}: ${f.message}${f.hint ? ` ${f.hint}` : ''}`));
    leftOut.push(...result.backups.flatMap((b) => (b.leftOut ?? []).map((l) => `${b.profileId}: ${l.logicalName} was left out: ${l.reason}`)));
    // Saved by its databases: list although its profile file does not validate: a warning, like a left-out database.
    leftOut.push(...result.backups.filter((b) => result.brokenProfileFiles.includes(b.profileId)).map((b) => `${b.profileId}: ${b.note ?? 'its profile file does not validate'}`));
  }
  for (const failure of failures) services.log.error(`emergency backup: ${failure}`);
  for (const line of leftOut) services.log.warn(`emergency backup: ${line}`);
  const without = leftOut.length > 0 ? `, with ${counted(leftOut.length, 'problem')} to look at (${leftOut[0]})` : '';
  if (failures.length > 0) throw new Error(`Emergency backup: ${counted(count, 'profile')} backed up${without}, ${failures.length} failed (${failures[0]}).`);
  if (leftOut.length > 0) {
    void vscode.window.showWarningMessage(`Emergency backup: ${counted(count, 'profile')} backed up${without}. See the log.`, 'Show Log').then((c) => c && services.log.show());
  } else void vscode.window.showInformationMessage(count > 0 ? `Emergency backup: ${counted(count, 'profile')} backed up.` : 'Emergency backup: there are no profiles to back up. Create one first (Environment Profiles: Create Profile…).');
  return count;
}

export async function verifyBackupCommand(services: CommandServices, target: unknown): Promise<boolean> {
  requireTrust('verifying');
  const { folder, backup } = await resolveBackup(services, target);
  const result = await verifyInChild(services, folder, backup.reference);
  const kept = result.notRecorded ? ` Not recorded: ${result.notRecorded}` : '';
  void vscode.window.showInformationMessage(`Backup ${backup.id} is sound: ${counted(result.databases.length, 'database')} rebuilt and checked.${kept}`);
  return result.ok;
}

/** The restore confirmation's second button, for a backup that has not passed a verification. */
const VERIFY_THEN_RESTORE = 'Verify, Then Restore';

/** Restore over the profile, as a new profile, or one database; a modal confirmation first, typed id for protected profiles. */
export async function restoreBackupCommand(services: CommandServices, target: unknown, mode: 'over' | 'as-new' | 'database'): Promise<string> {
  requireTrust('restoring');
  const { folder, backup } = await resolveBackup(services, target);
  const args = argumentsOf(target);
  let asNew: string | undefined;
  let database: string | undefined;
  let confirmedId: string | undefined;
  if (mode === 'as-new') {
    asNew = args.newId ?? (await vscode.window.showInputBox({ prompt: 'Id of the new profile', value: `${backup.profileId}_restored`, ignoreFocusOut: true }));
    if (!asNew) throw new UserCancelled();
  } else {
    if (mode === 'database') {
      database = args.database ?? (await pickDatabaseToRestore(folder, backup));
    }
    const profile = folder.profile(backup.profileId);
    if (!args.backupId && !args.archive) {
      // The confirmation says exactly what the restore will replace and what it will say (a dry run).
      const { plan, notes, databases } = await withOperationProgress(folder, `Reading what restoring ${backup.id} would replace`, (context) => restoreBackup(context, { reference: backup.reference, database, dryRun: true }));
      if (plan && plan.wouldRefuse.length > 0) throw new Error(plan.wouldRefuse[0]);
      // Named as the profile names it now: a database renamed since the backup is restored under that name.
      const nameNow = databases.length === 1 ? databases[0] : database;
      const what = database ? `the database "${nameNow}"${nameNow !== database ? ` (named "${database}" in the backup)` : ''} of ${backup.profileId}` : `${backup.profileId}`;
      const replaces = plan ? `It replaces ${plan.writes.map((w) => w.path).join(', ')}.` : '';
      // One bullet each, as written: a note may begin with a database's name or a path, which must keep its case.
      const told = notes.length > 0 ? `\n\n${notes.map((n) => `• ${n}.`).join('\n')}` : '';
      const safety = plan?.safetyBackupFirst ? 'The current state is backed up first, and that safety backup verified.' : 'There is no current state to back up first.';
      // The dry run read only the manifest: a backup never verified can be, before anything is touched.
      const doubt = !plan ? undefined : plan.notVerified ? (plan.listed ? 'This backup has not passed a verification' : 'This archive is not one the catalog lists, so no verification of it is on record') : plan.changedSinceVerified && `This backup passed a verification, but ${plan.changedSinceVerified}`;
      const unverified = doubt ? ` ${doubt}: the restore checks every entry before it replaces anything; "${VERIFY_THEN_RESTORE}" also rebuilds and checks each database (integrity_check, foreign_key_check) first, and restores only if it is sound.` : '';
      const answer = await vscode.window.showWarningMessage(`Restore ${what} from ${backup.reference === backup.id ? 'the backup' : `the archive ${path.basename(backup.reference)}, a backup`} of ${onLocalClock(new Date(backup.createdAt))}?`, { modal: true, detail: `${replaces} ${safety}${unverified}${told}` }, 'Restore', ...(doubt ? [VERIFY_THEN_RESTORE] : []));
      // A backup that is not sound stops here, with the verification's error: nothing is restored.
      if (answer === VERIFY_THEN_RESTORE) services.log.info(`verify ${backup.id}: ${counted((await verifyInChild(services, folder, backup.reference)).databases.length, 'database')} rebuilt and checked; restoring`);
      else if (answer !== 'Restore') throw new UserCancelled();
    }
    if (profile && isProtected(profile)) confirmedId = await askToTypeId(profile.id, `Restoring over "${profile.name}" (${profile.type}) replaces its data. Type its id to continue.`, args.confirm);
  }
  const restore = (confirmed: string | undefined) => withOperationProgress(folder, `Restoring ${backup.id}`, (context) => restoreBackup(context, { reference: backup.reference, asNew, database, confirmedId: confirmed }));
  let result: RestoreResult;
  try {
    result = await restore(confirmedId);
  } catch (error) {
    // A deleted profile is not in the model: that it is protected shows only now (from its backup).
    if (!(error instanceof EnvProfilesError) || error.code !== 'CONFIRMATION_REQUIRED' || confirmedId !== undefined) throw error;
    result = await restore(await askToTypeId(backup.profileId, `${error.message} Type ${backup.profileId} to continue.`, args.confirm));
  }
  const notes = result.notes.length ? ` ${result.notes.join('; ')}.` : '';
  void vscode.window.showInformationMessage(`Restored ${restoredWhat(result)} of ${result.profileId} in ${(result.durationMs / 1000).toFixed(1)} s.${result.safetyBackup ? ` The previous state is in ${result.safetyBackup}${result.safetyBackupVerified ? ' (verified)' : ''}.` : ''}${notes}`);
  return result.profileId;
}

/** Prune: shows the dry run first (every backup, keep or delete, and why), then deletes on confirmation. */
export async function pruneBackupsCommand(services: CommandServices, target: unknown): Promise<string[]> {
  requireTrust('pruning');
  const owner = await resolveBackupOwner(services, target, 'Prune the backups of which profile?');
  const { folder } = owner;
  const profile = { id: owner.profileId, name: owner.name };
  const dry = await withOperationProgress(folder, `Deciding what to prune for ${profile.name}`, (context) => pruneBackups(context, profile.id, true));
  if (dry.rulesFrom) services.log.info(`prune ${profile.id}: the profile file is gone; its keep rules come from its newest backup, ${dry.rulesFrom}`);
  for (const earlier of dry.earlierProfiles ?? []) services.log.info(`prune ${profile.id}: the ${counted(earlier.backups, 'backup')} of an earlier profile with this id${earlier.createdAt ? ` (created ${earlier.createdAt})` : ''} ${earlier.backups === 1 ? 'is' : 'are'} decided by ${earlier.hasRules ? `that profile's keep rules, from ${earlier.rulesFrom}` : `no rules (${earlier.rulesFrom} holds no readable copy of that profile): all are kept`}`);
  const doomed = dry.decisions.filter((d) => d.action === 'delete');
  for (const note of dry.notes) services.log.warn(`prune ${profile.id}: ${note}`);
  for (const d of dry.decisions) services.log.info(`prune ${profile.id}: ${d.action} ${d.id} — ${reasonsText(d.reasons)}`);
  if (doomed.length === 0) {
    const all = dry.decisions.length === 1 ? 'its one backup' : `all ${dry.decisions.length} backups`;
    // Without rules, nothing is ever pruned: said so, with where they are set (before: "the keep rules keep all").
    const message = !hasRules(dry.keepRules)
      ? `Nothing to prune for ${profile.name}: it has no keep rules, so ${all} ${dry.decisions.length === 1 ? 'is' : 'are'} kept. Set them in its profile file (backup_schedule: retention_days, keep).`
      : `Nothing to prune for ${profile.name}: its keep rules (${keepRulesText(dry.keepRules)}) keep ${all}.`;
    // A misspelt rule is ignored, which may be why nothing goes: say so where it is seen.
    if (dry.notes.length > 0) void vscode.window.showWarningMessage(`${message} But ${dry.notes.join(' ')}`);
    else void vscode.window.showInformationMessage(message);
    return [];
  }
  if (!argumentsOf(target).confirm) {
    const items = dry.decisions.map((d) => ({ label: `${d.action === 'delete' ? '$(trash)' : '$(check)'} ${onLocalClock(new Date(d.createdAt))}`, description: `${d.kind} · ${d.action}`, detail: reasonsText(d.reasons) }));
    const warnings = [
      ...dry.notes.map((note) => ({ label: '$(warning) Check the profile first', description: 'note', detail: note })),
      ...dry.verifyFirst.map((note) => ({ label: '$(shield) Prune verifies first', description: 'note', detail: note })),
    ];
    const picked = await vscode.window.showQuickPick([...warnings, ...items, { label: `$(trash) Delete ${counted(doomed.length, 'backup')} (${formatSize(dry.freedBytes)})`, description: 'confirm', detail: 'The newest backup, the newest verified one and every backup a kept one depends on are never deleted.' }], { placeHolder: `Prune ${profile.name}: review the decisions, then choose the last line to delete` });
    if (!picked || picked.description !== 'confirm') throw new UserCancelled();
  }
  const result = await withOperationProgress(folder, `Pruning ${profile.name}`, (context) => pruneBackups(context, profile.id, false));
  for (const v of result.verifiedFirst) services.log.info(`prune ${profile.id}: verified before pruning: ${pruneVerificationText(v)}`);
  const verified = result.verifiedFirst.length > 0 ? ` It verified ${counted(result.verifiedFirst.length, 'backup')} first (the log says which and why).` : '';
  void vscode.window.showInformationMessage(`Pruned ${counted(result.deleted.length, 'backup')} of ${profile.name}, freed ${formatSize(result.freedBytes)}.${verified}`);
  return result.deleted;
}

/** Rebuilds a profile's catalog from its archives: what would change first, in the log and a modal, then the rebuild on confirmation. */
export async function rebuildBackupCatalogCommand(services: CommandServices, target: unknown): Promise<number> {
  requireTrust('rebuilding a backup catalog');
  const { folder, profile } = await resolveProfile(services, target, 'Rebuild the backup catalog of which profile?');
  const dry = await withOperationProgress(folder, `Reading the backup archives of ${profile.name}`, (context) => rebuildCatalog(context, profile.id, true));
  const changes = [
    dry.added.length && `list ${counted(dry.added.length, 'archive')} it does not list (not verified yet)`,
    dry.dropped.length && `drop ${dry.dropped.length} entr${dry.dropped.length > 1 ? 'ies' : 'y'} whose archive is gone`,
    dry.corrected.length && `re-read ${counted(dry.corrected.length, 'archive')} that changed (their verification is reset, but a failed one stays failed)`,
    dry.amended.length && `correct ${dry.amended.length} entr${dry.amended.length > 1 ? 'ies' : 'y'} that disagreed with ${dry.amended.length > 1 ? 'their archives' : 'its archive'} (kind, parent, chain or time; verification kept)`,
  ].filter((c): c is string => typeof c === 'string');
  for (const { file, reason } of dry.skipped) services.log.warn(`catalog of ${profile.id}: skipped ${file}: ${reason}`);
  for (const broken of dry.brokenChains) services.log.warn(`catalog of ${profile.id}: cannot be restored: ${broken}`);
  if (changes.length === 0 && !argumentsOf(target).confirm) {
    void vscode.window.showInformationMessage(`The backup catalog of ${profile.name} already matches its ${counted(dry.entries.length, 'archive')}.${dry.skipped.length ? ` ${counted(dry.skipped.length, 'file')} skipped: prune refuses while ${dry.skipped.length === 1 ? 'it is' : 'they are'} in the folder (the log says what to do with each).` : ''}`);
    return dry.entries.length;
  }
  if (!argumentsOf(target).confirm) {
    const detail = [`The catalog would ${changes.join('; ')}.`, dry.skipped.length ? `${dry.skipped.length === 1 ? '1 file is not a listable backup of this profile and is left alone; prune refuses while it is' : `${dry.skipped.length} files are not listable backups of this profile and are left alone; prune refuses while they are`} in the folder (the log says what to do with each).` : '', dry.brokenChains.length ? `${counted(dry.brokenChains.length, 'backup')} cannot be restored: ${dry.brokenChains[0]}.` : ''].filter(Boolean).join('\n');
    const answer = await vscode.window.showWarningMessage(`Rebuild the backup catalog of ${profile.name} from its ${counted(dry.entries.length, 'archive')}?`, { modal: true, detail }, 'Rebuild');
    if (answer !== 'Rebuild') throw new UserCancelled();
  }
  const result = await withOperationProgress(folder, `Rebuilding the backup catalog of ${profile.name}`, (context) => rebuildCatalog(context, profile.id, false));
  const rebuilt = `Rebuilt the backup catalog of ${profile.name}: ${counted(result.entries.length, 'backup')}.${result.unreadableCatalogMovedTo ? ` The unreadable catalog was kept as ${result.unreadableCatalogMovedTo}.` : ''}`;
  const unverified = result.entries.filter((e) => e.verified === null).length;
  if (unverified === 0) void vscode.window.showInformationMessage(rebuilt);
  else {
    void vscode.window.showInformationMessage(`${rebuilt} ${unverified} of them are not verified.`, 'Verify Them').then((choice) => {
      if (choice === 'Verify Them') void vscode.commands.executeCommand(COMMANDS.verifyUnverifiedBackups, { folder: folder.folder.uri.fsPath, profileId: profile.id });
    });
  }
  return result.entries.length;
}

/** Verifies every backup of a profile that was never verified (what a catalog rebuild leaves), oldest first, in a child process. Returns how many failed. */
export async function verifyUnverifiedBackupsCommand(services: CommandServices, target: unknown): Promise<number> {
  requireTrust('verifying');
  const { folder, profileId, name } = await resolveBackupOwner(services, target, 'Verify the unverified backups of which profile?');
  const { results, errors } = await runInChildProcess<{ results: VerificationResult[]; errors?: BackupFailure[] }>(services, folder, `Verifying the unverified backups of ${name}`, ['verify', '--unverified', profileId]);
  // A backup that could not be verified at all (its archive gone) is a failure too.
  const sorted = sortFailedVerifications(services, results, errors);
  const failed = [...sorted.failed, ...sorted.dataOnly];
  const checked = results.length + (errors?.length ?? 0);
  if (checked === 0) void vscode.window.showInformationMessage(`Every backup of ${name} has been verified already.`);
  else if (failed.length === 0) void vscode.window.showInformationMessage(`Verified ${counted(checked, 'backup')} of ${name}: all sound.`);
  else {
    void vscode.window.showWarningMessage(`Verified ${counted(checked, 'backup')} of ${name}: ${failed.length} FAILED (${failed.join(', ')}).`, 'Show Log').then((choice) => {
      if (choice === 'Show Log') services.log.show();
    });
  }
  return failed.length;
}
