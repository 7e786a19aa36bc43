import { firstIssueInBrief } from '../../core/errors';
import { BackupLayout } from '../../core/backup/backupLayout';
import { backupStanding, type BackupStanding } from '../../core/backup/backupStanding';
import { age } from '../../core/localTime';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import { listProfiles, type ProfileSummary } from '../../core/workspaceStatus';
import type { CliCommand } from '../cliCommand';
import { profileMarker, table, terminalSafe } from '../textFormat';

/** The VERIFIED BACKUP column: how old the last verified backup that can be restored is, or why there is none. */
function verifiedBackupCell(standing: BackupStanding, now: number): string {
  if (standing.newerCatalog) return 'catalog of a newer version';
  if (standing.unreadable) return 'catalog unreadable';
  if (standing.absence) return 'backups folder not found';
  if (standing.count === 0) return 'no backups';
  if (standing.lastVerified) return `${age(standing.lastVerified.createdAt, now)}${standing.lastVerified.verified?.ok ? '' : ' (data had problems)'}`;
  if (standing.stranded) return 'none that restores';
  return `none (${standing.count} not verified)`;
}

/** The DATABASES column: how many, and how many of them have no file (a profile created without them, or one lost). */
function databasesCell(profile: ProfileSummary): string {
  const count = String(Object.keys(profile.databases).length);
  return profile.missingDatabases.length > 0 ? `${count} (${profile.missingDatabases.length} missing)` : count;
}

export const listCommand: CliCommand = {
  name: 'list',
  summary: 'List the profiles (* active, ! protected)',
  usage: 'envprofiles list',
  details: ['DATABASES counts the profile\'s databases, and those whose files do not exist ("envprofiles validate <id>" says how to get them back).', 'VERIFIED BACKUP is the age of the newest backup of the profile that passed verify and can be restored ("envprofiles backups <id>" lists them all).'],
  options: {},
  positionals: [0, 0],
  async run({ context }) {
    const profiles = listProfiles(context);
    if (profiles.length === 0) return { json: { profiles }, text: ['No profiles yet. Create one with: envprofiles create <id> --type DEVELOPMENT'] };
    const backups = new BackupLayout(context.layout, workspaceConfigFor(context));
    const now = context.now();
    // Which profiles are covered by a backup, at a glance (before, only status said it, of the active one).
    const standings = profiles.map((p) => backupStanding(backups, p, now));
    const rows = [['', 'ID', 'TYPE', 'DATABASES', 'VERIFIED BACKUP', 'NAME']];
    profiles.forEach((p, i) => {
      rows.push([profileMarker(p), p.id, p.type ?? 'INVALID', p.valid ? databasesCell(p) : '-', verifiedBackupCell(standings[i], now.getTime()), p.valid ? (p.name ?? '') : firstIssueInBrief(p.issues, '')]);
    });
    // Usable, so listed as valid; said here so that they are seen without a validate of each.
    const warnings = profiles.flatMap((p) => p.warnings.map((w) => terminalSafe(`warning: ${p.id}: ${w.field ? `${w.field.replace(/^profile\./, '')}: ` : ''}${w.message}`)));
    const json = profiles.map((p, i) => {
      const { count, newest, lastVerified } = standings[i];
      return { ...p, backups: { count, ...(newest ? { newest: newest.id } : {}), ...(lastVerified ? { lastVerified: lastVerified.id, lastVerifiedAt: lastVerified.createdAt } : {}) } };
    });
    return { json: { profiles: json }, text: [...table(rows), ...warnings] };
  },
};
