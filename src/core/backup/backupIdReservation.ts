import * as fs from 'node:fs';
import { isBeingWritten } from '../atomicFile';
import type { CompressionSetting } from '../workspaceConfig';
import { ArchiveWriter } from './archiveWriter';
import { catalogMentions } from './backupCatalog';
import type { BackupKind } from './backupManifest';
import { newBackupId, type BackupLayout } from './backupLayout';
import { withCatalogLock } from './catalogLock';

/**
 * Chooses the new backup's id and starts its archive (whose temporary file claims the id), under the
 * catalog's lock. A backup id is the profile and the millisecond; two workspaces that share the backups
 * folder, with the same job at the same minute, can start a backup of the same profile in the same
 * millisecond: the later archive would have replaced the earlier one under their one name. So an id is
 * taken when the catalog lists it, its archive exists, or a running process is writing that archive;
 * then the next millisecond is tried.
 */
export async function reserveBackupId(backups: BackupLayout, profileId: string, kind: BackupKind, now: Date, compression: CompressionSetting, onWait?: (message: string) => void): Promise<{ backupId: string; writer: ArchiveWriter }> {
  return withCatalogLock(backups, profileId, `backup ${profileId}`, () => {
    const listed = catalogMentions(backups, profileId);
    const taken = (id: string): boolean => listed(id) || fs.existsSync(backups.archiveFile(profileId, id)) || isBeingWritten(backups.archiveFile(profileId, id));
    let backupId = newBackupId(profileId, kind, now);
    for (let later = 1; taken(backupId); later++) backupId = newBackupId(profileId, kind, new Date(now.getTime() + later));
    return { backupId, writer: new ArchiveWriter(backups.archiveFile(profileId, backupId), compression, now) };
  }, onWait);
}
