import { locateBackup } from '../../core/backup/backupChain';
import { VERIFICATION_TEXT, verificationStatus } from '../../core/backup/backupCatalog';
import { backupGivenForProfile } from '../../core/backup/backupGivenForProfile';
import { selectBackup, type BackupSelection, type SelectedBackup } from '../../core/backup/backupSelection';
import { EnvProfilesError } from '../../core/errors';
import { localTimestampWithZone } from '../../core/localTime';
import { profileIdProblem } from '../../core/safeNames';
import { parseTimeBound } from '../../core/timeBound';
import type { WorkspaceContext } from '../../core/workspaceContext';
import { BackupLayout } from '../../core/backup/backupLayout';
import { restoreBackup } from '../../core/backup/backupRestore';
import { restoredWhat, type RestorePlan, type RestoreResult } from '../../core/backup/restoreRequest';
import { isProtected } from '../../core/profileModel';
import { readProfileFile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import { stringOption } from '../cliArguments';
import type { CliCommand, CommandOutput } from '../cliCommand';
import { shellArgument } from '../../core/shellArgument';
import { namedFew } from '../../core/namedFew';

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'Restore a backup over its profile (after a safety backup), as a new profile, or one database',
  usage: 'envprofiles restore <backup-id|archive-path> [--as-new <id>] [--db NAME] [--confirm <id>] [--dry-run]\n       envprofiles restore <profile-id> --latest [--verified] [--before TIME] [other options as above]',
  details: [
    'With --latest, a profile id instead of a backup: its newest backup that can be restored (not FAILED, its chain complete); --verified takes the newest that verification passed, --before TIME the newest taken at or before TIME (2026-12-07 14:30 on the local clock, as lists show times; 2026-12-07; or how long ago: 90m, 36h, 2d, 1w). The first line names the backup chosen and why.',
    'Over the profile: a safety backup of the current state is taken and verified first; files are swapped atomically under a journal.',
    'An incremental given by its archive path finds the archives of its chain beside it, or in this workspace\'s backups folder.',
    'Refused (exit 3) while the busy guard is up, for a protected profile without --confirm <its id>, and for a hostile archive.',
    '--dry-run checks the archive and shows every file the restore would write or replace, whether a safety backup comes first, and what would refuse it now (exit 3 then); nothing is changed and no confirmation is asked.',
  ],
  options: { 'as-new': { type: 'string' }, db: { type: 'string' }, confirm: { type: 'string' }, 'dry-run': { type: 'boolean' }, latest: { type: 'boolean' }, verified: { type: 'boolean' }, before: { type: 'string' } },
  positionals: [1, 1],
  async run({ context, positionals, options, askToType }) {
    const dryRun = options['dry-run'] === true;
    const before = stringOption(options.before);
    const chosen = options.latest === true || options.verified === true || before !== undefined
      ? chooseBackupToRestore(context, positionals[0], { verifiedOnly: options.verified === true, before: before === undefined ? undefined : parseTimeBound(before, 'before', context.now()), database: stringOption(options.db) })
      : undefined;
    const reference = chosen?.entry.id ?? positionals[0];
    const chosenLine = chosen ? [`Chose ${chosen.entry.id} (${chosen.entry.kind}, taken ${localTimestampWithZone(chosen.entry.createdAt)}, ${VERIFICATION_TEXT[verificationStatus(chosen.entry)]}): the ${chosen.rule}.`] : [];
    const chosenJson = chosen ? { chosen: { backupId: chosen.entry.id, rule: chosen.rule } } : {};
    let confirmedId = stringOption(options.confirm);
    if (confirmedId === undefined && !options['as-new'] && !dryRun) {
      const config = workspaceConfigFor(context);
      const located = locateBackup(new BackupLayout(context.layout, config), reference, process.cwd());
      const profileId = located.catalogEntry?.profileId;
      const profile = profileId ? readProfileFile(context.layout, config, profileId).profile : undefined;
      if (profile && isProtected(profile)) confirmedId = await askToType(`Restoring over "${profile.id}" replaces its data. Type its id to continue: `, profile.id);
    }
    const result = await restoreBackup(context, { reference, asNew: stringOption(options['as-new']), database: stringOption(options.db), confirmedId, dryRun });
    if (result.plan) {
      const planned = describePlan(result, result.plan, options['as-new'] !== undefined, reference);
      return { ...planned, json: { ...result, ...chosenJson }, text: [...chosenLine, ...planned.text] };
    }
    const text = [...chosenLine, `Restored ${restoredWhat(result)} of ${result.profileId} from ${result.backupId} in ${(result.durationMs / 1000).toFixed(2)} s.`];
    // Named up to a screenful: a profile may list thousands (--json lists every one).
    if (result.files.length) text.push(`  files: ${namedFew(result.files, 20)}${result.files.length > 20 ? ' (--json lists every one)' : ''}`);
    if (result.safetyBackup) text.push(`  the state before the restore is in backup ${result.safetyBackup}${result.safetyBackupVerified ? ', verified' : ''}`);
    for (const note of result.notes) text.push(`  note: ${note}`);
    return { json: { ...result, ...chosenJson }, text };
  },
};

