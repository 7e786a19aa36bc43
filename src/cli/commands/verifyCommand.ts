import { readCatalog } from '../../core/backup/backupCatalog';
import { BackupLayout } from '../../core/backup/backupLayout';
import { verificationHint, verifyBackup, type VerificationResult } from '../../core/backup/backupVerification';
import { formatSize } from '../../core/diskSpace';
import { EnvProfilesError } from '../../core/errors';
import { loadProfile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { WorkspaceContext } from '../../core/workspaceContext';
import { stringOption } from '../cliArguments';
import type { CliCommand, CommandOutput } from '../cliCommand';

export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'Verify a backup: every entry\'s SHA-256, every database rebuilt and checked (integrity, foreign keys)',
  usage: 'envprofiles verify <backup-id|archive-path>\n       envprofiles verify --unverified <profile-id>',
  details: [
    'Exit 0 when the backup is sound, 1 when any problem is found (each names the archive and entry).',
    'An incremental given by its archive path finds the archives of its chain beside it, or in this workspace\'s backups folder.',
    '--unverified verifies, oldest first, every backup of the profile that was never verified (after a catalog rebuild, say); exit 1 when any fails.',
  ],
  options: { unverified: { type: 'string' } },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    const profileId = stringOption(options.unverified);
    if (profileId !== undefined) {
      if (positionals.length > 0) throw new EnvProfilesError('USAGE', '--unverified verifies the backups of the profile it names; do not name a backup too.', { kind: 'usage' });
      return verifyUnverified(context, profileId);
    }
    if (positionals.length === 0) throw new EnvProfilesError('USAGE', 'verify needs a backup id or an archive path, or --unverified <profile-id>.', { kind: 'usage', hint: 'List the backups with "envprofiles backups".' });
    const result = await verifyBackup(context, positionals[0]);
    const seconds = result.durationMs / 1000;
    // A rate over a fraction of a second says more about starting up than about reading.
    const rate = seconds >= 0.5 ? `, ${(result.bytesChecked / 1048576 / seconds).toFixed(0)} MB/s` : '';
    const text = result.ok
      ? [
          `${result.backupId} is sound: ${result.databases.length} database(s) rebuilt, SHA-256, integrity_check and foreign_key_check pass (${formatSize(result.bytesChecked)} checked in ${seconds.toFixed(2)} s${rate}).`,
          ...result.databases.map((d) => `  ${d.name}: SHA-256 of the rebuilt file ${d.sha256}`),
        ]
      : [result.notABackup ? `${result.archive} is not a backup:` : `${result.backupId} FAILED verification:`, ...result.problems.map((p) => `  - ${p}`), `  ${verificationHint(result)}`];
    return { json: result, text, exitCode: result.ok ? 0 : 1 };
  },
};

/** Verifies every backup of `profileId` that has never been verified, oldest first (a chain's links before what builds on them). */
async function verifyUnverified(context: WorkspaceContext, profileId: string): Promise<CommandOutput> {
  const config = workspaceConfigFor(context);
  const backups = new BackupLayout(context.layout, config);
  const entries = readCatalog(backups, profileId);
  // A profile that is neither in the workspace nor in the backups folder is a typo: say so.
  if (entries.length === 0) loadProfile(context.layout, config, profileId);
  const pending = entries.filter((entry) => entry.verified === null);
  const results: VerificationResult[] = [];
  const text: string[] = [];
  for (const entry of pending) {
    const result = await verifyBackup(context, entry.id);
    results.push(result);
    text.push(result.ok ? `${entry.id}: sound (${result.databases.length} database(s) rebuilt and checked)` : `${entry.id}: FAILED verification:`);
    if (!result.ok) text.push(...result.problems.map((p) => `  - ${p}`), `  ${verificationHint(result)}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  if (entries.length === 0) text.push(`${profileId} has no backups yet: nothing to verify.`);
  else if (pending.length === 0) text.push(`Every backup of ${profileId} (${entries.length}) has been verified already; "envprofiles backups ${profileId}" shows the results.`);
  else text.push(`Verified ${pending.length} backup(s) of ${profileId}: ${pending.length - failed} sound, ${failed} FAILED.`);
  return { json: { profileId, results }, text, exitCode: failed > 0 ? 1 : 0 };
}
