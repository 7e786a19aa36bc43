import { readActiveState } from '../../core/activeState';
import { keepRulesFrom, keepRulesText } from '../../core/backup/retentionPolicy';
import { isProtected } from '../../core/profileModel';
import { loadProfile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { CliCommand } from '../cliCommand';
import { missingDatabaseNames } from '../../core/missingDatabases';
import { sharedDatabaseWarnings } from '../../core/pathOwners';
import { profileWarningText } from '../../core/databaseValidation';

/** When backups are meant to run, as written; this version does not run them itself. */
function scheduleLines(schedule: Record<string, unknown> | undefined, everyProfileBeforeSwitch: boolean): string[] {
  const lines: string[] = [];
  if (typeof schedule?.frequency === 'string') {
    const at = typeof schedule.time === 'string' ? ` at ${schedule.time}` : '';
    lines.push(`    schedule: ${schedule.frequency.toUpperCase()}${at} (not run by this version: back up with "envprofiles backup")`);
  }
  if (everyProfileBeforeSwitch) lines.push('    before switching away: yes (config.yaml backups.before_switch)');
  else if (schedule?.before_switch === true) lines.push('    before switching away: yes');
  return lines;
}

export const showCommand: CliCommand = {
  name: 'show',
  summary: 'Show one profile',
  usage: 'envprofiles show <id>',
  options: {},
  positionals: [1, 1],
  async run({ context, positionals }) {
    const config = workspaceConfigFor(context);
    const { profile, file, warnings: fileWarnings } = loadProfile(context.layout, config, positionals[0]);
    // What validate warns of in the profile itself (not its databases' contents): a misspelt key, a database file another profile uses too.
    const warnings = [...fileWarnings.map(profileWarningText), ...sharedDatabaseWarnings(context, profile).map((w) => w.message)];
    const active = readActiveState(context.layout).active === profile.id;
    const missing = missingDatabaseNames(context.layout, profile.databases);
    const text = [
      `${profile.id}  ${profile.type}${isProtected(profile) ? ' (protected)' : ''}${active ? ' (active)' : ''}`,
      `  name: ${profile.name}`,
      ...(profile.description ? [`  description: ${profile.description}`] : []),
      ...(profile.createdAt ? [`  created: ${profile.createdAt}`] : []),
      `  file: ${context.layout.relative(file)}`,
      '  databases:',
      ...Object.entries(profile.databases).map(([k, v]) => `    ${k}: ${v}${missing.includes(k) ? ` (does not exist; "envprofiles validate ${profile.id}" says how to get it back)` : ''}`),
      ...(Object.keys(profile.configurations).length > 0
        ? ['  configurations:', ...Object.entries(profile.configurations).map(([k, v]) => `    ${k.toUpperCase()}=${String(v)}`)]
        : ['  configurations: none']),
      // The rest of the profile too (before, only --json showed files, required tables and backup rules).
      ...(profile.files.length > 0 ? ['  files:', ...profile.files.map((file) => `    ${file}`)] : []),
      ...(Object.keys(profile.requiredTables).length > 0
        ? ['  required tables:', ...Object.entries(profile.requiredTables).map(([db, tables]) => `    ${db}: ${tables.join(', ')}`)]
        : []),
      '  backups:',
      `    keep: ${keepRulesText(keepRulesFrom(profile.backupSchedule))}`,
      ...scheduleLines(profile.backupSchedule, config.backups.beforeSwitch),
      ...warnings.map((warning) => `  warning: ${warning}`),
    ];
    return { json: { profile, file: context.layout.relative(file), active, protected: isProtected(profile), missingDatabases: missing, warnings }, text };
  },
};
