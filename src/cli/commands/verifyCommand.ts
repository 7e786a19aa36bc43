import { verificationHint, verifyBackup } from '../../core/backup/backupVerification';
import { formatSize } from '../../core/diskSpace';
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
    const seconds = result.durationMs / 1000;
    // A rate over a fraction of a second says more about starting up than about reading.
    const rate = seconds >= 0.5 ? `, ${(result.bytesChecked / 1048576 / seconds).toFixed(0)} MB/s` : '';
    const text = result.ok
      ? [
          `${result.backupId} is sound: ${result.databases.length} database(s) rebuilt, SHA-256, integrity_check and foreign_key_check pass (${formatSize(result.bytesChecked)} checked in ${seconds.toFixed(2)} s${rate}).`,
          ...result.databases.map((d) => `  ${d.name}: SHA-256 of the rebuilt file ${d.sha256}`),
        ]
      : [`${result.backupId} FAILED verification:`, ...result.problems.map((p) => `  - ${p}`), `  ${verificationHint(result)}`];
    return { json: result, text, exitCode: result.ok ? 0 : 1 };
  },
};
