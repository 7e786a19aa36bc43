import type { CatalogEntry } from '../../core/backup/backupCatalog';
import { backupsToVerify, VerificationStopped, verifyEveryProfileInTurn, verifyInTurn, type ScrubbedProfile, type ScrubOutcome } from '../../core/backup/backupScrub';
import { BackupLayout, backupIdTime } from '../../core/backup/backupLayout';
import { verificationHint, verifyBackup, type VerificationResult } from '../../core/backup/backupVerification';
import { formatSize } from '../../core/diskSpace';
import { EnvProfilesError, reworded } from '../../core/errors';
import { lockWaitLimitFromEnvironment } from '../testHooks';
import { loadProfile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { WorkspaceContext } from '../../core/workspaceContext';
import { requireInitialised } from '../../core/workspaceInit';
import { alsoFailedLines } from '../alsoFailedLines';
import type { CliCommand, CommandOutput } from '../cliCommand';
import { environmentFilesText } from '../textFormat';
import { counted } from '../../core/counted';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'Verify a backup: every entry\'s SHA-256, every database rebuilt and checked (integrity, foreign keys)',
  usage: 'envprofiles verify <backup-id|archive-path>\n       envprofiles verify --unverified <profile-id>\n       envprofiles verify --all [--unverified]',
  details: [
    'Exit 0 when the backup is sound, 1 when any problem is found (each names the archive and entry).',
    'An incremental given by its archive path finds the archives of its chain beside it, or in this workspace\'s backups folder.',
    '--unverified verifies, oldest first, every backup of the profile that was never verified (after a catalog rebuild, say); exit 1 when any fails.',
    '--all verifies every backup of every profile that has backups (deleted ones too), oldest first, one backup at a time (other commands can run in between; one still running is waited for, and a backup it deleted is skipped): a check that archives kept for a long time can still be restored. With --unverified, only those never verified. Exit 1 when any fails.',
  ],
  options: { unverified: { type: 'boolean' }, all: { type: 'boolean' } },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    if (options.all === true) {
      if (positionals.length > 0) throw new EnvProfilesError('USAGE', '--all verifies the backups of every profile; do not name a backup or a profile too.', { kind: 'usage' });
      return verifyEveryProfile(context, options.unverified === true);
    }
    if (options.unverified === true) {
      if (positionals.length === 0) throw new EnvProfilesError('USAGE', '--unverified needs the profile whose backups it verifies.', { kind: 'usage', hint: 'envprofiles verify --unverified <profile-id>, or envprofiles verify --all --unverified for every profile.' });
      return verifyProfile(context, positionals[0]);
    }
    if (positionals.length === 0) throw new EnvProfilesError('USAGE', 'verify needs a backup id or an archive path, --unverified <profile-id>, or --all.', { kind: 'usage', hint: 'List the backups with "envprofiles backups".' });
    const result = await verifyBackup(context, positionals[0]);
    const seconds = result.durationMs / 1000;
    // A rate over a fraction of a second says more about starting up than about reading.
    const rate = seconds >= 0.5 ? `, ${(result.bytesChecked / 1048576 / seconds).toFixed(0)} MB/s` : '';
    const text = result.ok
      ? [
          `${result.backupId} is sound: ${counted(result.databases.length, 'database')} rebuilt, SHA-256, integrity_check and foreign_key_check pass (${formatSize(result.bytesChecked)} checked in ${seconds.toFixed(2)} s${rate}).`,
          ...result.databases.map((d) => `  ${d.name}: SHA-256 of the rebuilt file ${d.sha256}`),
          // The rest of what a restore puts back was checked too (before, only the databases were named).
          ...(result.files.length > 0 ? [`  files checked (SHA-256): ${environmentFilesText(result.files)}`] : []),
          ...(result.leftOut ?? []).map((l) => `  ${l.name}: not in this backup (${l.reason})`),
        ]
      // An archive refused before its manifest was read has no id but its file name ("a FAILED" read oddly): its path is named.
      : [result.notABackup ? `${result.archive} is not a backup:` : `${backupIdTime(result.backupId) !== undefined ? result.backupId : result.archive} FAILED verification:`, ...result.problems.map((p) => `  - ${p}`), `  ${verificationHint(result)}`];
    text.push(...alsoFailedLines(result.alsoFailed, ''));
    if (result.notRecorded) text.push(`  not recorded: ${result.notRecorded}`);
    return { json: result, text, exitCode: result.ok ? 0 : 1 };
  },
};

/**
 * Verifies `pending` in turn (backupScrub.ts), with a line per backup. Other commands may take the lock
 * between two backups: this one waits for them (up to 30 minutes, or --wait when longer), not fails.
 */
