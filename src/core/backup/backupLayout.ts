import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import { isInside, realLocation } from '../pathSafety';
import { profileIdProblem } from '../safeNames';
import { temporaryFolderName } from '../atomicFile';
import { stagingFolderIn } from '../stagingFolder';
import { unmarkedFolderProblem } from './backupsFolderMark';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceLayout } from '../workspaceLayout';
import { shellArgument } from '../shellArgument';
import { backupGivenForProfile } from './backupGivenForProfile';

/** Where one workspace's backups live: `<backups dir>/<profile id>/<backup id>.zip` plus `catalog.json`. */
export class BackupLayout {
  readonly root: string;

  constructor(readonly workspace: WorkspaceLayout, readonly config: WorkspaceConfig) {
    this.root = workspace.resolve(config.backups.directory);
  }

  /** A profile's folder. An id that is not a safe name (`../profiles`) is refused: it would lead outside. */
  profileDir(profileId: string): string {
    const problem = profileIdProblem(profileId);
    if (problem) {
      const backup = backupGivenForProfile(profileId);
      throw new EnvProfilesError('PROFILE_NOT_FOUND', `No profile "${profileId}": ${backup?.problem ?? problem}.`, { kind: 'usage', hint: backup?.hint ?? 'Run "envprofiles list" to see the profiles, or "envprofiles backups" for every profile with backups.' });
    }
    return path.join(this.root, profileId);
  }

  /** Whether `id` is one of this workspace's profiles (its file is there), backed up or not. */
  isWorkspaceProfile(id: string): boolean {
    return !profileIdProblem(id) && fs.existsSync(this.workspace.profileFile(id));
  }

  catalogFile(profileId: string): string {
    return path.join(this.profileDir(profileId), 'catalog.json');
  }

  archiveFile(profileId: string, backupId: string): string {
    return path.join(this.profileDir(profileId), `${backupId}.zip`);
  }

  /**
   * Refuses to write backups when the folder is outside the workspace and does not exist. It is never
   * made there: on a disk that is not mounted, it would be made on the disk below the mount point, and
   * the backups would silently go there. (Inside the workspace it is made as needed.) Nor is a folder
   * written to that this workspace backed up into before but that lost its mark (an empty mount point).
   */
  requireRoot(): void {
    // config.yaml is checked for this when read; a VS Code setting can set the folder too.
    const own = this.workspace.backupsFolderProblem(this.root);
    if (own) throw new EnvProfilesError('CONFIG_INVALID', `The backups folder cannot be ${own}. Nothing was written.`, { field: 'backups.directory', hint: 'Set backups.directory in .envprofiles/config.yaml (or the envProfiles.backup.directory setting) to another folder, then run the command again.' });
    const unmarked = unmarkedFolderProblem(this.workspace, this);
    if (unmarked) throw unmarked;
    if (!this.isMissingOutside()) return;
    const config = this.workspace.relative(this.workspace.configFile);
    throw new EnvProfilesError('BACKUPS_FOLDER_MISSING', `The backups folder ${this.shownRoot(config)} does not exist. It is outside the workspace, so it is not created: if it is on a disk that is not mounted, the backups would go to the disk below instead. Nothing was written.`, {
      file: config,
      field: 'backups.directory',
      hint: `Mount the disk it is on; or, to start using that folder, create it once ("mkdir -p ${shellArgument(realLocation(this.root))}"), then run the command again.`,
    });
  }

  /**
   * Refuses a command that acts on the backups already made (a scrub, a prune) and found none, when
   * that is because the folder is not there: outside the workspace and missing, or without this
   * workspace's mark (a disk that is not mounted, either way). "Nothing to do" and exit 0 would let a
   * timetabled job pass for good while its disk is away. `outcome` says what did not happen
   * ("nothing was verified").
   */
  requireVisible(outcome: string): void {
    const unmarked = unmarkedFolderProblem(this.workspace, this, `${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}.`);
    if (unmarked) throw unmarked;
    if (!this.isMissingOutside()) return;
    const config = this.workspace.relative(this.workspace.configFile);
    throw new EnvProfilesError('BACKUPS_FOLDER_MISSING', `The backups folder ${this.shownRoot(config)} does not exist, so ${outcome}. It is outside the workspace: if it is on a disk that is not mounted, the backups are on that disk.`, {
      file: config,
      field: 'backups.directory',
      hint: `Mount the disk it is on (or correct backups.directory in ${config}), then run the command again.`,
    });
  }

