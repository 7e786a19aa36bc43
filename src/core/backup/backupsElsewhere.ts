import * as fs from 'node:fs';
import { realLocation } from '../pathSafety';
import { defaultConfig } from '../workspaceConfig';
import { profilesWithBackups, readCatalogOrProblem, type CatalogEntry } from './backupCatalog';
import { BackupLayout } from './backupLayout';
import { recordedBackupsFolder } from './backupsFolderMark';

/**
 * Backups in a folder this workspace used before backups.directory (or the VS Code setting) was
 * changed: the default folder in the workspace, and the folder outside it that it last backed up
 * into. They are not listed, pruned or restored by id from the folder set now; before, `backups` said
 * "No backups" beside them without a word, and a user could take them for lost.
 */
export interface BackupsElsewhere {
  /** The folder. */
  folder: string;
  /** `default`: the workspace's own .envprofiles/backups; `recorded`: the folder outside it that this workspace last backed up into. */
  was: 'default' | 'recorded';
  /** Per profile, the ids of its backups there (each catalog that can be read). */
  backups: Record<string, string[]>;
}

/** The folders other than `backups.root` that hold backups this workspace made, each with what it holds. */
export function backupsElsewhere(backups: BackupLayout): BackupsElsewhere[] {
  const layout = backups.workspace;
  const current = realLocation(backups.root);
  const candidates: { folder: string; was: BackupsElsewhere['was'] }[] = [{ folder: layout.resolve(defaultConfig().backups.directory), was: 'default' }];
  const recorded = recordedBackupsFolder(layout);
  if (recorded) candidates.push({ folder: recorded, was: 'recorded' });
  const found: BackupsElsewhere[] = [];
  for (const { folder, was } of candidates) {
    if (realLocation(folder) === current || found.some((f) => realLocation(f.folder) === realLocation(folder)) || !fs.existsSync(folder)) continue;
    const other = folderOf(backups, folder);
    const held: Record<string, string[]> = {};
    for (const profileId of profilesWithBackups(other)) {
      const entries: CatalogEntry[] = readCatalogOrProblem(other, profileId).entries;
      if (entries.length > 0) held[profileId] = entries.map((e) => e.id);
    }
    if (Object.keys(held).length > 0) found.push({ folder, was, backups: held });
  }
  return found;
}

/** A folder of backups elsewhere in words: "/x/backups (the default backups folder, in the workspace) holds 3 backups of dev, test". */
export function backupsElsewhereInWords(elsewhere: BackupsElsewhere): string {
  const count = backupCount(elsewhere);
  return `${elsewhere.folder} (${folderInWords(elsewhere.was)}) holds ${count} backup${count === 1 ? '' : 's'} of ${Object.keys(elsewhere.backups).join(', ')}`;
}

/** How many backups the folder holds (of every profile it lists). */
export function backupCount(elsewhere: BackupsElsewhere): number {
  return Object.values(elsewhere.backups).reduce((sum, ids) => sum + ids.length, 0);
}

/** Which folder it was, in words. */
export function folderInWords(was: BackupsElsewhere['was']): string {
  return was === 'default' ? 'the default backups folder, in the workspace' : 'the folder outside the workspace that this workspace last backed up into';
}

/** Where the archive of backup `id` is in a folder of backups elsewhere, if it is in one. */
export function archiveElsewhere(backups: BackupLayout, id: string): { archive: string; elsewhere: BackupsElsewhere } | undefined {
  for (const elsewhere of backupsElsewhere(backups)) {
    const profileId = Object.keys(elsewhere.backups).find((profile) => elsewhere.backups[profile].includes(id));
    if (profileId === undefined) continue;
    const archive = folderOf(backups, elsewhere.folder).archiveFile(profileId, id);
    if (fs.existsSync(archive)) return { archive, elsewhere };
  }
  return undefined;
}

/** The same workspace's backups, in `folder` instead. */
function folderOf(backups: BackupLayout, folder: string): BackupLayout {
  return new BackupLayout(backups.workspace, { ...backups.config, backups: { ...backups.config.backups, directory: folder } });
}
