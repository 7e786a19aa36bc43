import { BackupLayout } from '../../core/backup/backupLayout';
import { backupStanding } from '../../core/backup/backupStanding';
import { chainFaultWords } from '../../core/backup/verifiedArchives';
import { missingDatabasesAdvice } from '../missingDatabasesAdvice';
import { localTimestampWithZone } from '../../core/localTime';
import { readProfileFile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { WorkspaceContext } from '../../core/workspaceContext';
import { workspaceStatus, type WorkspaceStatus } from '../../core/workspaceStatus';
import type { CliCommand } from '../cliCommand';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Show the active profile and whether the outputs on disk match it',
  usage: 'envprofiles status',
  options: {},
  positionals: [0, 0],
  async run({ context }) {
    const status = workspaceStatus(context);
    const text: string[] = [];
    if (status.stateUnreadable) text.push(`No active profile known: ${context.layout.relative(context.layout.stateFile)}, which says which one is, cannot be read (damaged: ${status.stateUnreadable}). Switch to the profile in use to write it again: envprofiles switch <id>`);
    else if (!status.active) text.push('No active profile. Switch with: envprofiles switch <id>');
    else text.push(`Active: ${status.active}${status.activeType ? ` (${status.activeType}, "${status.activeName}")` : ''}${status.switchedAt ? `, since ${localTimestampWithZone(status.switchedAt)}` : ''}`);
    if (status.active) text.push(status.inSync ? 'Outputs: in sync' : `Outputs: out of sync\n${status.drift.map((d) => `  - ${d}`).join('\n')}\n  ${status.outputConflict ?? rewriteAdvice(context, status.active, status.activeProfileFile)}`);
    if (status.active && status.missingDatabases.length > 0) text.push(...missingDatabasesText(context, status.active, status.missingDatabases));
    const backups = status.active ? activeBackups(context, status.active) : undefined;
    if (backups) text.push(backups.text);
    text.push(`Busy guard: ${status.guardActive ? 'ACTIVE (the application is live; switching is refused)' : 'clear'}`);
    if (status.operationInProgress) text.push(`Operation in progress: ${status.operationInProgress}`);
    text.push(`SQLite engine: ${status.engine}`);
    return { json: { ...status, ...(backups ? { activeBackups: backups.json } : {}) }, text };
  },
};

/** The active profile's backups in one line: how many, the newest, and the last verified one (or that there is none). */
function activeBackups(context: WorkspaceContext, profileId: string): { text: string; json: { count: number; newest?: string; lastVerified?: string } } | undefined {
  const config = workspaceConfigFor(context);
  const { profile } = readProfileFile(context.layout, config, profileId);
  if (!profile) return undefined;
  const { count, newest, lastVerified: verified, stranded, unreadable, absence } = backupStanding(new BackupLayout(context.layout, config), profile, context.now());
  if (unreadable) return { text: `Backups: the catalog cannot be read (${unreadable})`, json: { count: 0 } };
  const json = { count, ...(newest ? { newest: newest.id } : {}), ...(verified ? { lastVerified: verified.id } : {}) };
  if (absence) return { text: `Backups: none to be seen: ${absence}`, json };
  if (!newest) return { text: `Backups: none yet. Back up with: envprofiles backup ${profileId} --verify`, json };
  const last = verified
    ? `last verified ${verified.id}${verified.verified?.ok ? '' : ' (its data had problems when it was backed up)'}`
    : stranded
      ? `NONE VERIFIED that can be restored: ${stranded.backup.id}'s chain ${chainFaultWords(stranded.fault)} (envprofiles backup ${profileId} --full --verify)`
      : `NONE VERIFIED yet (envprofiles verify ${newest.id})`;
  return { text: `Backups: ${count}, newest ${newest.id}; ${last}`, json };
}

/**
 * The active profile's databases that are gone, and how to get each back: from the newest backup that
 * holds it, else made anew. The application would otherwise get a new, empty database there.
 */
function missingDatabasesText(context: WorkspaceContext, profileId: string, missing: WorkspaceStatus['missingDatabases']): string[] {
  const text = [`Databases: ${missing.length === 1 ? '1 is' : `${missing.length} are`} MISSING (the application would find none there, and SQLite would make a new, empty one):`];
  for (const { name, path } of missing) text.push(`  - ${name}: ${path} does not exist`);
  return [...text, ...missingDatabasesAdvice(context, profileId, missing.map((m) => m.name)).map((line) => `  ${line}`)];
}

/** How to bring the outputs back in line: switch to the active profile again, once its file is there and valid. */
function rewriteAdvice(context: WorkspaceContext, active: string, profileFile: WorkspaceStatus['activeProfileFile']): string {
  const file = context.layout.relative(context.layout.profileFile(active));
  if (profileFile === 'missing') return `Put ${file} back (a backup of the profile holds it: envprofiles restore <backup-id>), or switch to another profile: envprofiles switch <id>.`;
  if (profileFile === 'invalid') return `Fix ${file} (envprofiles validate ${active} says what is wrong), then run "envprofiles switch ${active}" to rewrite them.`;
  return `Run "envprofiles switch ${active}" to rewrite them.`;
}
