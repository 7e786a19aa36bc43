import { newestFirst, profilesWithBackups, readCatalog } from '../../core/backup/backupCatalog';
import { BackupLayout } from '../../core/backup/backupLayout';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { CliCommand } from '../cliCommand';
import { table } from '../textFormat';

export const backupsCommand: CliCommand = {
  name: 'backups',
  summary: 'List the backups of a profile (or of every profile), newest first',
  usage: 'envprofiles backups [<id>]',
  options: {},
  positionals: [0, 1],
  async run({ context, positionals }) {
    const config = workspaceConfigFor(context);
    const backups = new BackupLayout(context.layout, config);
    const profiles = positionals.length ? positionals : profilesWithBackups(backups);
    const entries = profiles.flatMap((p) => readCatalog(backups, p)).sort(newestFirst);
    if (entries.length === 0) return { json: { directory: backups.root, backups: [] }, text: [`No backups${positionals.length ? ` of ${positionals[0]}` : ''} in ${backups.root}.`] };
    const rows = [['ID', 'KIND', 'SIZE', 'CREATED', 'REASON', 'VERIFIED']];
    for (const e of entries) {
      rows.push([e.id, e.kind === 'incremental' ? `incr (${e.chain.length + 1})` : 'full', `${(e.sizeBytes / 1048576).toFixed(2)} MB`, e.createdAt, e.reason, e.verified ? (e.verified.ok ? `ok ${e.verified.at}` : 'FAILED') : 'no']);
    }
    return { json: { directory: backups.root, backups: entries }, text: table(rows) };
  },
};