  /**
   * Whether the backups folder lies outside the workspace folder (backups.directory may put it
   * anywhere) and does not exist: then it is never made (see requireRoot).
   */
  isMissingOutside(): boolean {
    return this.isOutsideWorkspace() && !fs.existsSync(this.root);
  }

  /**
   * Whether the folder really is outside the workspace: `.envprofiles/backups` may be a symbolic link to
   * another disk (before, one to a disk not mounted passed for a folder inside, and the backup failed
   * making it; one to a mount point was never marked).
   */
  isOutsideWorkspace(): boolean {
    return !isInside(realLocation(this.workspace.root), realLocation(this.root));
  }

  /** The folder as messages name it: where it is set, and where it leads when that is elsewhere (a symbolic link). */
  private shownRoot(config: string): string {
    const real = realLocation(this.root);
    return `${this.root} (backups.directory in ${config}${real === this.root ? '' : `; a symbolic link to ${real}`})`;
  }

  /**
   * Why no backup may show in the folder although there are some: it is outside the workspace and does
   * not exist, or it lost this workspace's mark (a disk that is not mounted, either way). For the
   * messages that would otherwise only say "no backups".
   */
  absence(): string | undefined {
    const kind = this.absenceKind();
    if (kind === undefined) return undefined;
    const what = kind === 'missing' ? 'does not exist' : 'is not the one this workspace backed up into (its mark is not there)';
    return `the backups folder ${this.root} ${what}: if it is on a disk that is not mounted, mount it`;
  }

  /** Which of the two absences (see `absence`), for callers that word it their own way. */
  absenceKind(): 'missing' | 'unmarked' | undefined {
    if (this.isMissingOutside()) return 'missing';
    return unmarkedFolderProblem(this.workspace, this) ? 'unmarked' : undefined;
  }

  /** Scratch space for snapshots and rebuilt databases; its name marks it temporary. */
  stagingDir(profileId: string, purpose: string): string {
    return path.join(this.profileDir(profileId), temporaryFolderName(purpose));
  }

  /**
   * Scratch space on disk (snapshots too large for memory, a restore's page indexes): in the profile's
   * backups folder, or in the system's temporary folder when that one cannot be written (a restore
   * from a read-only backup disk) or is on FUSE or a network disk (see stagingFolderIn).
   */
  scratchDir(profileId: string, purpose: string): string {
    return stagingFolderIn(this.profileDir(profileId), path.basename(this.stagingDir(profileId, purpose))).folder;
  }
}

/** A backup id (`<profile>.<stamp>.<kind>`) is one file name component: no separator, so it never leads a path elsewhere. */
export function isBackupId(id: unknown): id is string {
  return typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(id);
}

/** A backup id that sorts by time: `<profile>.<UTC stamp to the millisecond>.<full|incr>`. */
export function newBackupId(profileId: string, kind: 'full' | 'incremental', now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '-').replace('Z', 'Z');
  return `${profileId}.${stamp}.${kind === 'full' ? 'full' : 'incr'}`;
}

/** The end of a backup id that newBackupId writes: `.<UTC stamp>.<full|incr>`, the stamp's parts captured. */
const BACKUP_ID_ENDING = /\.(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)-(\d{3})Z\.(?:full|incr)$/;

/** The instant the stamp of a backup id names (see newBackupId), or undefined for an id without one. */
export function backupIdTime(id: string): number | undefined {
  const stamp = BACKUP_ID_ENDING.exec(id);
  if (!stamp) return undefined;
  const [year, month, day, hour, minute, second, millisecond] = stamp.slice(1).map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
}

/** The profile a backup id (see newBackupId) was made of, or undefined for an id without a stamp. */
export function backupIdProfile(id: string): string | undefined {
  const stamp = BACKUP_ID_ENDING.exec(id);
  return stamp ? id.slice(0, stamp.index) : undefined;
}