async function verifyEach(context: WorkspaceContext, backups: BackupLayout, profileId: string, pending: CatalogEntry[], indent: string): Promise<VerifiedProfile> {
  const scrubbed = await verifyInTurn(context, backups, profileId, pending, lockWaitFor(context));
  const { outcomes, ...verified } = scrubbed;
  return { ...verified, text: outcomes.flatMap((outcome) => outcomeLines(outcome, indent)) };
}

/** How long a run waits for another command holding the workspace between two backups: 30 minutes, or --wait when longer. */
function lockWaitFor(context: WorkspaceContext): number {
  return Math.max(lockWaitLimitFromEnvironment(process.env), context.lockWaitMs ?? 0);
}

/** The lines a backup of a run gets. */
function outcomeLines(outcome: ScrubOutcome, indent: string): string[] {
  switch (outcome.kind) {
    case 'deleted':
      return [`${indent}${outcome.backupId}: deleted since this verification began (pruned, say): skipped`];
    case 'newer-format':
      return [`${indent}${outcome.backupId}: not verified: ${outcome.message}`];
    case 'failed': {
      const { failure } = outcome;
      return [`${indent}${outcome.backupId}: FAILED${failure.code ? ` [${failure.code}]` : ''}: ${failure.message}`, ...(failure.hint ? [`${indent}  ${failure.hint}`] : [])];
    }
    case 'verified': {
      const { result } = outcome;
      return [
        result.ok ? `${indent}${outcome.backupId}: sound (${counted(result.databases.length, 'database')} rebuilt and checked)` : `${indent}${outcome.backupId}: FAILED verification:`,
        ...(result.ok ? [] : [...result.problems.map((p) => `${indent}  - ${p}`), `${indent}  ${verificationHint(result)}`]),
        ...alsoFailedLines(result.alsoFailed, indent),
        ...(result.notRecorded ? [`${indent}  not recorded: ${result.notRecorded}`] : []),
      ];
    }
  }
}

/**
 * The WORKSPACE_BUSY that stopped a run, with what the run verified before it (recorded) and which
 * FAILED, so that the lines it printed for them are not all the user lost (before: only the error).
 */
function stoppedError(stopped: VerificationStopped, rerun: string): EnvProfilesError {
  const { results, errors, left } = stopped.done;
  const failed = [...results.filter((r) => !r.ok).map((r) => r.backupId), ...errors.map((e) => e.backupId)];
  const done = results.length + errors.length;
  const before = done === 0 ? 'before verifying any backup' : `after verifying ${counted(done, 'backup')}, recorded: ${done - failed.length} sound, ${failed.length} FAILED${failed.length > 0 ? ` (${failed.join(', ')})` : ''}`;
  return reworded(stopped.busy, `The verification stopped ${before}; at least ${left} left. ${stopped.busy.message}`, `Once that operation has finished, "${rerun}" verifies the ones left.`);
}

/** What verifying the backups of one profile found, with its lines. */
type VerifiedProfile = Omit<ScrubbedProfile, 'outcomes'> & { text: string[] };

/** Verifies every backup of `profileId` that has never been verified, oldest first. */
async function verifyProfile(context: WorkspaceContext, profileId: string): Promise<CommandOutput> {
  const config = workspaceConfigFor(context);
  const backups = new BackupLayout(context.layout, config);
  const { pending, total, unreadable } = backupsToVerify(backups, profileId, true);
  if (unreadable) throw unreadable;
  // A profile that is neither in the workspace nor in the backups folder is a typo: say so.
  if (total === 0) {
    loadProfile(context.layout, config, profileId);
    backups.requireVisible('nothing was verified');
  }
  const { results, errors, deletedMeanwhile, newerFormat, failed, text } = await verifyEach(context, backups, profileId, pending, '').catch((error: unknown) => {
    throw error instanceof VerificationStopped ? stoppedError(error, `envprofiles verify --unverified ${profileId}`) : error;
  });
  if (total === 0) text.push(`${profileId} has no backups yet: nothing to verify.`);
  else if (pending.length === 0) text.push(`Every backup of ${profileId} (${total}) has been verified already; "envprofiles backups ${profileId}" shows the results.`);
  else if (results.length + errors.length === 0 && newerFormat.length > 0) text.push(`Nothing was verified: ${newerWritten(newerFormat.length)}${skippedText(deletedMeanwhile.length)}.`);
  else text.push(`Verified ${counted(results.length + errors.length, 'backup')} of ${profileId}: ${results.length + errors.length - failed} sound, ${failed} FAILED${alsoFailedText(results)}${skippedText(deletedMeanwhile.length)}${newerText(newerFormat.length)}.`);
  return { json: { profileId, results, errors, deletedMeanwhile, newerFormat }, text, exitCode: failed > 0 || newerFormat.length > 0 ? 1 : 0 };
}

