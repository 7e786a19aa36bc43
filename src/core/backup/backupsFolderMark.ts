import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { EnvProfilesError } from '../errors';
import { ignoreInStore } from '../workspaceInit';
import type { WorkspaceLayout } from '../workspaceLayout';
import type { BackupLayout } from './backupLayout';
import { readFileIfRegular } from '../pathKind';
import { readJsonSteadily } from '../steadyRead';

/**
 * A backups folder outside the workspace may be the mount point of a disk. When the disk is not
 * mounted, that folder still exists, empty, on the disk below: backups would go there without a word,
 * and be hidden again once the disk is mounted over them. So the first backup into such a folder leaves
 * a mark file in it, and the workspace records the mark (`.envprofiles/backups-folder.json`): a folder
 * it has backed up into before that no longer holds its mark is not written to.
 */
export const MARK_FILE = '.envprofiles-backups-folder';
const MARK_FORMAT = 'envprofiles-backups-folder';

interface FolderRecord {
  directory: string;
  mark: string;
  markedAt: string;
}

function readMark(root: string): string | undefined {
  try {
    // Read again if it does not parse: the folder is often a USB stick (FAT), which through fusefat now
    // and then reads a file wrong for a moment (see readSteadily); a misread mark refuses the backup.
    const parsed = readJsonSteadily(path.join(root, MARK_FILE))?.value as { format?: unknown; id?: unknown } | null | undefined;
    return parsed?.format === MARK_FORMAT && typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

function readRecord(layout: WorkspaceLayout): FolderRecord | undefined {
  try {
    const parsed = JSON.parse(readFileIfRegular(layout.backupsFolderFile) ?? '') as Partial<FolderRecord>;
    if (typeof parsed.directory !== 'string' || typeof parsed.mark !== 'string') return undefined;
    return { directory: parsed.directory, mark: parsed.mark, markedAt: typeof parsed.markedAt === 'string' ? parsed.markedAt : 'an earlier backup' };
  } catch {
    return undefined;
  }
}

/** The folder outside the workspace this workspace last backed up into (see markBackupsFolder), if any is recorded. */
export function recordedBackupsFolder(layout: WorkspaceLayout): string | undefined {
  const record = readRecord(layout);
  return record ? path.resolve(record.directory) : undefined;
}

/** What a backup refused for an unmarked or missing folder says of its consequence. */
export const WRITE_REFUSED = 'If it is the mount point of a disk that is not mounted, the backups would go to the disk below instead. Nothing was written.';

/**
 * Why the backups folder is not the one this workspace has backed up into (its mark is gone, or it is
 * another's), as the error that refuses a command; undefined when it is, or when nothing says otherwise
 * (a folder inside the workspace, one never backed up into, one that does not exist). `consequence`
 * ends the message: what became of the command (by default, a backup's refusal).
 */
export function unmarkedFolderProblem(layout: WorkspaceLayout, backups: BackupLayout, consequence = WRITE_REFUSED): EnvProfilesError | undefined {
  if (!backups.isOutsideWorkspace() || !fs.existsSync(backups.root)) return undefined;
  const record = readRecord(layout);
  if (!record || path.resolve(record.directory) !== backups.root) return undefined;
  const mark = readMark(backups.root);
  if (mark === record.mark) return undefined;
  const config = layout.relative(layout.configFile);
  const what = mark === undefined ? `the mark this workspace left there (${MARK_FILE}, since ${record.markedAt}) is gone, and with it, most likely, the backups made there` : `its mark (${MARK_FILE}) is another folder's, not the one this workspace left there on ${record.markedAt}`;
  return new EnvProfilesError('BACKUPS_FOLDER_MISSING', `The backups folder ${backups.root} (backups.directory in ${config}) is not the one this workspace has backed up into: ${what}. ${consequence}`, {
    file: config,
    field: 'backups.directory',
    hint: `Mount the disk it is on, then run the command again. If the folder was emptied or replaced on purpose, remove ${layout.relative(layout.backupsFolderFile)} once, then run the command again.`,
  });
}

/** After a backup into a folder outside the workspace: leaves the mark there (once) and records it. */
export function markBackupsFolder(layout: WorkspaceLayout, backups: BackupLayout, now: Date): void {
  if (!backups.isOutsideWorkspace()) return;
  let mark = readMark(backups.root);
  if (mark === undefined) {
    const file = path.join(backups.root, MARK_FILE);
    // Created, never replaced ('wx'): two workspaces sharing the folder keep the first one's mark.
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      try {
        fs.writeFileSync(fd, `${JSON.stringify({ format: MARK_FORMAT, id: randomUUID(), createdAt: now.toISOString(), note: 'Left by Environment Profiles: it tells this folder from an empty mount point. Keep it.' }, null, 2)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    mark = readMark(backups.root);
    if (mark === undefined) return;
  }
  const record = readRecord(layout);
  if (record && path.resolve(record.directory) === backups.root && record.mark === mark) return;
  writeFileAtomic(layout.backupsFolderFile, `${JSON.stringify({ directory: backups.root, mark, markedAt: now.toISOString() }, null, 2)}\n`);
  ignoreInStore(layout, path.basename(layout.backupsFolderFile));
}
