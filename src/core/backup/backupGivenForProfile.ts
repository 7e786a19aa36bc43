import * as path from 'node:path';
import { backupIdProfile } from './backupLayout';

/**
 * When a command that takes a profile's id was given a backup's id or archive (`delete <backup-id>`, as
 * if it deleted a backup), what it was given and what to give instead; undefined for anything else.
 */
export function backupGivenForProfile(given: string): { problem: string; hint: string } | undefined {
  const archive = given.toLowerCase().endsWith('.zip');
  const backupId = archive ? path.basename(given).slice(0, -'.zip'.length) : given;
  const profileId = backupIdProfile(backupId);
  if (!archive && profileId === undefined) return undefined;
  const what = archive ? 'a backup archive' : 'the id of a backup';
  return {
    problem: `that is ${what}${profileId ? ` of ${profileId}` : ''}, and this command takes a profile's id`,
    hint: `${profileId ? `Give the profile's id (${profileId}). ` : ''}A backup's id or archive goes to verify and restore; backups are deleted by prune, by the profile's keep rules.`,
  };
}