/** Verifies the backups of every profile that has some (the workspace's and its deleted ones'), profile by profile. */
async function verifyEveryProfile(context: WorkspaceContext, onlyUnverified: boolean): Promise<CommandOutput> {
  requireInitialised(context.layout);
  const backups = new BackupLayout(context.layout, workspaceConfigFor(context));
  const { profiles: scrubbed, backupsSeen, unreadable } = await verifyEveryProfileInTurn(context, backups, onlyUnverified, lockWaitFor(context)).catch((error: unknown) => {
    throw error instanceof VerificationStopped ? stoppedError(error, 'envprofiles verify --all --unverified') : error;
  });
  const text = scrubbed.flatMap(({ profileId, outcomes }) => [`${profileId}:`, ...outcomes.flatMap((outcome) => outcomeLines(outcome, '  '))]);
  const profiles = scrubbed.map(({ outcomes: _lines, failed: _count, ...verified }) => verified);
  for (const problem of unreadable) text.push(`FAILED ${problem.profileId} [${problem.code}]: ${problem.message} Its backups were not verified.`, `  ${problem.hint}`);
  const failed = scrubbed.reduce((sum, p) => sum + p.failed, 0) + unreadable.length;
  const all = scrubbed.flatMap((p) => [...p.results, ...p.errors]);
  const deleted = profiles.reduce((sum, p) => sum + p.deletedMeanwhile.length, 0);
  const newer = profiles.reduce((sum, p) => sum + p.newerFormat.length, 0);
  if (all.length === 0 && newer > 0) text.push(`Nothing was verified: ${newerWritten(newer)}${skippedText(deleted)}${unreadable.length > 0 ? `; ${counted(unreadable.length, 'profile')} could not be verified (see above)` : ''}.`);
  else if (all.length === 0 && unreadable.length > 0) text.push(`Nothing was verified; ${counted(unreadable.length, 'profile')} could not be (see above).`);
  else if (all.length === 0 && deleted > 0) text.push(`Nothing was verified: the ${counted(deleted, 'backup')} to verify ${deleted === 1 ? 'was' : 'were'} deleted since this verification began.`);
  else if (all.length === 0) text.push(backupsSeen > 0 ? `Every backup (${backupsSeen}) has been verified already; "envprofiles backups" shows the results.` : 'No profile has backups yet: nothing to verify.');
  else {
    // Archives that are intact but hold data that failed its checks when it was backed up (orphan rows, say) are told apart.
    const dataOnly = profiles.reduce((sum, p) => sum + p.results.filter((r) => !r.ok && r.archiveSound).length, 0);
    const failedBackups = failed - unreadable.length;
    text.push(`Verified ${counted(all.length, 'backup')} of ${counted(profiles.length, 'profile')}: ${all.length - failedBackups} sound, ${failedBackups} FAILED${dataOnly > 0 ? ` (${dataOnly} of them only by their data's own checks: the archive is intact)` : ''}${alsoFailedText(profiles.flatMap((p) => p.results))}${skippedText(deleted)}${newerText(newer)}${unreadable.length > 0 ? `; ${counted(unreadable.length, 'profile')} could not be verified (see above)` : ''}.`);
  }
  const unreadableCatalogs = Object.fromEntries(unreadable.map((problem) => [problem.profileId, problem.message]));
  return { json: { onlyUnverified, profiles, ...(unreadable.length > 0 ? { unreadableCatalogs } : {}) }, text, exitCode: failed > 0 || newer > 0 ? 1 : 0 };
}

/** The end of a summary line for the backups that failed verifications recorded FAILED as well (see alsoFailedLines). */
function alsoFailedText(results: readonly VerificationResult[]): string {
  const ids = [...new Set(results.flatMap((r) => r.alsoFailed ?? []))];
  return ids.length === 0 ? '' : `; ${ids.length} more recorded FAILED, which they build on (${ids.join(', ')}): ${ids.length === 1 ? 'an archive damaged since it was' : 'archives damaged since they were'} written`;
}

/** The end of a summary line for backups whose archives a newer version wrote (not verified, not failed). */
function newerText(newer: number): string {
  return newer > 0 ? `; ${newer} not verified (written by a newer version of Environment Profiles: ${updateToVerify(newer)})` : '';
}

/** Why nothing was verified when every backup to verify was written by a newer version. */
function newerWritten(newer: number): string {
  return `${counted(newer, 'backup')} ${newer === 1 ? 'was' : 'were'} written by a newer version of Environment Profiles (${updateToVerify(newer)})`;
}

function updateToVerify(count: number): string {
  return `update it to verify ${count === 1 ? 'that one' : 'them'}`;
}

/** The end of a summary line for backups deleted (pruned, say) by a command that ran between two verifications. */
function skippedText(deleted: number): string {
  return deleted > 0 ? `; ${deleted} deleted since this verification began, skipped` : '';
}