/**
 * The backup --latest (--verified, --before) takes: the profile's newest that the selection allows.
 * The argument must be a profile id then; a backup id or an archive is named already.
 */
function chooseBackupToRestore(context: WorkspaceContext, profileId: string, selection: BackupSelection): SelectedBackup {
  if (backupGivenForProfile(profileId) || profileId.includes('/')) {
    throw new EnvProfilesError('USAGE', `--latest, --verified and --before choose among a profile's backups, but "${profileId}" names a backup already; nothing was changed.`, { kind: 'usage', hint: `Give the profile's id instead, or leave those options out to restore ${profileId} itself.` });
  }
  const problem = profileIdProblem(profileId);
  if (problem) throw new EnvProfilesError('USAGE', `"${profileId}" is no profile id: ${problem}; nothing was changed.`, { kind: 'usage', hint: '"envprofiles list" names the profiles.' });
  const config = workspaceConfigFor(context);
  const { profile } = readProfileFile(context.layout, config, profileId);
  return selectBackup(new BackupLayout(context.layout, config), profileId, profile, selection, context.now());
}

/** A written file's part in the profile (before, a `files:` entry was named by its own path twice). */
function whatIsWritten(write: RestorePlan['writes'][number]): string {
  if (write.kind === 'database') return write.name;
  if (write.kind === 'profile file') return 'the profile file';
  return write.name === write.path ? 'in files:' : `${write.name} in files:`;
}

/** A dry run: what the restore would write, in order, and what would stop it now. */
function describePlan(result: RestoreResult, plan: RestorePlan, asNew: boolean, reference: string): CommandOutput {
  const text = [`Dry run: restoring ${result.backupId} ${asNew ? `as the new profile ${result.profileId} would create` : `over ${result.profileId} would write`}:`];
  if (plan.safetyBackupFirst) text.push(`  first, a safety backup of ${result.profileId}'s current state, verified before anything is replaced`);
  for (const write of plan.writes) text.push(`  ${write.exists ? 'replace' : 'create '} ${write.path} (${whatIsWritten(write)})`);
  for (const note of result.notes) text.push(`  note: ${note}`);
  const checkNow = `the restore itself checks every entry (SHA-256) before anything is replaced; "envprofiles verify ${shellArgument(reference)}" checks the whole backup now`;
  if (plan.notVerified && plan.listed) text.push(`  note: this backup has not passed a verification, and a dry run reads only its manifest, not its data: ${checkNow}`);
  // A copy's verification is not recorded, so verifying it would not take this note away: it says why.
  else if (plan.notVerified) text.push(`  note: this archive is not one the catalog lists, so no verification of it is on record, and a dry run reads only its manifest, not its data: ${checkNow} (its result is shown, not recorded)`);
  if (plan.changedSinceVerified) text.push(`  note: this backup passed a verification, but ${plan.changedSinceVerified}: the restore checks every entry and stops at damage, replacing nothing; "envprofiles verify ${shellArgument(reference)}" says now whether it is still sound`);
  if (plan.confirmationNeeded) text.push(`  ${plan.confirmationNeeded} is protected: the restore needs --confirm ${plan.confirmationNeeded} (or typing its id when asked).`);
  for (const refusal of plan.wouldRefuse) text.push(`  it would be refused now: ${refusal}`);
  text.push('Nothing was changed.');
  // 3, as the restore itself would exit when refused.
  return { json: result, text, exitCode: plan.wouldRefuse.length > 0 ? 3 : 0 };
}
