import { locateBackup } from '../../core/backup/backupChain';
import { BackupLayout } from '../../core/backup/backupLayout';
import { restoreBackup } from '../../core/backup/backupRestore';
import { isProtected } from '../../core/profileModel';
import { readProfileFile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import { stringOption } from '../cliArguments';
import type { CliCommand } from '../cliCommand';

export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'Restore a backup over its profile (after a safety backup), as a new profile, or one database',
  usage: 'envprofiles restore <backup-id|archive-path> [--as-new <id>] [--db NAME] [--confirm <id>]',
  details: [
    'Over the profile: a safety backup of the current state is taken first; files are swapped atomically under a journal.',
    'Refused (exit 3) while the busy guard is up, for a protected profile without --confirm <its id>, and for a hostile archive.',
  ],
  options: { 'as-new': { type: 'string' }, db: { type: 'string' }, confirm: { type: 'string' } },
  positionals: [1, 1],
  async run({ context, positionals, options, askToType }) {
    let confirmedId = stringOption(options.confirm);
    if (confirmedId === undefined && !options['as-new']) {
      const config = workspaceConfigFor(context);
      const located = locateBackup(new BackupLayout(context.layout, config), positionals[0], process.cwd());
      const profileId = located.catalogEntry?.profileId;
      const profile = profileId ? readProfileFile(context.layout, config, profileId).profile : undefined;
      if (profile && isProtected(profile)) confirmedId = await askToType(`Restoring over "${profile.id}" replaces its data. Type its id to continue: `, profile.id);
    }
    const result = await restoreBackup(context, { reference: positionals[0], asNew: stringOption(options['as-new']), database: stringOption(options.db), confirmedId });
    const text = [`Restored ${result.databases.join(', ')} of ${result.profileId} from ${result.backupId} in ${(result.durationMs / 1000).toFixed(2)} s.`];
    if (result.files.length) text.push(`  files: ${result.files.join(', ')}`);
    if (result.safetyBackup) text.push(`  the state before the restore is in backup ${result.safetyBackup}`);
    for (const note of result.notes) text.push(`  note: ${note}`);
    return { json: result, text };
  },
};
