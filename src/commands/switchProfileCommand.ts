import * as vscode from 'vscode';
import { isProtected } from '../core/profileModel';
import { ENV_FILE_BACKUP_REASON_TEXT, switchProfile } from '../core/switchTransaction';
import { argumentsOf, askToTypeId, resolveProfile } from './commandTargets';
import { requireTrust, withOperationProgress } from './commandRunner';
import type { CommandServices } from './commandServices';

const OPEN_SAVED_ENV_FILE = 'Open Saved Copy';

/** Switch: pick (with types and warnings), confirm a protected profile by typing its id, switch under progress. */
export async function switchProfileCommand(services: CommandServices, target: unknown): Promise<string | undefined> {
  requireTrust('switching');
  const { folder, profile } = await resolveProfile(services, target, 'Switch to which environment?');
  const args = argumentsOf(target);
  const confirmedId = isProtected(profile) ? await askToTypeId(profile.id, `"${profile.name}" is ${profile.type === 'PRODUCTION' ? 'PRODUCTION' : 'protected'}. Type its id (${profile.id}) to switch to it.`, args.confirm) : undefined;
  const openBefore = [...vscode.window.terminals];
  const result = await withOperationProgress(folder, `Switching to ${profile.name}`, (context) => switchProfile(context, profile.id, { confirmedId }));
  services.terminals.apply();
  services.log.info(result.from === result.to ? `Wrote the outputs of ${result.to} in ${folder.name} again (it was already the active profile) in ${result.durationMs.toFixed(0)} ms.` : `Switched ${folder.name} to ${result.to}${result.from ? ` from ${result.from}` : ''} in ${result.durationMs.toFixed(0)} ms.`);
  const extra = result.beforeSwitchBackup ? ` (backed up ${result.from} first${result.beforeSwitchNote ? `: ${result.beforeSwitchNote}` : ''})` : '';
  if (result.beforeSwitchNote) services.log.warn(`before-switch backup ${result.beforeSwitchBackup}: ${result.beforeSwitchNote}`);
  const done = result.from === result.to ? `${profile.name} (${profile.type}) was already the active profile; its outputs were written again` : `Switched to ${profile.name} (${profile.type})`;
  for (const warning of result.warnings) services.log.warn(`${result.to}: ${warning}`);
  const warned = result.warnings.length === 0 ? '' : ` Warning: ${result.warnings[0]}${result.warnings.length > 1 ? ` (and ${result.warnings.length - 1} more in the log)` : ''}.`;
  const message = `${done} in ${result.durationMs.toFixed(0)} ms${extra}.${warned}`;
  if (result.envFileBackup && result.envFileBackupReason) {
    // What the replaced env file held may be wanted (a secret added by hand): say where it went, and open it on request.
    const saved = vscode.Uri.file(folder.context.layout.resolve(result.envFileBackup));
    void vscode.window.showInformationMessage(`${message} The previous env file ${ENV_FILE_BACKUP_REASON_TEXT[result.envFileBackupReason]}; it was saved to ${result.envFileBackup}.`, OPEN_SAVED_ENV_FILE).then((choice) => {
      if (choice === OPEN_SAVED_ENV_FILE) void vscode.window.showTextDocument(saved);
    });
  } else if (warned) {
    void vscode.window.showWarningMessage(message, 'Show Log').then((choice) => choice && services.log.show());
  } else void vscode.window.showInformationMessage(message);
  void services.terminals.offerRelaunch(openBefore, profile.name);
  return result.to;
}
