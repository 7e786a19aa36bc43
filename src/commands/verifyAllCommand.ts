import * as vscode from 'vscode';
import type { VerificationResult } from '../core/backup/backupVerification';
import type { BackupFailure } from '../core/backup/profileFailure';
import { runInChildProcess } from './childOperation';
import { requireTrust } from './commandRunner';
import type { CommandServices } from './commandServices';
import { counted } from '../core/counted';

/** One profile's part of `envprofiles verify --all --json`. */
interface ProfileVerification {
  profileId: string;
  results: VerificationResult[];
  /** Backups that could not be verified at all (an archive gone, say). */
  errors: BackupFailure[];
  /** Backups whose archives a newer version wrote: not verified, not failed. */
  newerFormat?: string[];
}

/**
 * Logs the failures among `results` and `errors`, and sorts them: `failed`, backups whose archive is
 * damaged or could not be verified at all; `dataOnly`, those whose archive is intact but whose data
 * fails its checks as it did when it was backed up (orphan rows of an application that never turns
 * foreign keys on, say).
 */
export function sortFailedVerifications(services: CommandServices, results: VerificationResult[], errors: BackupFailure[] = []): { failed: string[]; dataOnly: string[] } {
  const failed: string[] = [];
  const dataOnly: string[] = [];
  for (const result of results.filter((r) => !r.ok)) {
    if (result.archiveSound) {
      dataOnly.push(result.backupId);
      for (const problem of result.problems) services.log.warn(`verify ${result.backupId}: the archive is intact; its data fails a check, as it did when it was backed up: ${problem}`);
    } else {
      failed.push(result.backupId);
      for (const problem of result.problems) services.log.error(`verify ${result.backupId}: ${problem}`);
    }
  }
  for (const error of errors) {
    failed.push(error.backupId);
    services.log.error(`verify ${error.backupId}: ${error.message}${error.hint ? ` ${error.hint}` : ''}`);
  }
  return { failed, dataOnly };
}

/**
 * Verifies every backup of every profile in every folder (a scrub: archives damaged since they were
 * written are found), in child processes as other verifications are; the failures go to the log.
 * Returns the ids of the backups whose archive failed (damaged, or gone).
 */
export async function verifyAllBackupsCommand(services: CommandServices): Promise<string[]> {
  requireTrust('verifying');
  const failed: string[] = [];
  const dataOnly: string[] = [];
  const newerFormat: string[] = [];
  let checked = 0;
  for (const folder of services.model.initialised()) {
    const { profiles } = await runInChildProcess<{ profiles: ProfileVerification[] }>(services, folder, `Verifying every backup in ${folder.name}`, ['verify', '--all']);
    for (const profile of profiles) {
      checked += profile.results.length + profile.errors.length;
      const sorted = sortFailedVerifications(services, profile.results, profile.errors);
      failed.push(...sorted.failed);
      dataOnly.push(...sorted.dataOnly);
      newerFormat.push(...(profile.newerFormat ?? []));
    }
  }
  for (const id of newerFormat) services.log.warn(`verify ${id}: not verified: its archive was written by a newer version of Environment Profiles; update the extension to verify it.`);
  const newerText = `${newerFormat.length} not verified: written by a newer version of Environment Profiles, update it to verify ${newerFormat.length === 1 ? 'that one' : 'those'} (${newerFormat.join(', ')})`;
  if (checked === 0 && newerFormat.length > 0) void vscode.window.showWarningMessage(`Nothing was verified: ${newerText}.`);
  else if (checked === 0) void vscode.window.showInformationMessage('No profile has backups yet: nothing to verify.');
  else if (failed.length + dataOnly.length + newerFormat.length === 0) void vscode.window.showInformationMessage(`Verified ${counted(checked, 'backup')}: all sound.`);
  else {
    const parts = [
      ...(failed.length > 0 ? [`${failed.length} FAILED (${failed.join(', ')})`] : []),
      ...(dataOnly.length > 0 ? [`${dataOnly.length} with an intact archive of data that fails its checks, as it did when it was backed up (${dataOnly.join(', ')})`] : []),
      ...(newerFormat.length > 0 ? [newerText] : []),
    ];
    void vscode.window.showWarningMessage(`Verified ${counted(checked, 'backup')}: ${parts.join('; ')}. See the log.`, 'Show Log').then((choice) => {
      if (choice === 'Show Log') services.log.show();
    });
  }
  return failed;
}
