import { pruneAllProfiles } from '../../core/backup/allProfilesPrune';
import { pruneBackups, type PruneResult } from '../../core/backup/backupPruning';
import { pruneVerificationText } from '../../core/backup/pruneVerification';
import { reasonsText } from '../../core/backup/retentionPolicy';
import { formatSize } from '../../core/diskSpace';
import { EnvProfilesError } from '../../core/errors';
import { localTimestamp } from '../../core/localTime';
import type { CliCommand } from '../cliCommand';
import { table } from '../textFormat';
import { counted } from '../../core/counted';

/** One profile's prune: its notes, where its rules came from, and every backup's decision (none when it has no backups). */
function decisionLines(result: PruneResult): string[] {
  // Local time: the zone the hourly/daily/weekly rules count in.
  const rows = [['ACTION', 'ID', `CREATED (${result.timeZone})`, 'KIND', 'WHY']];
  for (const d of result.decisions) rows.push([d.action, d.id, localTimestamp(d.createdAt, result.timeZone), d.kind, reasonsText(d.reasons)]);
  const from = result.rulesFrom ? [`The profile file of ${result.profileId} is gone: its keep rules were taken from its newest backup, ${result.rulesFrom}.`] : [];
  for (const earlier of result.earlierProfiles ?? []) {
    const which = `${counted(earlier.backups, 'backup')} (marked "earlier profile${earlier.createdAt ? ` (created ${earlier.createdAt})` : ''}") ${earlier.backups === 1 ? 'is' : 'are'} of an earlier profile with the id ${result.profileId}, which was deleted`;
    from.push(earlier.hasRules
      ? `${which}: they are pruned by that profile's keep rules, taken from its newest backup ${earlier.rulesFrom}, and its newest verified backup is kept.`
      : `${which}: its newest backup ${earlier.rulesFrom} holds no readable copy of that profile, so there are no keep rules for them, and every one is kept.`);
  }
  const notes = result.notes.map((note) => `note: ${note}`);
  // What was verified came first, and is why the newest verified backup is what it is.
  const verified = result.verifiedFirst.map((v) => `verified before pruning: ${pruneVerificationText(v)}`);
  const verifyFirst = result.verifyFirst.map((note) => `note: ${note}`);
  return [...notes, ...from, ...verified, ...(result.decisions.length > 0 ? table(rows) : []), ...verifyFirst];
}

/** How many backups were (or would be) deleted, and the space: "Deleted 3 backups, freed 1.2 MB." */
function outcomeLine(results: PruneResult[], dryRun: boolean, where: string): string {
  const freed = formatSize(results.reduce((sum, r) => sum + r.freedBytes, 0));
  const count = results.reduce((sum, r) => sum + (dryRun ? r.decisions.filter((d) => d.action === 'delete').length : r.deleted.length), 0);
  // None to delete is said as such (before: "Deleted 0 backups, freed 0 KB").
  if (count === 0) return dryRun ? `Dry run: no backup${where} would be deleted. Nothing was changed.` : `No backup${where} was deleted: each is kept.`;
  if (dryRun) return `Dry run: ${counted(count, 'backup')}${where} would be deleted (${freed}). Nothing was changed.`;
  return `Deleted ${counted(count, 'backup')}${where}, freed ${freed}.`;
}

export const pruneCommand: CliCommand = {
  name: 'prune',
  summary: 'Delete the backups that the profile\'s keep rules no longer keep (--dry-run shows the decisions)',
  usage: 'envprofiles prune <id> [--dry-run]\n       envprofiles prune --all [--dry-run]',
  details: [
    'Rules come from backup_schedule: retention_days and keep: {last, hourly, daily, weekly, monthly, yearly}, in local time. A deleted profile\'s backups are pruned by the rules in its newest backup, and so are those of an earlier profile whose id a new profile took (made before the new one\'s created_at).',
    'Never deletes the newest backup, the newest verified one, or a backup a kept incremental depends on; refuses when the catalog and the disk disagree.',
    'When no backup was ever verified, verifies them first, newest first, until one passes, and keeps it; if none passes, deletes nothing (exit 3).',
    '--all prunes every profile with backups (deleted ones too), each by its own rules; a profile that cannot be pruned keeps all its backups, is named in the output, and makes the exit code 1, while the others are pruned.',
  ],
  options: { 'dry-run': { type: 'boolean' }, all: { type: 'boolean' } },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    const dryRun = options['dry-run'] === true;
    if (options.all) {
      if (positionals.length > 0) throw new EnvProfilesError('USAGE', '--all prunes every profile; do not name one.', { kind: 'usage' });
      const all = await pruneAllProfiles(context, dryRun);
      const text: string[] = [];
      for (const result of all.results) {
        const doomed = result.decisions.filter((d) => d.action === 'delete').length;
        const kept = result.decisions.length - doomed;
        text.push(`${result.profileId}: ${result.decisions.length === 0 ? 'no backups' : `${kept} kept, ${doomed} ${dryRun ? 'to delete' : 'deleted'}`}`, ...decisionLines(result).map((line) => `  ${line}`), '');
      }
      for (const failure of all.failures) {
        text.push(`FAILED ${failure.profileId}${failure.code ? ` [${failure.code}]` : ''}: ${failure.message}`);
        if (failure.hint) text.push(`  ${failure.hint}`);
      }
      const pruned = all.results.length;
      text.push(pruned === 0 && all.failures.length === 0
        ? 'No profile has backups: nothing to prune.'
        : `${outcomeLine(all.results, dryRun, ` of ${counted(pruned, 'profile')}`)}${all.failures.length > 0 ? ` ${counted(all.failures.length, 'profile')} could not be pruned (see above); ${all.failures.length === 1 ? 'its' : 'their'} backups were all kept.` : ''}`);
      return { json: all, text, exitCode: all.failures.length > 0 ? 1 : 0 };
    }
    if (positionals.length === 0) throw new EnvProfilesError('USAGE', 'prune needs a profile id, or --all.', { kind: 'usage', hint: 'Example: envprofiles prune prod_environment_001 --dry-run' });
    const result = await pruneBackups(context, positionals[0], dryRun);
    if (result.decisions.length === 0) return { json: result, text: [...decisionLines(result), `${result.profileId} has no backups: nothing to prune${result.dryRun ? '' : ', nothing was deleted'}.`] };
    return { json: result, text: [...decisionLines(result), outcomeLine([result], dryRun, '')] };
  },
};
