import { pruneBackups } from '../../core/backup/backupPruning';
import { reasonsText } from '../../core/backup/retentionPolicy';
import { formatSize } from '../../core/diskSpace';
import { localTimestamp } from '../../core/localTime';
import type { CliCommand } from '../cliCommand';
import { table } from '../textFormat';

export const pruneCommand: CliCommand = {
  name: 'prune',
  summary: 'Delete the backups that the profile\'s keep rules no longer keep (--dry-run shows the decisions)',
  usage: 'envprofiles prune <id> [--dry-run]',
  details: [
    'Rules come from backup_schedule: retention_days and keep: {last, hourly, daily, weekly, monthly, yearly}, in local time. A deleted profile\'s backups are pruned by the rules in its newest backup,',
    'and so are those of an earlier profile whose id a new profile took (made before the new one\'s created_at).',
    'Never deletes the newest verified backup or a backup a kept incremental depends on; refuses when the catalog and the disk disagree.',
  ],
  options: { 'dry-run': { type: 'boolean' } },
  positionals: [1, 1],
  async run({ context, positionals, options }) {
    const result = await pruneBackups(context, positionals[0], options['dry-run'] === true);
    // Local time: the zone the hourly/daily/weekly rules count in.
    const rows = [['ACTION', 'ID', `CREATED (${result.timeZone})`, 'KIND', 'WHY']];
    for (const d of result.decisions) rows.push([d.action, d.id, localTimestamp(d.createdAt, result.timeZone), d.kind, reasonsText(d.reasons)]);
    const doomed = result.decisions.filter((d) => d.action === 'delete').length;
    const from = result.rulesFrom ? [`The profile file of ${result.profileId} is gone: its keep rules were taken from its newest backup, ${result.rulesFrom}.`] : [];
    for (const earlier of result.earlierProfiles ?? []) {
      const which = `${earlier.backups} backup(s) (marked "earlier profile${earlier.createdAt ? ` (created ${earlier.createdAt})` : ''}") are of an earlier profile with the id ${result.profileId}, which was deleted`;
      from.push(earlier.hasRules
        ? `${which}: they are pruned by that profile's keep rules, taken from its newest backup ${earlier.rulesFrom}, and its newest verified backup is kept.`
        : `${which}: its newest backup ${earlier.rulesFrom} holds no readable copy of that profile, so there are no keep rules for them, and every one is kept.`);
    }
    const notes = result.notes.map((note) => `note: ${note}`);
    if (result.decisions.length === 0) return { json: result, text: [...notes, `${result.profileId} has no backups: nothing to prune${result.dryRun ? '' : ', nothing was deleted'}.`] };
    const text = [...notes, ...from, ...table(rows), result.dryRun ? `Dry run: ${doomed} backup(s) would be deleted (${formatSize(result.freedBytes)}). Nothing was changed.` : `Deleted ${result.deleted.length} backup(s), freed ${formatSize(result.freedBytes)}.`];
    return { json: result, text };
  },
};
