import { verifyBackup } from '../../core/backup/backupVerification';
import type { CliCommand } from '../cliCommand';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'Verify a backup: every entry\'s SHA-256, every database rebuilt and checked (integrity, foreign keys)',
  usage: 'envprofiles verify <backup-id|archive-path>',
  details: ['Exit 0 when the backup is sound, 1 when any problem is found (each names the archive and entry).'],
  options: {},
  positionals: [1, 1],
  async run({ context, positionals }) {
    const result = await verifyBackup(context, positionals[0]);
    const mbps = result.bytesChecked / 1048576 / Math.max(result.durationMs / 1000, 0.001);
    const text = result.ok
      ? [
          `${result.backupId} is sound: ${result.databases.length} database(s) rebuilt, SHA-256, integrity_check and foreign_key_check pass (${(result.durationMs / 1000).toFixed(2)} s, ${mbps.toFixed(0)} MB/s).`,
          ...result.databases.map((d) => `  ${d.name}: SHA-256 of the rebuilt file ${d.sha256}`),
        ]
      : [`${result.backupId} FAILED verification:`, ...result.problems.map((p) => `  - ${p}`)];
    return { json: result, text, exitCode: result.ok ? 0 : 1 };
  },
};
