import * as path from 'node:path';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceLayout } from '../workspaceLayout';

/** Where one workspace's backups live: `<backups dir>/<profile id>/<backup id>.zip` plus `catalog.json`. */
export class BackupLayout {
  readonly root: string;

  constructor(layout: WorkspaceLayout, config: WorkspaceConfig) {
    this.root = path.resolve(layout.root, config.backups.directory);
  }

  profileDir(profileId: string): string {
    return path.join(this.root, profileId);
  }

  catalogFile(profileId: string): string {
    return path.join(this.profileDir(profileId), 'catalog.json');
  }

  archiveFile(profileId: string, backupId: string): string {
    return path.join(this.profileDir(profileId), `${backupId}.zip`);
  }

  /** Scratch space for snapshots and rebuilt databases; its name marks it temporary. */
  stagingDir(profileId: string, purpose: string): string {
    return path.join(this.profileDir(profileId), `.${purpose}.envprofiles-tmp-${process.pid}-${Date.now().toString(36)}`);
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
