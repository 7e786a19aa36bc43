import * as fs from 'node:fs';
import { EnvProfilesError } from './errors';
import { profilesWithBackups } from './backup/backupCatalog';
import { BackupLayout } from './backup/backupLayout';
import { profileFileIds } from './profileStore';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';

/**
 * Refuses (PROFILE_EXISTS) an id for a new profile that a profile has, or that differs only in case
 * from a profile's or from a folder of backups (a deleted profile's). On a disk that does not tell
 * case apart (macOS and Windows by default, FAT and exFAT USB sticks) such ids are one profile file
 * and one backups folder: one profile's catalog was written over the other's, whose prune then
 * decided (and deleted) backups by the wrong rules. `hint` says what to do instead.
 */
export function requireNewProfileId(layout: WorkspaceLayout, config: WorkspaceConfig, id: string, hint: string): void {
  const file = layout.relative(layout.profileFile(id));
  if (fs.existsSync(layout.profileFile(id))) throw new EnvProfilesError('PROFILE_EXISTS', `Profile "${id}" already exists (${file}).`, { kind: 'refused', file, hint });
  const lower = id.toLowerCase();
  const profile = profileFileIds(layout).find((other) => other !== id && other.toLowerCase() === lower);
  const backups = profile ? undefined : profilesWithBackups(new BackupLayout(layout, config)).find((other) => other !== id && other.toLowerCase() === lower);
  const other = profile ?? backups;
  if (!other) return;
  const what = profile ? `the profile "${other}"` : `the backups of "${other}" (a deleted profile's)`;
  const theirs = profile ? layout.relative(layout.profileFile(other)) : new BackupLayout(layout, config).profileDir(other);
  throw new EnvProfilesError('PROFILE_EXISTS', `Profile id "${id}" differs from ${what} only in case: on a disk that does not tell case apart (macOS, Windows, a FAT or exFAT stick) both would be one profile file and one backups folder.`, { kind: 'refused', file: theirs, hint });
}
