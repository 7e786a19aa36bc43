import * as path from 'node:path';
import * as vscode from 'vscode';
import { ArchiveReader } from '../core/backup/archiveReader';
import { databaseRecordsOf, type DatabaseRecord } from '../core/backup/backupManifest';
import { backupDatabasesNow } from '../core/backup/renamedDatabases';
import type { FolderModel } from '../folderModel';
import { UserCancelled } from './commandServices';
import type { ChosenBackup } from './commandTargets';

interface DatabaseItem extends vscode.QuickPickItem {
  name: string;
}

/**
 * Asks which database of `backup` to restore over its profile. Each item says where a restore puts it:
 * its path in the profile now, under the name the profile gives it now where it was renamed since; one
 * the profile no longer lists comes last and says how to get it back (a restore over the profile refuses it).
 */
export async function pickDatabaseToRestore(folder: FolderModel, backup: ChosenBackup): Promise<string> {
  const pick = await vscode.window.showQuickPick(await databaseItems(folder, backup), { placeHolder: `Restore which database of ${backup.id}?`, matchOnDescription: true });
  if (!pick) throw new UserCancelled();
  return pick.name;
}

async function databaseItems(folder: FolderModel, backup: ChosenBackup): Promise<DatabaseItem[]> {
  const records = backup.archive ? await databaseRecordsIn(backup.archive) : undefined;
  // Without the manifest (the archive is gone or damaged), the names alone: the restore then says what is wrong.
  if (!records) return backup.databases.map((name) => ({ label: name, name }));
  const profile = folder.profile(backup.profileId);
  const now = backupDatabasesNow(folder.context.layout, records, profile);
  return [...now.filter((d) => d.listed), ...now.filter((d) => !d.listed)].map(({ record, nameNow, listed }) => {
    const name = record.logicalName;
    if (!listed) return { label: name, name, description: `${record.originalPath} · no longer in the profile`, detail: 'A restore over the profile leaves it out: restore the backup as a new profile to get it back.' };
    const target = profile?.databases[nameNow] ?? record.originalPath;
    const renamed = nameNow !== name ? ` · ${nameNow} in the profile now, restored as ${nameNow}` : '';
    const moved = path.normalize(target) !== path.normalize(record.originalPath) ? ` (at ${record.originalPath} when backed up)` : '';
    return { label: name, name, description: `${target}${moved}${renamed}` };
  });
}

async function databaseRecordsIn(archive: string): Promise<DatabaseRecord[] | undefined> {
  try {
    const reader = await ArchiveReader.open(archive);
    try {
      return databaseRecordsOf(reader.manifest);
    } finally {
      reader.close();
    }
  } catch {
    return undefined;
  }
}
