import * as vscode from 'vscode';
import { isProtected } from '../core/profileModel';
import { switchProfile } from '../core/switchTransaction';
import { argumentsOf, askToTypeId, resolveProfile } from './commandTargets';
import { requireTrust, withOperationProgress } from './commandRunner';
import type { CommandServices } from './commandServices';

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
  void vscode.window.showInformationMessage(`${done} in ${result.durationMs.toFixed(0)} ms${extra}.`);
  void services.terminals.offerRelaunch(openBefore, profile.name);
  return result.to;
}
