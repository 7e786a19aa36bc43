import { isProtected } from '../../core/profileModel';
import { loadProfile } from '../../core/profileStore';
import { ENV_FILE_BACKUP_REASON_TEXT, switchProfile } from '../../core/switchTransaction';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import { stringOption } from '../cliArguments';
import type { CliCommand } from '../cliCommand';

export const switchCommand: CliCommand = {
  name: 'switch',
  summary: 'Make a profile the active one (a transaction: all outputs change, or none)',
  usage: 'envprofiles switch <id> [--confirm <id>]',
  details: [
    'A PRODUCTION or protected profile needs --confirm <its id>; in a terminal you may type the id instead.',
    'Refused (exit 3) while the busy guard\'s lock file exists.',
  ],
  options: { confirm: { type: 'string' } },
  positionals: [1, 1],
  async run({ context, positionals, options, askToType }) {
    const id = positionals[0];
    let confirmedId = stringOption(options.confirm);
    if (confirmedId === undefined) {
      const { profile } = loadProfile(context.layout, workspaceConfigFor(context), id);
      if (isProtected(profile)) confirmedId = await askToType(`"${id}" is ${profile.type === 'PRODUCTION' ? 'PRODUCTION' : 'protected'}. Type its id to switch to it: `, id);
    }
    const result = await switchProfile(context, id, { confirmedId });
    // Switching to the active profile writes its outputs again (a repair): said as that, not as a switch.
    const done = result.from === result.to ? `${result.to} (${result.profile.type}, "${result.profile.name}") was already the active profile; its outputs were written again` : `Switched to ${result.to} (${result.profile.type}, "${result.profile.name}")${result.from ? ` from ${result.from}` : ''}`;
    const text = [`${done} in ${result.durationMs.toFixed(0)} ms.`];
    text.push(`  wrote ${result.outputs.join(', ')}`);
    if (result.envFileBackup && result.envFileBackupReason) text.push(`  the previous env file ${ENV_FILE_BACKUP_REASON_TEXT[result.envFileBackupReason]}; it was saved to ${result.envFileBackup} (put lasting settings in a profile's configurations)`);
    // Its notes one line each, as backup prints them (before, all in parentheses after the id).
    if (result.beforeSwitchBackup) text.push(`  backed up ${result.from} first: ${result.beforeSwitchBackup}`, ...(result.beforeSwitchNotes ?? []).map((note) => `    note: ${note}`));
    text.push(...result.warnings.map((warning) => `  warning: ${warning}`));
    return { json: { from: result.from, to: result.to, outputs: result.outputs, envFileBackup: result.envFileBackup, envFileBackupReason: result.envFileBackupReason, beforeSwitchBackup: result.beforeSwitchBackup, beforeSwitchNotes: result.beforeSwitchNotes ?? [], beforeSwitchNote: result.beforeSwitchNote, warnings: result.warnings, durationMs: result.durationMs }, text };
  },
};
