import * as os from 'node:os';
import * as path from 'node:path';
import { resolveWritten } from './homePath';
import { isInside } from './pathSafety';
import { STORE_FOLDER } from './storeFolder';

/** Where everything lives inside a workspace folder's `.envprofiles/`. */
export class WorkspaceLayout {
  readonly root: string;
  readonly storeDir: string;
  readonly profilesDir: string;
  readonly templatesDir: string;
  readonly journalDir: string;
  readonly configFile: string;
  readonly stateFile: string;
  readonly auditFile: string;
  readonly lockFile: string;
  readonly envBackupsDir: string;
  readonly gitignoreFile: string;
  /** Which backups folder outside the workspace it last backed up into, and the mark it left there. */
  readonly backupsFolderFile: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.storeDir = path.join(this.root, STORE_FOLDER);
    this.profilesDir = path.join(this.storeDir, 'profiles');
    this.templatesDir = path.join(this.storeDir, 'templates');
    this.journalDir = path.join(this.storeDir, 'journal');
    this.configFile = path.join(this.storeDir, 'config.yaml');
    this.stateFile = path.join(this.storeDir, 'state.json');
    this.auditFile = path.join(this.storeDir, 'audit.jsonl');
    this.lockFile = path.join(this.storeDir, 'lock');
    this.envBackupsDir = path.join(this.storeDir, 'env-backups');
    this.gitignoreFile = path.join(this.storeDir, '.gitignore');
    this.backupsFolderFile = path.join(this.storeDir, 'backups-folder.json');
  }

  /**
   * Why `folder` cannot hold backups: it is this tool's own folder, or one of those it keeps its files
   * in. Backups go into a folder per profile id there, so a profile named "journal" would put its
   * catalog among the journals, which recovery reads (and removes). Undefined for any other folder.
   */
  backupsFolderProblem(folder: string): string | undefined {
    if (folder === this.storeDir || [this.profilesDir, this.templatesDir, this.journalDir].some((dir) => isInside(dir, folder))) {
      return `${this.relative(folder)}: this tool keeps its own files there; use ${this.relative(path.join(this.storeDir, 'backups'))} or a folder of its own`;
    }
    // A folder per profile id in the workspace folder itself would mix backups with the user's files:
    // a profile named "data" or "src" put its archives and catalog.json among them.
    const ownFolder = `use ${this.relative(path.join(this.storeDir, 'backups'))} or a folder of its own`;
    if (folder === this.root) return `${folder} is the workspace folder itself, where backups would be mixed with your own files (a folder per profile id: a profile named like one of your folders would write into it); ${ownFolder}`;
    // So would a folder the workspace is in ("..", "/": a profile named like the workspace's own folder, or
    // a sibling project, would write its archives and catalog.json there) and the home folder.
    if (isInside(folder, this.root)) return `${folder} holds the workspace folder (${this.root}), so backups would be mixed with the files beside it (a folder per profile id: a profile named like one of the folders there, this workspace's included, would write into it); ${ownFolder}`;
    if (folder === os.homedir()) return `${folder} is your home folder, where backups would be mixed with your own files (a folder per profile id: a profile named like one of your folders would write into it); ${ownFolder}`;
    return undefined;
  }

  profileFile(id: string): string {
    return path.join(this.profilesDir, `${id}.yaml`);
  }

  /** A path relative to the workspace root, with forward slashes, for messages and manifests. */
  relative(absolute: string): string {
    const rel = path.relative(this.root, absolute);
    return rel.split(path.sep).join('/');
  }

  /** Resolves a path as written in a profile or config.yaml (workspace-relative, absolute, or under `~`) to an absolute one. */
  resolve(written: string): string {
    return resolveWritten(this.root, written);
  }
}
