import { locateBackup } from '../../core/backup/backupChain';
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
  usage: 'envprofiles restore <backup-id|archive-path> [--as-new <id>] [--db NAME] [--confirm <id>] [--dry-run]',
  details: [
    'Over the profile: a safety backup of the current state is taken and verified first; files are swapped atomically under a journal.',
    'An incremental given by its archive path finds the archives of its chain beside it, or in this workspace\'s backups folder.',
    'Refused (exit 3) while the busy guard is up, for a protected profile without --confirm <its id>, and for a hostile archive.',
    '--dry-run checks the archive and shows every file the restore would write or replace, whether a safety backup comes first, and what would refuse it now (exit 3 then); nothing is changed and no confirmation is asked.',
  ],
  options: { 'as-new': { type: 'string' }, db: { type: 'string' }, confirm: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  positionals: [1, 1],
  async run({ context, positionals, options, askToType }) {
    const dryRun = options['dry-run'] === true;
    let confirmedId = stringOption(options.confirm);
    if (confirmedId === undefined && !options['as-new'] && !dryRun) {
      const config = workspaceConfigFor(context);
      const located = locateBackup(new BackupLayout(context.layout, config), positionals[0], process.cwd());
      const profileId = located.catalogEntry?.profileId;
      const profile = profileId ? readProfileFile(context.layout, config, profileId).profile : undefined;
      if (profile && isProtected(profile)) confirmedId = await askToType(`Restoring over "${profile.id}" replaces its data. Type its id to continue: `, profile.id);
    }
    const result = await restoreBackup(context, { reference: positionals[0], asNew: stringOption(options['as-new']), database: stringOption(options.db), confirmedId, dryRun });
    if (result.plan) return describePlan(result, result.plan, options['as-new'] !== undefined, positionals[0]);
    const text = [`Restored ${restoredWhat(result)} of ${result.profileId} from ${result.backupId} in ${(result.durationMs / 1000).toFixed(2)} s.`];
    // Named up to a screenful: a profile may list thousands (--json lists every one).
    if (result.files.length) text.push(`  files: ${namedFew(result.files, 20)}${result.files.length > 20 ? ' (--json lists every one)' : ''}`);
    if (result.safetyBackup) text.push(`  the state before the restore is in backup ${result.safetyBackup}${result.safetyBackupVerified ? ', verified' : ''}`);
    for (const note of result.notes) text.push(`  note: ${note}`);
    return { json: result, text };
  },
};

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
