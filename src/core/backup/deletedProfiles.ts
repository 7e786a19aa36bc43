import * as fs from 'node:fs';
import type { WorkspaceLayout } from '../workspaceLayout';
import { profilesWithBackups, readCatalog, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { sharingWorkspaceFinder } from './backupOrigin';

/**
 * Profiles whose file is gone but whose backups this workspace made are still in the backups folder
 * (delete keeps backups): their ids, so that those backups can be listed, restored and pruned.
 * `entriesOf` gives a profile's catalog (callers that already read it pass their copy).
 */
export function deletedProfilesWithBackups(layout: WorkspaceLayout, backups: BackupLayout, entriesOf: (profileId: string) => CatalogEntry[]): string[] {
  const otherWorkspace = sharingWorkspaceFinder(layout, backups);
  return profilesWithBackups(backups).filter((id) => !fs.existsSync(layout.profileFile(id)) && entriesOf(id).some((e) => !otherWorkspace(e.origin)));
}

/**
 * The profiles whose backups this workspace keeps: its own that have a backups folder, and its deleted
 * ones. A folder of a profile it never had belongs to another workspace that shares the backups folder.
 */
export function workspaceProfilesWithBackups(layout: WorkspaceLayout, backups: BackupLayout): string[] {
  const deleted = new Set(deletedProfilesWithBackups(layout, backups, (id) => readCatalog(backups, id)));
  return profilesWithBackups(backups).filter((id) => deleted.has(id) || fs.existsSync(layout.profileFile(id)));
}
